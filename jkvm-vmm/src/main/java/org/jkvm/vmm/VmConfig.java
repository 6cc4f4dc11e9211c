package org.jkvm.vmm;

import java.nio.file.Path;
import java.util.Optional;

/**
 * What the user asked for: the kernel and its boot inputs, vCPUs, RAM, and what a guest reboot does.
 *
 * @param memoryBytes guest RAM; validated by {@link org.jkvm.memory.PcMemoryLayout#of}
 */
public record VmConfig(Path kernel, Optional<Path> initrd, String cmdline, int cpus, long memoryBytes,
                       RebootAction reboot) {
    /** What happens when the guest resets the machine. */
    public enum RebootAction {
        /** jkvm exits with status 0, as QEMU's -no-reboot. */
        EXIT,
        /** The VM is rebuilt from its configuration and boots again. */
        RESTART
    }

    public VmConfig {
        if (cpus < 1) {
            throw new IllegalArgumentException("--cpus must be at least 1");
        }
    }
}
