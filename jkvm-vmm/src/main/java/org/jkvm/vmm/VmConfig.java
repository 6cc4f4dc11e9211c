package org.jkvm.vmm;

import java.nio.file.Path;
import java.util.Optional;

/**
 * What the user asked for: the kernel and its boot inputs, vCPUs, RAM, and what a guest reboot does.
 *
 * @param memoryBytes guest RAM; validated by {@link org.jkvm.memory.PcMemoryLayout#of}
 * @param disks       virtio-blk disks, in PCI slot order (slot 1 first)
 * @param rng         a virtio-rng device (the host's getrandom) after the disks
 * @param console     a virtio-console device (hvc0) after the rng, to a socket or a file
 * @param nets        virtio-net devices on TAPs, after the console
 */
public record VmConfig(Path kernel, Optional<Path> initrd, String cmdline, int cpus, long memoryBytes,
                       RebootAction reboot, java.util.List<org.jkvm.block.DiskConfig> disks, boolean rng,
                       Optional<org.jkvm.console.ConsoleConfig> console, java.util.List<org.jkvm.net.NetConfig> nets) {
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
        disks = java.util.List.copyOf(disks);
        nets = java.util.List.copyOf(nets);
        if (disks.size() + (rng ? 1 : 0) + (console.isPresent() ? 1 : 0) + nets.size() > MAX_DISKS) {
            throw new IllegalArgumentException("at most " + MAX_DISKS + " PCI devices (slots 1-31)");
        }
    }

    /** A VM without NICs. */
    public VmConfig(Path kernel, Optional<Path> initrd, String cmdline, int cpus, long memoryBytes,
                    RebootAction reboot, java.util.List<org.jkvm.block.DiskConfig> disks, boolean rng,
                    Optional<org.jkvm.console.ConsoleConfig> console) {
        this(kernel, initrd, cmdline, cpus, memoryBytes, reboot, disks, rng, console, java.util.List.of());
    }

    /** A VM with {@code disks} and no other PCI device. */
    public VmConfig(Path kernel, Optional<Path> initrd, String cmdline, int cpus, long memoryBytes,
                    RebootAction reboot, java.util.List<org.jkvm.block.DiskConfig> disks) {
        this(kernel, initrd, cmdline, cpus, memoryBytes, reboot, disks, false, Optional.empty());
    }

    /** PCI bus 0 has 32 slots; the host bridge takes slot 0. */
    public static final int MAX_DISKS = 31;

    /** A VM without disks. */
    public VmConfig(Path kernel, Optional<Path> initrd, String cmdline, int cpus, long memoryBytes,
                    RebootAction reboot) {
        this(kernel, initrd, cmdline, cpus, memoryBytes, reboot, java.util.List.of());
    }
}
