package org.jkvm.emu;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

import org.jkvm.emu.apic.ApicBus;
import org.jkvm.emu.apic.InitSipi;
import org.jkvm.emu.apic.LocalApic;
import org.jkvm.emu.cpu.Cpu;
import org.jkvm.emu.cpu.CpuidTable;
import org.jkvm.emu.cpu.Interpreter;
import org.jkvm.emu.cpu.Mmu;
import org.jkvm.emu.cpu.Msrs;
import org.jkvm.emu.cpu.TscSync;
import org.jkvm.hypervisor.CpuidEntry;
import org.jkvm.hypervisor.DescriptorTable;
import org.jkvm.hypervisor.Fpu;
import org.jkvm.hypervisor.HypervisorException;
import org.jkvm.hypervisor.IoHandler;
import org.jkvm.hypervisor.MpState;
import org.jkvm.hypervisor.MsrEntry;
import org.jkvm.hypervisor.Regs;
import org.jkvm.hypervisor.Segment;
import org.jkvm.hypervisor.Sregs;
import org.jkvm.hypervisor.Vcpu;
import org.jkvm.hypervisor.VcpuExit;
import org.jkvm.hypervisor.state.LapicState;
import org.jkvm.hypervisor.state.VcpuEvents;
import org.jkvm.memory.MemoryRegion;

/**
 * One vCPU of the software CPU. State moves in and out in KVM's form (kvm_regs, kvm_sregs, kvm_fpu, kvm_msrs,
 * kvm_mp_state), so the VMM drives it exactly like a KVM vCPU. {@link #run} interprets guest code until a triple
 * fault, an internal error or {@link #kick}; port and MMIO accesses go to the {@link IoHandler} synchronously, except
 * the local APIC's page ({@link LocalApic}), which the vCPU serves itself.
 *
 * <p>Sleeping happens inside {@link #run}, as KVM's in-kernel LAPIC does it, with the thread parked (no polling):
 * <ul>
 *   <li>UNINITIALIZED (vCPUs other than 0 at creation) and INIT_RECEIVED: waits for INIT and then a STARTUP IPI,
 *       which starts it in real mode at CS = vector << 8, IP = 0 (a STARTUP without an INIT before it is ignored,
 *       as on KVM). Never returns {@link VcpuExit#HLT}.</li>
 *   <li>HALTED (after HLT; RIP points past it): wakes for an NMI, an INIT, or, with RFLAGS.IF = 1, a fixed
 *       interrupt above the processor priority, which is then delivered through the IDT/IVT.</li>
 * </ul>
 * {@code run} returns {@link VcpuExit#HLT} only for a HLT with IF = 0 and no NMI or INIT pending at that moment:
 * nothing the guest can still do on this vCPU wakes it, and the VMM parks the thread for good (so an NMI or INIT
 * another vCPU sends later is not acted on). {@link #kick} makes any wait return {@link VcpuExit#INTERRUPTED}; the
 * next {@code run} goes on waiting in the same state. {@link #setRegs} on a HALTED vCPU makes it RUNNABLE (the host
 * loaded a state to run from); {@link #setMpState} sets any state.
 */
public final class EmuVcpu implements Vcpu {
    private final int index;
    private final Mmu mmu;
    private final Cpu cpu;
    private final Interpreter interp;
    private final LocalApic apic;
    private volatile MpState mpState;
    private String lastExitDetail = "";

    EmuVcpu(int index, List<MemoryRegion> regions, Object lockMonitor, ApicBus apicBus) {
        this.index = index;
        this.mmu = new Mmu(regions);
        this.cpu = new Cpu(mmu, new CpuidTable(CpuModel.cpuid()), lockMonitor);
        this.interp = new Interpreter(cpu);
        this.apic = new LocalApic(index, cpu, interp, apicBus);
        apic.programLintAsFirmware();
        this.mpState = index == 0 ? MpState.RUNNABLE : MpState.UNINITIALIZED;
    }

    void shareTsc(TscSync sync) {
        cpu.tscSync = sync;
    }

    /** This vCPU's local APIC (APIC ID = vCPU index). */
    public LocalApic localApic() {
        return apic;
    }

    void setRegions(List<MemoryRegion> regions) {
        mmu.setRegions(regions);
        interp.flushBlocks();
    }

    @Override
    public int index() {
        return index;
    }

