package org.jkvm.emu.cpu;

/**
 * Group 15 memory forms (0F AE /0-/3): FXSAVE, FXRSTOR (SDM vol. 2A FXSAVE table 3-53 "Non-64-bit-mode layout" and
 * 3-56 "64-bit-mode layout with REX.W"), LDMXCSR and STMXCSR. The fences and CLFLUSH stay in {@link SystemOps}.
 *
 * <p>FXSAVE writes bytes 0-415 (the reserved bytes inside that range as zero) and leaves 416-511 alone; in 64-bit
 * mode it saves XMM0-15, elsewhere XMM0-7. FXRSTOR refuses an MXCSR with bits outside {@link FpuState#MXCSR_MASK}
 * (#GP). Both need a 16-byte aligned operand (#GP) and raise #NM when CR0.TS or CR0.EM is set.
 */
final class FxSave {
    private FxSave() {}

    static void group15(Cpu c, Insn d) {
        int sub = d.reg & 7;
        if (!d.mem || sub > 3 || d.rep != 0) {
            SystemOps.exec(c, d);
            return;
        }
        FpuState f = c.fpu;
        if (sub >= 2) {
            Sse.check(c);
            long la = Executor.addr(c, d);
            if (sub == 2) {
                long v = c.mmu.read(la, 4);
                if ((v & ~FpuState.MXCSR_MASK) != 0) {
                    throw c.fault(CpuFault.GP, 0);
                }
                f.mxcsr = (int) v;
            } else {
                c.mmu.write(la, 4, f.mxcsr);
            }
            return;
        }
        if ((c.cr0 & (Cpu.CR0_TS | Cpu.CR0_EM)) != 0) {
            throw c.fault(CpuFault.NM);
        }
        long la = Executor.addr(c, d);
        if ((la & 15) != 0) {
            throw c.fault(CpuFault.GP, 0);
        }
        boolean w64 = d.osz == 8;
        int nxmm = c.long64 ? 16 : 8;
        if (sub == 0) {
            save(c, la, w64, nxmm);
        } else {
            restore(c, la, w64, nxmm);
        }
    }

    private static void save(Cpu c, long la, boolean w64, int nxmm) {
        FpuState f = c.fpu;
        c.mmu.probeWrite(la, 416);
        c.mmu.write(la, 2, f.fcw);
        c.mmu.write(la + 2, 2, f.statusWord());
        c.mmu.write(la + 4, 2, f.tags & 0xff);
        c.mmu.write(la + 6, 2, f.fop);
        if (w64) {
            c.mmu.write(la + 8, 8, f.fip);
            c.mmu.write(la + 16, 8, f.fdp);
        } else {
            c.mmu.write(la + 8, 4, f.fip);
            c.mmu.write(la + 12, 4, f.fcs & 0xffff);
            c.mmu.write(la + 16, 4, f.fdp);
            c.mmu.write(la + 20, 4, f.fds & 0xffff);
        }
        c.mmu.write(la + 24, 4, f.mxcsr);
        c.mmu.write(la + 28, 4, FpuState.MXCSR_MASK);
        for (int i = 0; i < 8; i++) {
            int p = f.phys(i);
            long a = la + 32 + 16L * i;
            c.mmu.write(a, 8, f.mant[p]);
            c.mmu.write(a + 8, 8, f.se[p] & 0xffff);
        }
        for (int i = 0; i < nxmm; i++) {
            c.mmu.write(la + 160 + 16L * i, 8, f.xmm[2 * i]);
            c.mmu.write(la + 168 + 16L * i, 8, f.xmm[2 * i + 1]);
        }
        for (long a = la + 160 + 16L * nxmm; a < la + 416; a += 8) {
            c.mmu.write(a, 8, 0);
        }
    }

    private static void restore(Cpu c, long la, boolean w64, int nxmm) {
        FpuState f = c.fpu;
        int mxcsr = (int) c.mmu.read(la + 24, 4);
        if ((mxcsr & ~FpuState.MXCSR_MASK) != 0) {
            throw c.fault(CpuFault.GP, 0);
        }
        // Read everything before changing state, so a #PF leaves the state as it was.
        c.mmu.read(la + 511, 1);
        f.fcw = (int) c.mmu.read(la, 2);
        f.setStatusWord((int) c.mmu.read(la + 2, 2));
        f.tags = (int) c.mmu.read(la + 4, 1);
        f.fop = (int) c.mmu.read(la + 6, 2) & 0x7ff;
        if (w64) {
            f.fip = c.mmu.read(la + 8, 8);
            f.fdp = c.mmu.read(la + 16, 8);
        } else {
            f.fip = c.mmu.read(la + 8, 4);
            f.fcs = (int) c.mmu.read(la + 12, 2);
            f.fdp = c.mmu.read(la + 16, 4);
            f.fds = (int) c.mmu.read(la + 20, 2);
        }
        f.mxcsr = mxcsr;
        for (int i = 0; i < 8; i++) {
            int p = f.phys(i);
            long a = la + 32 + 16L * i;
            f.mant[p] = c.mmu.read(a, 8);
            f.se[p] = (int) c.mmu.read(a + 8, 2);
        }
        for (int i = 0; i < nxmm; i++) {
            f.xmm[2 * i] = c.mmu.read(la + 160 + 16L * i, 8);
            f.xmm[2 * i + 1] = c.mmu.read(la + 168 + 16L * i, 8);
        }
    }
}
