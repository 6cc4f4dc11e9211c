package org.jkvm.vmm.vstate;

import org.jkvm.hypervisor.IoHandler;
import org.jkvm.hypervisor.Regs;
import org.jkvm.hypervisor.Sregs;
import org.jkvm.hypervisor.Vcpu;
import org.jkvm.hypervisor.VcpuExit;
import org.jkvm.vmm.ExitStatus;

/**
 * The loop one vCPU's platform thread runs: {@link Vcpu#run} until the VM stops, turning each exit into a VM-level
 * outcome (power-off, reset, crash) reported through {@link Outcome}. Port and MMIO exits never get here: the
 * backend completes them through the {@link IoHandler}.
 */
public final class VcpuRunner implements Runnable {
    /** Where a vCPU reports how the VM ends, and how it learns that it should stop. */
    public interface Outcome {
        boolean stopping();

        void finish(ExitStatus status);

        /** Blocks until the VM stops (a halted vCPU with nothing to wake it). */
        void awaitStop() throws InterruptedException;
    }

    private final Vcpu vcpu;
    private final IoHandler io;
    private final Outcome outcome;

    public VcpuRunner(Vcpu vcpu, IoHandler io, Outcome outcome) {
        this.vcpu = vcpu;
        this.io = io;
        this.outcome = outcome;
    }

    @Override
    public void run() {
        try {
            while (!outcome.stopping()) {
                VcpuExit exit = vcpu.run(io);
                switch (exit) {
                    case INTERRUPTED -> { }
                    case HLT -> outcome.awaitStop(); // the backend has no interrupt source that could wake it
                    case SYSTEM_SHUTDOWN -> outcome.finish(ExitStatus.powerOff("guest powered off"));
                    case SYSTEM_RESET -> outcome.finish(ExitStatus.reset("guest reset"));
                    case SHUTDOWN -> outcome.finish(ExitStatus.crash(describe("triple fault")));
                    case INTERNAL_ERROR, FAIL_ENTRY -> outcome.finish(ExitStatus.crash(describe(vcpu.lastExitDetail())));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable t) {
            outcome.finish(ExitStatus.crash("vCPU " + vcpu.index() + ": " + t));
        }
    }

    /** "vCPU 0: triple fault at RIP=0x..., CS=..., CR0=..." with as much state as can still be read. */
    private String describe(String reason) {
        StringBuilder sb = new StringBuilder("vCPU ").append(vcpu.index()).append(": ").append(reason);
        try {
            Regs r = vcpu.getRegs();
            Sregs s = vcpu.getSregs();
            sb.append(String.format(" at RIP=0x%x (CS=0x%x base 0x%x, RSP=0x%x, RFLAGS=0x%x, CR0=0x%x, CR3=0x%x,"
                            + " CR4=0x%x, EFER=0x%x)", r.rip(), s.cs().selector(), s.cs().base(), r.rsp(),
                    r.rflags(), s.cr0(), s.cr3(), s.cr4(), s.efer()));
        } catch (RuntimeException e) {
            sb.append(" (registers unreadable: ").append(e.getMessage()).append(')');
        }
        return sb.toString();
    }
}
