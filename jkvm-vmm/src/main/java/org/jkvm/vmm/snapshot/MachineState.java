package org.jkvm.vmm.snapshot;

import java.util.List;

/**
 * What the VM was built from, so a restore builds the same machine: vCPU count, RAM size, the backend that saved it
 * ({@code kvm} or {@code emu}), the kernel and command line it booted (for information: RAM already holds them),
 * its disks, whether it had a virtio-rng, and its virtio-console (kind and path, or null).
 */
public record MachineState(int cpus, long memoryBytes, String backend, String kernel, String cmdline,
                           List<DiskState> disks, boolean rng, String consoleKind, String consolePath) {
    public MachineState {
        if (cpus < 1 || cpus > 255 || memoryBytes <= 0 || backend == null || disks == null) {
            throw new IllegalArgumentException("machine state out of range: " + cpus + " vCPUs, " + memoryBytes
                    + " bytes of RAM");
        }
        disks = List.copyOf(disks);
    }
}
