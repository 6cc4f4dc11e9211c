package org.jkvm.vmm.snapshot;

import java.util.List;

/**
 * A whole VM at one instant, paused: the machine it was, every vCPU, the platform devices and PCI functions, and
 * when it was saved (host wall clock, ms). Guest RAM is not in here: it goes to its own file ({@link SnapshotFiles}).
 * The tree is untrusted on load; every record validates its fields and a restore checks it fits the machine built.
 */
public record VmState(MachineState machine, List<VcpuState> vcpus, PlatformState platform, PciState pci,
                      long savedAtMillis) {
    public VmState {
        if (machine == null || vcpus == null || platform == null || pci == null) {
            throw new IllegalArgumentException("VM state is incomplete");
        }
        vcpus = List.copyOf(vcpus);
        if (vcpus.size() != machine.cpus()) {
            throw new IllegalArgumentException("VM state has " + vcpus.size() + " vCPUs, its machine "
                    + machine.cpus());
        }
        for (int i = 0; i < vcpus.size(); i++) {
            if (vcpus.get(i).index() != i) {
                throw new IllegalArgumentException("vCPU states out of order at " + i);
            }
        }
    }
}
