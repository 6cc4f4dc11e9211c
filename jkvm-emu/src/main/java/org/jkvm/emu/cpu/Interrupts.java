package org.jkvm.emu.cpu;

/**
 * Exception and interrupt delivery (SDM vol. 3A ch. 6): the real-mode IVT (6.4 "Interrupt vector table" in 20.1.4),
 * 32-bit IDT interrupt and trap gates with a stack switch from the TSS on a privilege change (6.12.1), 64-bit IDT
 * gates with IST stacks and the aligned five-word frame (6.14), error codes, and double and triple faults (6.15
 * "Interrupt 8"). Task gates are not implemented (an internal error).
 */
public final class Interrupts {
    private Interrupts() {}

    /** INT n (or INT3/INTO/INT1 when {@code exception} is set): delivers with the next instruction as return RIP. */
    public static void software(Cpu c, int vector, boolean exception) {
        deliver(c, vector, false, 0, true);
    }

    /**
     * Raises an exception from the run loop (RIP already rolled back to the faulting instruction), promoting a fault
     * during delivery to #DF, and a fault during #DF delivery to a triple fault (shutdown).
     */
    public static void raise(Cpu c, int vector, boolean hasError, int error) {
        try {
            deliver(c, vector, hasError, error, false);
        } catch (CpuFault second) {
            int v2 = second.vector;
            if (vector == CpuFault.DF) {
                c.stop = Cpu.STOP_SHUTDOWN;
                c.stopDetail = "triple fault: exception " + v2 + " while delivering #DF";
                return;
            }
            boolean benign = !(contributory(v2) || v2 == CpuFault.PF);
            if (benign || (vector != CpuFault.PF && !contributory(vector))) {
                raise(c, v2, second.hasErrorCode, second.errorCode);
                return;
            }
            try {
                deliver(c, CpuFault.DF, true, 0, false);
            } catch (CpuFault third) {
                c.stop = Cpu.STOP_SHUTDOWN;
                c.stopDetail = "triple fault: exception " + third.vector + " while delivering #DF";
            }
        }
    }

    private static boolean contributory(int v) {
        return v == CpuFault.DE || (v >= CpuFault.TS && v <= CpuFault.GP);
    }

    /** Delivers {@code vector}; the return address is {@code c.rip}. May throw a nested {@link CpuFault}. */
    public static void deliver(Cpu c, int vector, boolean hasError, int error, boolean soft) {
        if ((c.cr0 & Cpu.CR0_PE) == 0) {
            deliverReal(c, vector);
        } else if ((c.efer & Cpu.EFER_LMA) != 0) {
            deliverLong(c, vector, hasError, error, soft);
        } else {
            deliverProtected(c, vector, hasError, error, soft);
        }
        c.interruptShadow = false;
    }

    private static void deliverReal(Cpu c, int vector) {
        long entry = c.idtBase + vector * 4L;
        if (vector * 4L + 3 > c.idtLimit) {
            throw c.fault(CpuFault.GP, 0);
        }
        long ivt = c.mmu.readSupervisor(entry, 4);
        c.push(2, c.getRflags());
        c.push(2, c.segSel[Cpu.CS]);
        c.push(2, c.rip);
        c.rflagsRest &= ~(Cpu.IF | Cpu.TF | Cpu.AC | Cpu.RF);
        Segments.loadCsReal(c, (int) (ivt >>> 16));
        c.rip = ivt & 0xffff;
    }

    private static int idtError(int vector, boolean soft) {
        return vector * 8 + 2 + (soft ? 0 : 1);
    }

    private static void deliverProtected(Cpu c, int vector, boolean hasError, int error, boolean soft) {
        if (vector * 8L + 7 > c.idtLimit) {
            throw c.fault(CpuFault.GP, idtError(vector, soft));
        }
        long gate = c.mmu.readSupervisor(c.idtBase + vector * 8L, 8);
        int type = (int) (gate >>> 40) & 0x1f;
        int gateDpl = (int) (gate >>> 45) & 3;
        if (type == 0x05) {
            c.internalError("task gate for vector " + vector + " is not implemented");
            return;
        }
        if (type != 0x0e && type != 0x0f && type != 0x06 && type != 0x07) {
            throw c.fault(CpuFault.GP, idtError(vector, soft));
        }
        if (soft && gateDpl < c.cpl) {
            throw c.fault(CpuFault.GP, idtError(vector, soft));
        }
        if ((gate & (1L << 47)) == 0) {
            throw c.fault(CpuFault.NP, idtError(vector, soft));
        }
        int size = (type & 8) != 0 ? 4 : 2;
        int sel = (int) (gate >>> 16) & 0xffff;
        long offset = (gate & 0xffff) | (((gate >>> 48) & 0xffff) << 16);
        long desc = Segments.codeDescriptor(c, sel, 0);
        int ar = Segments.descAr(desc);
        int newCpl = (ar & 4) != 0 ? c.cpl : (ar >>> 5) & 3;
        if (newCpl > c.cpl) {
            throw c.fault(CpuFault.GP, sel & 0xfffc);
        }
        long oldFlags = c.getRflags();
        int oldCs = c.segSel[Cpu.CS];
        long oldRip = c.rip;
        if (newCpl < c.cpl) {
            // Inner stack from the 32-bit TSS: ESP0 at +4, SS0 at +8 (per ring, 8 bytes apart).
            long espAt = c.trBase + 4 + newCpl * 8L;
            long newEsp = c.mmu.readSupervisor(espAt, 4);
            int newSs = (int) c.mmu.readSupervisor(espAt + 4, 2);
            int oldSs = c.segSel[Cpu.SS];
            long oldEsp = c.r[Cpu.RSP];
            long ssDesc = Segments.readDescriptor(c, newSs);
            long ssBase = Segments.descBase(ssDesc);
            long sp = newEsp & 0xffffffffL;
            int n = hasError ? 6 : 5;
            long[] frame = {oldSs, oldEsp, oldFlags, oldCs, oldRip, error};
            for (int k = 0; k < n; k++) {
                sp -= size;
                c.mmu.writeSupervisor((ssBase + (sp & 0xffffffffL)) & 0xffffffffL, size, frame[k]);
            }
            c.segSel[Cpu.SS] = newSs;
            c.segBase[Cpu.SS] = ssBase;
            c.segLimit[Cpu.SS] = Segments.descLimit(ssDesc);
            c.segAr[Cpu.SS] = Segments.descAr(ssDesc);
            Segments.loadCs(c, sel, desc, newCpl);
            c.setSp(sp, c.stackSize());
        } else {
            long savedSp = c.r[Cpu.RSP];
            try {
                c.push(size, oldFlags);
                c.push(size, oldCs);
                c.push(size, oldRip);
                if (hasError) {
                    c.push(size, error);
                }
            } catch (CpuFault f) {
                c.r[Cpu.RSP] = savedSp;
                throw f;
            }
            Segments.loadCs(c, sel, desc, newCpl);
        }
        c.rip = offset;
        c.rflagsRest &= ~(Cpu.TF | Cpu.NT | Cpu.RF | Cpu.VM);
        if ((type & 1) == 0) {
            c.rflagsRest &= ~Cpu.IF;
        }
    }

