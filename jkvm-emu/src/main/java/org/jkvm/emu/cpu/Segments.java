package org.jkvm.emu.cpu;

/**
 * Segment register loads (SDM vol. 3A 3.4 "Segment selectors and descriptors", 3.4.5 descriptor format, 5.10 checks
 * on MOV/POP to segment registers): real-mode loads, GDT/LDT descriptor lookup, the checks that matter for a
 * well-behaved kernel (null selectors, system descriptors, presence, SS writability), LTR and LLDT. Segment limits
 * are loaded but not enforced on accesses yet.
 */
public final class Segments {
    private Segments() {}

    /** True while segment loads use descriptors (CR0.PE set, not virtual-8086). */
    static boolean protectedMode(Cpu c) {
        return (c.cr0 & Cpu.CR0_PE) != 0 && (c.rflagsRest & Cpu.VM) == 0;
    }

    /** Reads the 8-byte descriptor {@code sel} names in the GDT or LDT; #GP(sel) beyond the table limit. */
    public static long readDescriptor(Cpu c, int sel) {
        long base;
        long limit;
        if ((sel & 4) != 0) {
            if ((c.ldtAr & Cpu.AR_UNUSABLE) != 0 || c.ldtSel == 0) {
                throw c.fault(CpuFault.GP, sel & 0xfffc);
            }
            base = c.ldtBase;
            limit = c.ldtLimit;
        } else {
            base = c.gdtBase;
            limit = c.gdtLimit & 0xffffL;
        }
        long off = sel & 0xfff8;
        if (off + 7 > limit) {
            throw c.fault(CpuFault.GP, sel & 0xfffc);
        }
        return c.mmu.readSupervisor(base + off, 8);
    }

    public static long descBase(long desc) {
        return ((desc >>> 16) & 0xffffffL) | (((desc >>> 56) & 0xff) << 24);
    }

    public static long descLimit(long desc) {
        long lim = (desc & 0xffff) | (((desc >>> 48) & 0xf) << 16);
        return (desc & (1L << 55)) != 0 ? (lim << 12) | 0xfff : lim;
    }

    /** Access rights in {@code Segment.accessRights()} form: type, S, DPL, P, AVL, L, D/B, G. */
    public static int descAr(long desc) {
        return (int) ((desc >>> 40) & 0xf0ff);
    }

    private static void set(Cpu c, int seg, int sel, long base, long limit, int ar) {
        c.segSel[seg] = sel & 0xffff;
        c.segBase[seg] = base;
        c.segLimit[seg] = limit;
        c.segAr[seg] = ar;
        c.recomputeMode();
    }

    /** MOV/POP to DS, ES, FS, GS or SS. */
    public static void loadData(Cpu c, int seg, int sel) {
        sel &= 0xffff;
        if (!protectedMode(c)) {
            set(c, seg, sel, (long) sel << 4, c.segLimit[seg], (c.segAr[seg] & ~Cpu.AR_UNUSABLE) | 0x80);
            return;
        }
        if ((sel & 0xfffc) == 0) {
            if (seg == Cpu.SS && !(c.long64 && c.cpl < 3)) {
                throw c.fault(CpuFault.GP, 0);
            }
            long base = seg >= Cpu.FS ? c.segBase[seg] : 0;
            set(c, seg, sel, base, 0, seg == Cpu.SS ? (c.segAr[seg] & ~0x60) | (c.cpl << 5) : Cpu.AR_UNUSABLE);
            return;
        }
        long desc = readDescriptor(c, sel);
        int ar = descAr(desc);
        boolean s = (ar & 0x10) != 0;
        boolean code = (ar & 8) != 0;
        int dpl = (ar >>> 5) & 3;
        if (!s) {
            throw c.fault(CpuFault.GP, sel & 0xfffc);
        }
        if (seg == Cpu.SS) {
            if (code || (ar & 2) == 0 || dpl != c.cpl || (sel & 3) != c.cpl) {
                throw c.fault(CpuFault.GP, sel & 0xfffc);
            }
        } else if (code && (ar & 2) == 0) {
            throw c.fault(CpuFault.GP, sel & 0xfffc);
        }
        if ((ar & 0x80) == 0) {
            throw c.fault(seg == Cpu.SS ? CpuFault.SS : CpuFault.NP, sel & 0xfffc);
        }
        set(c, seg, sel, descBase(desc), descLimit(desc), ar);
    }

