package org.jkvm.loader;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

import org.jkvm.memory.PcMemoryLayout;

/**
 * What the user asks the loader for: the guest's memory layout, the kernel command line, an optional initrd (for
 * multiboot: module 0) and the guest-physical address of the ACPI RSDP (0 when the VMM builds no ACPI tables).
 */
public record BootConfig(PcMemoryLayout layout, String cmdline, Optional<Path> initrd, long acpiRsdpGpa) {
    public BootConfig {
        Objects.requireNonNull(layout, "layout");
        Objects.requireNonNull(cmdline, "cmdline");
        Objects.requireNonNull(initrd, "initrd");
        if (acpiRsdpGpa < 0) {
            throw new IllegalArgumentException("negative ACPI RSDP address 0x" + Long.toHexString(acpiRsdpGpa));
        }
    }
}