    /** Instructions retired so far (for statistics and benchmarks). */
    public long instructionsRetired() {
        return cpu.retired;
    }

    @Override
    public VcpuExit run(IoHandler io) {
        cpu.io = io;
        apic.bindThread(Thread.currentThread());
        while (true) {
            switch (mpState) {
                case UNINITIALIZED, INIT_RECEIVED, SIPI_RECEIVED -> {
                    if (!awaitStartup()) {
                        return VcpuExit.INTERRUPTED;
                    }
                }
                case HALTED -> {
                    VcpuExit e = awaitWake();
                    if (e != null) {
                        return e;
                    }
                }
                default -> {
                    int stop = interp.run();
                    switch (stop) {
                        case Cpu.STOP_HLT -> {
                            cpu.interruptShadow = false; // the shadowed instruction was the HLT
                            mpState = MpState.HALTED;
                        }
                        case LocalApic.STOP_INIT -> takeInit();
                        case Cpu.STOP_SHUTDOWN -> {
                            lastExitDetail = cpu.stopDetail;
                            return VcpuExit.SHUTDOWN;
                        }
                        case Cpu.STOP_INTERNAL -> {
                            lastExitDetail = cpu.stopDetail;
                            return VcpuExit.INTERNAL_ERROR;
                        }
                        default -> {
                            return VcpuExit.INTERRUPTED;
                        }
                    }
                }
            }
        }
    }

    /** INIT: the CPU and its APIC to their INIT state; the BSP restarts at the reset vector, APs wait for SIPI. */
    private void takeInit() {
        if (!apic.takeInit()) {
            return;
        }
        InitSipi.init(cpu);
        apic.resetForInit();
        mpState = (cpu.apicBase & (1L << 8)) != 0 ? MpState.RUNNABLE : MpState.INIT_RECEIVED;
    }

    /** Wait-for-SIPI: parks until INIT then STARTUP (true, now RUNNABLE) or a kick (false). */
    private boolean awaitStartup() {
        while (true) {
            if (interp.takeKick()) {
                return false;
            }
            interp.clear(Interpreter.ATTN_INTERRUPT);
            if (apic.initPending()) {
                takeInit();
                if (mpState == MpState.RUNNABLE) {
                    return true;
                }
            }
            int vector = apic.takeSipi();
            if (vector >= 0 && mpState == MpState.INIT_RECEIVED) {
                InitSipi.startup(cpu, vector);
                mpState = MpState.RUNNABLE;
                return true;
            }
            LockSupport.park(this);
        }
    }

    /**
     * HLT: parks until an event wakes the CPU (null: run on; pending events are serviced at the first instruction
     * boundary), a kick ({@code INTERRUPTED}), or returns {@code HLT} at once when nothing can wake it.
     */
    private VcpuExit awaitWake() {
        while (true) {
            if (interp.takeKick()) {
                return VcpuExit.INTERRUPTED;
            }
            interp.clear(Interpreter.ATTN_INTERRUPT);
            boolean interruptsOn = (cpu.rflagsRest & Cpu.IF) != 0;
            if (apic.initPending() || apic.nmiPending() || (interruptsOn && apic.maskableInterruptReady())) {
                interp.signal(Interpreter.ATTN_INTERRUPT);
                mpState = MpState.RUNNABLE;
                return null;
            }
            if (!interruptsOn) {
                return VcpuExit.HLT;
            }
            LockSupport.park(this);
        }
    }

    @Override
    public void kick() {
        interp.kick();
        apic.wake();
    }

    @Override
    public String lastExitDetail() {
        return lastExitDetail;
    }

    @Override
    public Regs getRegs() {
        long[] r = cpu.r;
        return new Regs(r[0], r[3], r[1], r[2], r[6], r[7], r[4], r[5], r[8], r[9], r[10], r[11], r[12], r[13],
                r[14], r[15], cpu.rip, cpu.getRflags());
    }

