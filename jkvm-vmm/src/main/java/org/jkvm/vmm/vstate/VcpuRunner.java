package org.jkvm.vmm.vstate;

import org.jkvm.hypervisor.IoHandler;
import org.jkvm.hypervisor.Regs;
import org.jkvm.hypervisor.Sregs;
import org.jkvm.hypervisor.Vcpu;
import org.jkvm.hypervisor.VcpuExit;
import org.jkvm.sys.Libc;
import org.jkvm.vmm.ExitStatus;
import org.jkvm.vmm.ShutdownCause;

/**
 * The loop one vCPU's platform thread runs: {@link Vcpu#run} until the VM stops, turning each exit into a VM-level
 * outcome (power-off, reset, crash) reported through {@link Outcome}. Port and MMIO exits never get here: the
 * backend completes them through the {@link IoHandler}. Before each run it checks the {@link VcpuGate} (one
 * volatile read) and parks there while the VM is paused.
 */
public final class VcpuRunner implements Runnable {
    /** Where a vCPU reports how the VM ends, and its host thread. */
    public interface Outcome {
        void finish(ExitStatus status);

        /** The vCPU's thread started; {@code tid} is its kernel thread id. */
        void started(int vcpuIndex, int tid);
    }

    private final Vcpu vcpu;
    private final IoHandler io;
    private final VcpuGate gate;
    private final Outcome outcome;

    public VcpuRunner(Vcpu vcpu, IoHandler io, VcpuGate gate, Outcome outcome) {
        this.vcpu = vcpu;
        this.io = io;
        this.gate = gate;
        this.outcome = outcome;
    }

    @Override
    public void run() {
        gate.threadStarted();
        try {
            outcome.started(vcpu.index(), Libc.gettid());
            while (!gate.stopping()) {
                if (gate.holding()) {
                    gate.park();
                    continue;
                }
                VcpuExit exit = vcpu.run(io);
                switch (exit) {
                    case INTERRUPTED -> { }
                    case HLT -> gate.idle(); // the backend has no interrupt source that could wake it
                    case SYSTEM_SHUTDOWN -> outcome.finish(ExitStatus.powerOff("guest powered off"));
                    case SYSTEM_RESET -> outcome.finish(ExitStatus.reset("guest reset"));
                    case SHUTDOWN -> outcome.finish(new ExitStatus(ExitStatus.GUEST_CRASH, describe("triple fault"),
                            false, ShutdownCause.GUEST_RESET));
                    case INTERNAL_ERROR, FAIL_ENTRY -> outcome.finish(ExitStatus.crash(describe(vcpu.lastExitDetail())));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable t) {
            outcome.finish(ExitStatus.crash("vCPU " + vcpu.index() + ": " + t));
        } finally {
            gate.threadEnded();
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