    /** Loads CS from a code descriptor at privilege {@code newCpl} (a far transfer already checked it). */
    public static void loadCs(Cpu c, int sel, long desc, int newCpl) {
        int ar = descAr(desc);
        c.segSel[Cpu.CS] = (sel & 0xfffc) | newCpl;
        c.segBase[Cpu.CS] = descBase(desc);
        c.segLimit[Cpu.CS] = descLimit(desc);
        c.segAr[Cpu.CS] = (ar & ~0x60) | (newCpl << 5);
        c.recomputeMode();
    }

    /** Real-mode (or virtual-8086) CS load: base = selector * 16. */
    public static void loadCsReal(Cpu c, int sel) {
        sel &= 0xffff;
        c.segSel[Cpu.CS] = sel;
        c.segBase[Cpu.CS] = (long) sel << 4;
        c.recomputeMode();
    }

    /** Loads SS for a privilege change: a null selector in 64-bit mode, otherwise the descriptor. */
    public static void loadSsForCpl(Cpu c, int sel, int newCpl) {
        if ((sel & 0xfffc) == 0) {
            c.segSel[Cpu.SS] = newCpl;
            c.segBase[Cpu.SS] = 0;
            c.segLimit[Cpu.SS] = 0xffffffffL;
            c.segAr[Cpu.SS] = 0xc093 | (newCpl << 5);
            c.recomputeMode();
            return;
        }
        long desc = readDescriptor(c, sel);
        set(c, Cpu.SS, sel, descBase(desc), descLimit(desc), descAr(desc));
    }

    /**
     * Checks that {@code sel} names a present code segment usable for a far transfer at the current privilege and
     * returns its descriptor (SDM vol. 3A 5.8.1 "Direct calls or jumps to code segments"; call gates are not yet
     * supported and raise #GP).
     */
    public static long codeDescriptor(Cpu c, int sel, int requiredCpl) {
        if ((sel & 0xfffc) == 0) {
            throw c.fault(CpuFault.GP, 0);
        }
        long desc = readDescriptor(c, sel);
        int ar = descAr(desc);
        if ((ar & 0x18) != 0x18) {
            throw c.fault(CpuFault.GP, sel & 0xfffc);
        }
        if ((ar & 0x80) == 0) {
            throw c.fault(CpuFault.NP, sel & 0xfffc);
        }
        return desc;
    }

    /** LTR: loads TR from an available TSS descriptor and marks it busy (SDM vol. 3A 7.2.4). */
    public static void ltr(Cpu c, int sel) {
        if ((sel & 0xfffc) == 0 || (sel & 4) != 0) {
            throw c.fault(CpuFault.GP, sel & 0xfffc);
        }
        long desc = readDescriptor(c, sel);
        int ar = descAr(desc);
        int type = ar & 0x1f;
        if (type != 0x09 && type != 0x01) {
            throw c.fault(CpuFault.GP, sel & 0xfffc);
        }
        if ((ar & 0x80) == 0) {
            throw c.fault(CpuFault.NP, sel & 0xfffc);
        }
        long base = descBase(desc);
        if ((c.efer & Cpu.EFER_LMA) != 0) {
            base |= c.mmu.readSupervisor(c.gdtBase + (sel & 0xfff8) + 8, 4) << 32;
        }
        c.mmu.writeSupervisor(c.gdtBase + (sel & 0xfff8), 8, desc | (2L << 40));
        c.trSel = sel;
        c.trBase = base;
        c.trLimit = descLimit(desc);
        c.trAr = ar | 2;
    }

    /** LLDT (SDM vol. 3A 3.5.1). */
    public static void lldt(Cpu c, int sel) {
        if ((sel & 0xfffc) == 0) {
            c.ldtSel = sel;
            c.ldtAr = Cpu.AR_UNUSABLE;
            return;
        }
        if ((sel & 4) != 0) {
            throw c.fault(CpuFault.GP, sel & 0xfffc);
        }
        long desc = readDescriptor(c, sel);
        int ar = descAr(desc);
        if ((ar & 0x1f) != 0x02) {
            throw c.fault(CpuFault.GP, sel & 0xfffc);
        }
        long base = descBase(desc);
        if ((c.efer & Cpu.EFER_LMA) != 0) {
            base |= c.mmu.readSupervisor(c.gdtBase + (sel & 0xfff8) + 8, 4) << 32;
        }
        c.ldtSel = sel;
        c.ldtBase = base;
        c.ldtLimit = descLimit(desc);
        c.ldtAr = ar;
    }
}
