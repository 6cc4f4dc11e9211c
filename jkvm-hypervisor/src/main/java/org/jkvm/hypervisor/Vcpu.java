package org.jkvm.hypervisor;

import java.util.List;

/**
 * One virtual CPU. {@link #run} is called only from the vCPU's own thread; {@link #kick} from any thread. State
 * accessors take and return plain records in the same form as KVM's structures (kvm_regs, kvm_sregs, kvm_fpu,
 * kvm_msrs, kvm_mp_state), so a state can move between backends.
 */
public interface Vcpu extends AutoCloseable {
    int index();

    /**
     * Runs guest code. Port and MMIO accesses the backend cannot complete itself are handed to {@code io}
     * synchronously on this thread; the call returns on the first exit that is not I/O, or when {@link #kick} was
     * called (possibly before this call began).
     */
    VcpuExit run(IoHandler io);

    /** Makes a running or about-to-run {@link #run} return {@link VcpuExit#INTERRUPTED} promptly. Thread-safe. */
    void kick();

    /** Human-readable details of the last exit that was an error (internal error, failed entry, emulation failure). */
    String lastExitDetail();

    Regs getRegs();

    void setRegs(Regs regs);

    Sregs getSregs();

    void setSregs(Sregs sregs);

    Fpu getFpu();

    void setFpu(Fpu fpu);

    /** Reads the MSRs with the given indices. */
    List<MsrEntry> getMsrs(int... indices);

    void setMsrs(List<MsrEntry> msrs);

    void setCpuid(List<CpuidEntry> entries);

    MpState getMpState();

    void setMpState(MpState state);

    /** The local APIC's registers (KVM_GET_LAPIC). Only while the vCPU is stopped. */
    default org.jkvm.hypervisor.state.LapicState getLapic() {
        throw new UnsupportedOperationException("this backend has no local APIC state");
    }

    /** Loads the local APIC's registers (KVM_SET_LAPIC); IA32_APIC_BASE (in the sregs) first. */
    default void setLapic(org.jkvm.hypervisor.state.LapicState state) {
        throw new UnsupportedOperationException("this backend has no local APIC state");
    }

    /** Pending and half-delivered events (KVM_GET_VCPU_EVENTS). */
    default org.jkvm.hypervisor.state.VcpuEvents getEvents() {
        throw new UnsupportedOperationException("this backend has no event state");
    }

    /**
     * Loads pending events (KVM_SET_VCPU_EVENTS).
     *
     * @throws HypervisorException when the backend cannot represent them (an injection in flight on emu)
     */
    default void setEvents(org.jkvm.hypervisor.state.VcpuEvents events) {
        throw new UnsupportedOperationException("this backend has no event state");
    }

    /** The MSRs this backend can save and restore, in the order they must be restored (TSC first). */
    default int[] stateMsrIndices() {
        return new int[0];
    }

    /** The XSAVE area (KVM_GET_XSAVE, 4 KiB) when the backend keeps state beyond the FPU/SSE one, else null. */
    default byte[] getXsave() {
        return null;
    }

    /** Loads an XSAVE area from {@link #getXsave} of the same backend (KVM_SET_XSAVE). */
    default void setXsave(byte[] area) {
        throw new UnsupportedOperationException("this backend has no XSAVE state");
    }

    /** The guest TSC frequency in kHz (KVM_GET_TSC_KHZ). */
    default long tscKhz() {
        return 0;
    }

    @Override
    void close();
}
