package org.jkvm.emu.cpu;

/**
 * Far JMP, far CALL, far RET and IRET (SDM vol. 2 JMP/CALL/RET/IRET operation sections; vol. 3A 5.8 and 6.14.3
 * "IRET in IA-32e mode"): what real-mode to protected-mode to long-mode switches and interrupt returns need. Same
 * privilege transfers to code segments and returns to an outer privilege are supported; call gates and task switches
 * raise #GP.
 */
public final class FarTransfers {
    private FarTransfers() {}

    public static void jmpFar(Cpu c, int sel, long offset) {
        if (!Segments.protectedMode(c)) {
            Segments.loadCsReal(c, sel);
            c.rip = offset;
            return;
        }
        long desc = Segments.codeDescriptor(c, sel, c.cpl);
        checkSamePrivilege(c, sel, desc);
        Segments.loadCs(c, sel, desc, c.cpl);
        c.rip = c.long64 ? offset : offset & 0xffffffffL;
    }

    public static void callFar(Cpu c, int size, int sel, long offset) {
        if (!Segments.protectedMode(c)) {
            c.push(size, c.segSel[Cpu.CS]);
            c.push(size, c.rip);
            Segments.loadCsReal(c, sel);
            c.rip = offset;
            return;
        }
        long desc = Segments.codeDescriptor(c, sel, c.cpl);
        checkSamePrivilege(c, sel, desc);
        long savedSp = c.r[Cpu.RSP];
        try {
            c.push(size, c.segSel[Cpu.CS]);
            c.push(size, c.rip);
        } catch (CpuFault f) {
            c.r[Cpu.RSP] = savedSp;
            throw f;
        }
        Segments.loadCs(c, sel, desc, c.cpl);
        c.rip = c.long64 ? offset : offset & 0xffffffffL;
    }

    private static void checkSamePrivilege(Cpu c, int sel, long desc) {
        int ar = Segments.descAr(desc);
        int dpl = (ar >>> 5) & 3;
        boolean conforming = (ar & 4) != 0;
        if (conforming ? dpl > c.cpl : (dpl != c.cpl || (sel & 3) > c.cpl)) {
            throw c.fault(CpuFault.GP, sel & 0xfffc);
        }
    }

    public static void retFar(Cpu c, int size, int extra) {
        long off = c.peek(size, 0);
        int sel = (int) c.peek(size, size) & 0xffff;
        if (!Segments.protectedMode(c)) {
            c.setSp(c.r[Cpu.RSP] + 2L * size + extra, c.stackSize());
            Segments.loadCsReal(c, sel);
            c.rip = off & Flags.mask(size);
            return;
        }
        int rpl = sel & 3;
        if (rpl < c.cpl) {
            throw c.fault(CpuFault.GP, sel & 0xfffc);
        }
        long desc = Segments.codeDescriptor(c, sel, rpl);
        if (rpl == c.cpl) {
            c.setSp(c.r[Cpu.RSP] + 2L * size + extra, c.stackSize());
            Segments.loadCs(c, sel, desc, rpl);
            c.rip = off & Flags.mask(size);
            return;
        }
        long newSp = c.peek(size, 2L * size + extra);
        int newSs = (int) c.peek(size, 3L * size + extra) & 0xffff;
        Segments.loadCs(c, sel, desc, rpl);
        Segments.loadSsForCpl(c, newSs, rpl);
        c.setSp(newSp + extra, c.stackSize());
        c.rip = off & Flags.mask(size);
        clearDataSegmentsForOuter(c);
    }

    /** IRET/IRETD/IRETQ. */
    public static void iret(Cpu c, int size) {
        if (!Segments.protectedMode(c)) {
            long ip = c.peek(size, 0);
            int cs = (int) c.peek(size, size) & 0xffff;
            long fl = c.peek(size, 2L * size);
            c.setSp(c.r[Cpu.RSP] + 3L * size, c.stackSize());
            Segments.loadCsReal(c, cs);
            c.rip = ip & Flags.mask(size);
            long keep = size == 2 ? ~0xffffL : Cpu.VM | Cpu.VIF | Cpu.VIP;
            SystemOps.writeFlags(c, (c.getRflags() & keep) | (fl & ~keep), 0);
            return;
        }
        if ((c.rflagsRest & Cpu.NT) != 0 && (c.efer & Cpu.EFER_LMA) == 0) {
            c.internalError("IRET with NT set (task return) is not implemented");
            return;
        }
        long ip = c.peek(size, 0);
        int cs = (int) c.peek(size, size) & 0xffff;
        long fl = c.peek(size, 2L * size);
        if (size == 2) {
            fl = (c.getRflags() & ~0xffffL) | (fl & 0xffff);
        }
        int rpl = cs & 3;
        if (rpl < c.cpl) {
            throw c.fault(CpuFault.GP, cs & 0xfffc);
        }
        if ((fl & Cpu.VM) != 0 && c.cpl == 0 && !c.long64) {
            c.internalError("IRET to virtual-8086 mode is not implemented");
            return;
        }
        long desc = Segments.codeDescriptor(c, cs, rpl);
        boolean popStack = c.long64 || rpl != c.cpl;
        int oldCpl = c.cpl;
        if (popStack) {
            long sp = c.peek(size, 3L * size);
            int ss = (int) c.peek(size, 4L * size) & 0xffff;
            Segments.loadCs(c, cs, desc, rpl);
            // SS is checked at the new privilege; a null SS is allowed on a return to 64-bit mode below CPL 3.
            Segments.loadSsForCpl(c, ss, rpl);
            c.segSel[Cpu.SS] = ss;
            c.rip = c.long64 ? ip : ip & 0xffffffffL;
            c.setSp(sp, c.long64 ? 8 : c.stackSize());
        } else {
            c.setSp(c.r[Cpu.RSP] + 3L * size, c.stackSize());
            Segments.loadCs(c, cs, desc, rpl);
            c.rip = c.long64 ? ip : ip & 0xffffffffL;
        }
        SystemOps.writeFlags(c, fl, oldCpl);
        if (rpl > oldCpl) {
            clearDataSegmentsForOuter(c);
        }
    }

    /** On a return to an outer privilege, data segments the new CPL may not use become null (SDM RET operation). */
    private static void clearDataSegmentsForOuter(Cpu c) {
        for (int s : new int[] {Cpu.ES, Cpu.DS, Cpu.FS, Cpu.GS}) {
            int ar = c.segAr[s];
            boolean conformingCode = (ar & 0x1c) == 0x1c;
            if ((ar & Cpu.AR_UNUSABLE) == 0 && !conformingCode && ((ar >>> 5) & 3) < c.cpl) {
                c.segSel[s] = 0;
                c.segAr[s] = Cpu.AR_UNUSABLE;
            }
        }
        c.recomputeMode();
    }
}
