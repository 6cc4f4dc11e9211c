package org.jkvm.emu;

import java.util.ArrayList;
import java.util.List;

import org.jkvm.emu.cpu.Cpu;
import org.jkvm.emu.cpu.CpuidTable;
import org.jkvm.emu.cpu.Interpreter;
import org.jkvm.emu.cpu.Mmu;
import org.jkvm.emu.cpu.Msrs;
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
import org.jkvm.memory.MemoryRegion;

/**
 * One vCPU of the software CPU. State moves in and out in KVM's form (kvm_regs, kvm_sregs, kvm_fpu, kvm_msrs,
 * kvm_mp_state), so the VMM drives it exactly like a KVM vCPU. {@link #run} interprets guest code until HLT, a triple
 * fault, an internal error or {@link #kick}; port and MMIO accesses go to the {@link IoHandler} synchronously.
 *
 * <p>vCPUs other than 0 start UNINITIALIZED (waiting for INIT/SIPI, which needs the not-yet-written local APIC) and
 * their {@code run} returns {@link VcpuExit#HLT} at once.
 */
public final class EmuVcpu implements Vcpu {
    private final int index;
    private final Mmu mmu;
    private final Cpu cpu;
    private final Interpreter interp;
    private volatile MpState mpState;
    private Fpu fpu = Fpu.initial();
    private String lastExitDetail = "";

    EmuVcpu(int index, List<MemoryRegion> regions, Object lockMonitor) {
        this.index = index;
        this.mmu = new Mmu(regions);
        this.cpu = new Cpu(mmu, new CpuidTable(CpuModel.cpuid()), lockMonitor);
        this.interp = new Interpreter(cpu);
        this.mpState = index == 0 ? MpState.RUNNABLE : MpState.UNINITIALIZED;
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
        if (mpState == MpState.UNINITIALIZED || mpState == MpState.INIT_RECEIVED) {
            return VcpuExit.HLT;
        }
        mpState = MpState.RUNNABLE;
        cpu.io = io;
        int stop = interp.run();
        switch (stop) {
            case Cpu.STOP_HLT:
                return VcpuExit.HLT;
            case Cpu.STOP_SHUTDOWN:
                lastExitDetail = cpu.stopDetail;
                return VcpuExit.SHUTDOWN;
            case Cpu.STOP_INTERNAL:
                lastExitDetail = cpu.stopDetail;
                return VcpuExit.INTERNAL_ERROR;
            default:
                return VcpuExit.INTERRUPTED;
        }
    }

    @Override
    public void kick() {
        interp.kick();
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

    /** The x87/SSE state is stored but not yet used: the emulator has no FPU (CPUID does not advertise one). */
    @Override
    public Fpu getFpu() {
        return fpu;
    }

    @Override
    public void setFpu(Fpu fpu) {
        this.fpu = fpu;
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

    @Override
    public void setCpuid(List<CpuidEntry> entries) {
        cpu.cpuid.set(entries);
    }

    @Override
    public MpState getMpState() {
        return mpState;
    }

    @Override
    public void setMpState(MpState state) {
        mpState = state;
    }

    @Override
    public void close() {}
}
