package org.jkvm.hypervisor;

import java.util.List;

/**
 * An execution backend: something that runs guest x86-64 code. jkvm has two, {@code kvm} (Linux KVM through
 * /dev/kvm) and {@code emu} (jkvm's own software CPU). Devices, the loader and the VM lifecycle see only this
 * interface.
 */
public interface Hypervisor extends AutoCloseable {
    /** "kvm" or "emu". */
    String name();

    /**
     * The CPUID leaves this backend can present to a guest (KVM_GET_SUPPORTED_CPUID or the software CPU's model);
     * the VMM adjusts them per vCPU and hands them to {@link Vcpu#setCpuid}.
     */
    List<CpuidEntry> supportedCpuid();

    /** Creates a VM with an interrupt controller model (in-kernel on KVM). */
    Vm createVm(VmOptions options);

    @Override
    void close();
}
