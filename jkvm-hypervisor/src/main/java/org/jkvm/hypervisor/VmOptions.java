package org.jkvm.hypervisor;

/**
 * What the VMM asks of a backend when creating a VM.
 *
 * @param vcpuCount number of vCPUs the VM will have
 */
public record VmOptions(int vcpuCount) {
    public VmOptions {
        if (vcpuCount < 1) {
            throw new IllegalArgumentException("a VM needs at least one vCPU");
        }
    }
}