    private static void deliverLong(Cpu c, int vector, boolean hasError, int error, boolean soft) {
        if (vector * 16L + 15 > c.idtLimit) {
            throw c.fault(CpuFault.GP, idtError(vector, soft));
        }
        long lo = c.mmu.readSupervisor(c.idtBase + vector * 16L, 8);
        long hi = c.mmu.readSupervisor(c.idtBase + vector * 16L + 8, 8);
        int type = (int) (lo >>> 40) & 0x1f;
        int gateDpl = (int) (lo >>> 45) & 3;
        if (type != 0x0e && type != 0x0f) {
            throw c.fault(CpuFault.GP, idtError(vector, soft));
        }
        if (soft && gateDpl < c.cpl) {
            throw c.fault(CpuFault.GP, idtError(vector, soft));
        }
        if ((lo & (1L << 47)) == 0) {
            throw c.fault(CpuFault.NP, idtError(vector, soft));
        }
        int sel = (int) (lo >>> 16) & 0xffff;
        long offset = (lo & 0xffff) | (((lo >>> 48) & 0xffff) << 16) | ((hi & 0xffffffffL) << 32);
        int ist = (int) (lo >>> 32) & 7;
        long desc = Segments.codeDescriptor(c, sel, 0);
        int ar = Segments.descAr(desc);
        if ((ar & (1 << 13)) == 0 || (ar & (1 << 14)) != 0) {
            throw c.fault(CpuFault.GP, sel & 0xfffc);
        }
        int newCpl = (ar & 4) != 0 ? c.cpl : (ar >>> 5) & 3;
        if (newCpl > c.cpl) {
            throw c.fault(CpuFault.GP, sel & 0xfffc);
        }
        long oldFlags = c.getRflags();
        long sp;
        if (ist != 0) {
            sp = c.mmu.readSupervisor(c.trBase + 0x24 + (ist - 1) * 8L, 8);
        } else if (newCpl < c.cpl) {
            sp = c.mmu.readSupervisor(c.trBase + 4 + newCpl * 8L, 8);
        } else {
            sp = c.r[Cpu.RSP];
        }
        sp &= ~0xfL;
        long f0 = c.segSel[Cpu.SS], f1 = c.r[Cpu.RSP], f2 = oldFlags, f3 = c.segSel[Cpu.CS], f4 = c.rip;
        // Write the frame at the new privilege before changing any state, so a fault here leaves the CPU intact.
        sp -= 8;
        c.mmu.writeSupervisor(sp, 8, f0);
        sp -= 8;
        c.mmu.writeSupervisor(sp, 8, f1);
        sp -= 8;
        c.mmu.writeSupervisor(sp, 8, f2);
        sp -= 8;
        c.mmu.writeSupervisor(sp, 8, f3);
        sp -= 8;
        c.mmu.writeSupervisor(sp, 8, f4);
        if (hasError) {
            sp -= 8;
            c.mmu.writeSupervisor(sp, 8, error & 0xffffffffL);
        }
        if (newCpl != c.cpl) {
            c.segSel[Cpu.SS] = newCpl;
            c.segBase[Cpu.SS] = 0;
            c.segAr[Cpu.SS] = Cpu.AR_UNUSABLE | (newCpl << 5) | 0x93;
        }
        Segments.loadCs(c, sel, desc, newCpl);
        c.r[Cpu.RSP] = sp;
        c.rip = offset;
        c.rflagsRest &= ~(Cpu.TF | Cpu.NT | Cpu.RF | Cpu.VM);
        if ((type & 1) == 0) {
            c.rflagsRest &= ~Cpu.IF;
        }
    }
}