    @Override
    public void setRegs(Regs g) {
        long[] r = cpu.r;
        r[0] = g.rax();
        r[3] = g.rbx();
        r[1] = g.rcx();
        r[2] = g.rdx();
        r[6] = g.rsi();
        r[7] = g.rdi();
        r[4] = g.rsp();
        r[5] = g.rbp();
        r[8] = g.r8();
        r[9] = g.r9();
        r[10] = g.r10();
        r[11] = g.r11();
        r[12] = g.r12();
        r[13] = g.r13();
        r[14] = g.r14();
        r[15] = g.r15();
        cpu.rip = g.rip();
        cpu.rflagsRest = (g.rflags() & (Cpu.WRITABLE_FLAGS | Cpu.VM | Cpu.VIF | Cpu.VIP) & ~Cpu.ARITH_FLAGS) | 2;
        org.jkvm.emu.cpu.Flags.setArith(cpu, g.rflags());
        cpu.recomputeMode();
        if (mpState == MpState.HALTED) {
            mpState = MpState.RUNNABLE; // new registers from the host: run from them (setMpState can re-halt)
        }
    }

    private Segment segment(int sel, long base, long limit, int ar) {
        return new Segment(base, (int) limit, sel, ar & 0xf, (ar & 0x80) != 0, (ar >>> 5) & 3, (ar & (1 << 14)) != 0,
                (ar & 0x10) != 0, (ar & (1 << 13)) != 0, (ar & (1 << 15)) != 0, (ar & (1 << 12)) != 0,
                (ar & Cpu.AR_UNUSABLE) != 0);
    }

    private Segment seg(int s) {
        return segment(cpu.segSel[s], cpu.segBase[s], cpu.segLimit[s], cpu.segAr[s]);
    }

    @Override
    public Sregs getSregs() {
        return new Sregs(seg(Cpu.CS), seg(Cpu.DS), seg(Cpu.ES), seg(Cpu.FS), seg(Cpu.GS), seg(Cpu.SS),
                segment(cpu.trSel, cpu.trBase, cpu.trLimit, cpu.trAr),
                segment(cpu.ldtSel, cpu.ldtBase, cpu.ldtLimit, cpu.ldtAr),
                new DescriptorTable(cpu.gdtBase, cpu.gdtLimit), new DescriptorTable(cpu.idtBase, cpu.idtLimit),
                cpu.cr0, cpu.cr2, cpu.cr3, cpu.cr4, cpu.cr8, cpu.efer, cpu.apicBase, new long[4]);
    }

    private static int ar(Segment s) {
        return s.accessRights() | (s.unusable() ? Cpu.AR_UNUSABLE : 0);
    }

    private void setSeg(int n, Segment s) {
        cpu.segSel[n] = s.selector() & 0xffff;
        cpu.segBase[n] = s.base();
        cpu.segLimit[n] = Integer.toUnsignedLong(s.limit());
        cpu.segAr[n] = ar(s);
    }

    @Override
    public void setSregs(Sregs s) {
        setSeg(Cpu.CS, s.cs());
        setSeg(Cpu.DS, s.ds());
        setSeg(Cpu.ES, s.es());
        setSeg(Cpu.FS, s.fs());
        setSeg(Cpu.GS, s.gs());
        setSeg(Cpu.SS, s.ss());
        cpu.trSel = s.tr().selector();
        cpu.trBase = s.tr().base();
        cpu.trLimit = Integer.toUnsignedLong(s.tr().limit());
        cpu.trAr = ar(s.tr());
        cpu.ldtSel = s.ldt().selector();
        cpu.ldtBase = s.ldt().base();
        cpu.ldtLimit = Integer.toUnsignedLong(s.ldt().limit());
        cpu.ldtAr = ar(s.ldt());
        cpu.gdtBase = s.gdt().base();
        cpu.gdtLimit = s.gdt().limit() & 0xffff;
        cpu.idtBase = s.idt().base();
        cpu.idtLimit = s.idt().limit() & 0xffff;
        cpu.cr0 = s.cr0();
        cpu.cr2 = s.cr2();
        cpu.cr3 = s.cr3();
        cpu.cr4 = s.cr4();
        cpu.cr8 = s.cr8();
        cpu.efer = s.efer();
        cpu.apicBase = s.apicBase();
        mmu.flushAll();
        cpu.recomputeMode();
    }

    /** The x87/SSE state in kvm_fpu form (fpr in ST(i) order, abridged tag). */
    @Override
    public Fpu getFpu() {
        return cpu.fpu.toKvm();
    }

    @Override
    public void setFpu(Fpu fpu) {
        cpu.fpu.fromKvm(fpu);
    }

    @Override
    public List<MsrEntry> getMsrs(int... indices) {
        List<MsrEntry> out = new ArrayList<>(indices.length);
        for (int i : indices) {
            if (!Msrs.known(i)) {
                throw new HypervisorException("emu has no MSR 0x" + Integer.toHexString(i));
            }
            out.add(new MsrEntry(i, Msrs.read(cpu, i)));
        }
        return out;
    }

