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

    @Override
    void close();
}
