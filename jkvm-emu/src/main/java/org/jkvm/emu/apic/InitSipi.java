package org.jkvm.emu.apic;

import java.util.Arrays;

import org.jkvm.emu.CpuModel;
import org.jkvm.emu.cpu.Cpu;

/**
 * What INIT and a STARTUP IPI do to the CPU itself (SDM vol. 3A 9.1.1 table 9-1 "IA-32 processor states following
 * power-up, reset, or INIT", and 8.4.4 "MP initialization example"). MSRs and the x87/SSE state are left as they
 * are; EFER is cleared, as KVM does, since the CPU leaves long mode.
 */
public final class InitSipi {
    private InitSipi() {}

    /** The INIT state: real mode at F000:FFF0 with CS base FFFF0000, caches off, EDX = the CPU signature. */
    public static void init(Cpu c) {
        Arrays.fill(c.r, 0);
        c.r[Cpu.RDX] = (CpuModel.FAMILY << 8) | (CpuModel.MODEL << 4) | CpuModel.STEPPING;
        c.rip = 0xfff0;
        c.setRflags(2);
        c.cr0 = Cpu.CR0_ET | Cpu.CR0_CD | Cpu.CR0_NW;
        c.cr2 = 0;
        c.cr3 = 0;
        c.cr4 = 0;
        c.cr8 = 0;
        c.efer = 0;
        for (int s = 0; s < 6; s++) {
            c.segSel[s] = 0;
            c.segBase[s] = 0;
            c.segLimit[s] = 0xffff;
            c.segAr[s] = 0x93;
        }
        c.segSel[Cpu.CS] = 0xf000;
        c.segBase[Cpu.CS] = 0xffff0000L;
        c.segAr[Cpu.CS] = 0x9b;
        c.gdtBase = 0;
        c.gdtLimit = 0xffff;
        c.idtBase = 0;
        c.idtLimit = 0xffff;
        c.ldtSel = 0;
        c.ldtBase = 0;
        c.ldtLimit = 0xffff;
        c.ldtAr = 0x82;
        c.trSel = 0;
        c.trBase = 0;
        c.trLimit = 0xffff;
        c.trAr = 0x8b;
        Arrays.fill(c.dr, 0);
        c.dr[6] = 0xffff0ff0L;
        c.dr[7] = 0x400;
        c.interruptShadow = false;
        c.mmu.flushAll();
        c.recomputeMode();
    }

    /** A STARTUP IPI with vector {@code v}: real mode at CS = v << 8 (base v << 12), IP = 0. */
    public static void startup(Cpu c, int v) {
        c.segSel[Cpu.CS] = (v & 0xff) << 8;
        c.segBase[Cpu.CS] = (long) (v & 0xff) << 12;
        c.segLimit[Cpu.CS] = 0xffff;
        c.segAr[Cpu.CS] = 0x9b;
        c.rip = 0;
        c.recomputeMode();
    }
}