    @Override
    public void setMsrs(List<MsrEntry> msrs) {
        for (MsrEntry e : msrs) {
            if (!Msrs.known(e.index())) {
                throw new HypervisorException("emu has no MSR 0x" + Integer.toHexString(e.index()));
            }
            if (e.index() == Msrs.TSC) {
                // Host-initiated, as KVM_SET_MSRS: the TSC moves, TSC_ADJUST does not (restore sets both).
                cpu.tscOffset = cpu.tscSync.offsetForWrite(e.value());
                continue;
            }
            if (e.index() == Msrs.TSC_ADJUST) {
                cpu.tscAdjust = e.value();
                continue;
            }
            if (e.index() == Msrs.EFER) {
                // Host-side EFER writes set LMA too, as KVM_SET_MSRS does.
                cpu.efer = e.value();
                mmu.flushAll();
                cpu.recomputeMode();
                continue;
            }
            try {
                Msrs.write(cpu, e.index(), e.value());
            } catch (RuntimeException ex) {
                throw new HypervisorException("emu rejects MSR 0x" + Integer.toHexString(e.index()) + " = 0x"
                        + Long.toHexString(e.value()));
            }
        }
    }

    /** MSRs a snapshot carries, in restore order: the TSC first, IA32_TSC_DEADLINE after the local APIC's mode. */
    private static final int[] STATE_MSRS = {Msrs.TSC, Msrs.TSC_ADJUST, Msrs.SYSENTER_CS, Msrs.SYSENTER_ESP,
        Msrs.SYSENTER_EIP, Msrs.MISC_ENABLE, Msrs.PAT, Msrs.MTRR_DEF_TYPE, Msrs.STAR, Msrs.LSTAR, Msrs.CSTAR,
        Msrs.SFMASK, Msrs.KERNEL_GS_BASE, Msrs.TSC_AUX, Msrs.TSC_DEADLINE};

    @Override
    public int[] stateMsrIndices() {
        return STATE_MSRS.clone();
    }

    @Override
    public long tscKhz() {
        return 1_000_000; // the software TSC counts host nanoseconds
    }

    @Override
    public LapicState getLapic() {
        return apic.saveState();
    }

    @Override
    public void setLapic(LapicState state) {
        apic.restoreState(state);
    }

    /**
     * The software CPU stops only between instructions, so nothing is ever half-delivered: the events are the STI/MOV
     * SS shadow, a pending NMI and a pending STARTUP vector.
     */
    @Override
    public VcpuEvents getEvents() {
        int sipi = apic.sipiVectorState();
        return new VcpuEvents(false, 0, false, 0, false, 0, false, cpu.interruptShadow ? 1 : 0, false,
                apic.nmiPendingState(), false, Math.max(sipi, 0));
    }

    /**
     * Loads pending events. An exception, interrupt or NMI in mid-delivery (a KVM vCPU can stop so), or NMIs blocked
     * inside an NMI handler, have no equivalent here and are refused.
     */
    @Override
    public void setEvents(VcpuEvents e) {
        if (e.deliveryInFlight() || e.nmiMasked()) {
            throw new HypervisorException("the emu backend cannot take a vCPU stopped in the middle of delivering an"
                    + " event (exception " + e.exceptionInjected() + ", interrupt " + e.interruptInjected() + ", NMI "
                    + e.nmiInjected() + ", NMI masked " + e.nmiMasked() + ")");
        }
        cpu.interruptShadow = e.interruptShadow() != 0;
        boolean sipi = mpState == MpState.SIPI_RECEIVED;
        if (sipi) {
            mpState = MpState.INIT_RECEIVED; // emu waits in INIT_RECEIVED with the vector latched
        }
        apic.restoreLatches(e.nmiPending(), sipi ? e.sipiVector() : -1);
    }

    @Override
    public void setCpuid(List<CpuidEntry> entries) {
        cpu.cpuid.set(entries);
    }

    @Override
    public MpState getMpState() {
        MpState s = mpState;
        return s == MpState.INIT_RECEIVED && apic.sipiVectorState() >= 0 ? MpState.SIPI_RECEIVED : s;
    }

    @Override
    public void setMpState(MpState state) {
        mpState = state;
    }

    @Override
    public void close() {}
}
