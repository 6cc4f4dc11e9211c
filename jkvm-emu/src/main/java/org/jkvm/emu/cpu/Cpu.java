package org.jkvm.emu.cpu;

import org.jkvm.hypervisor.IoHandler;

/**
 * The architectural state of one emulated x86-64 logical processor (Intel SDM vol. 1 ch. 3.4 "Basic program execution
 * registers", vol. 3A ch. 2.5 "Control registers", ch. 3.4 "Segment registers"), held in plain fields and arrays so
 * the interpreter reads them without indirection or boxing.
 *
 * <p>The six arithmetic flags (CF, PF, AF, ZF, SF, OF) are lazy: see {@link Flags}. All other RFLAGS bits live in
 * {@link #rflagsRest}.
 */
public final class Cpu {
    // Register numbers (SDM vol. 2 table 2-2).
    public static final int RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7;
    // Segment register numbers in the encoding order of the ModRM reg field of MOV Sreg.
    public static final int ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5;
    /** Access-rights bit meaning the segment register is unusable (KVM's {@code unusable}). */
    public static final int AR_UNUSABLE = 1 << 16;

    // RFLAGS bits (SDM vol. 1 3.4.3).
    public static final long CF = 1, PF = 1 << 2, AF = 1 << 4, ZF = 1 << 6, SF = 1 << 7, TF = 1 << 8, IF = 1 << 9,
            DF = 1 << 10, OF = 1 << 11, IOPL = 3 << 12, NT = 1 << 14, RF = 1 << 16, VM = 1 << 17, AC = 1 << 18,
            VIF = 1 << 19, VIP = 1 << 20, ID = 1 << 21;
    public static final long ARITH_FLAGS = CF | PF | AF | ZF | SF | OF;
    /** RFLAGS bits software can change on this CPU model (the rest read as 0, bit 1 as 1). */
    public static final long WRITABLE_FLAGS = ARITH_FLAGS | TF | IF | DF | IOPL | NT | RF | AC | ID;

    // CR0 / CR4 / EFER bits (SDM vol. 3A 2.5, 2.2.1).
    public static final long CR0_PE = 1, CR0_MP = 2, CR0_EM = 4, CR0_TS = 8, CR0_ET = 16, CR0_NE = 32,
            CR0_WP = 1L << 16, CR0_AM = 1L << 18, CR0_NW = 1L << 29, CR0_CD = 1L << 30, CR0_PG = 1L << 31;
    public static final long CR4_PSE = 1 << 4, CR4_PAE = 1 << 5, CR4_PGE = 1 << 7, CR4_OSFXSR = 1 << 9,
            CR4_OSXMMEXCPT = 1 << 10;
    public static final long EFER_SCE = 1, EFER_LME = 1 << 8, EFER_LMA = 1 << 10, EFER_NXE = 1 << 11;

    // Decode modes: the default operand/address size of the code segment.
    public static final int MODE16 = 0, MODE32 = 1, MODE64 = 2;

    /** General-purpose registers RAX..R15. */
    public final long[] r = new long[16];
    /** x87, SSE and MXCSR state. */
    public final FpuState fpu = new FpuState();
    public long rip;
    /** RFLAGS without the six arithmetic flags; bit 1 always set. */
    public long rflagsRest = 2;

    // Lazy arithmetic flags: see Flags.
    public int fOp;
    public int fSize;
    public long fRes, fDst, fSrc, fAux;

    // Segment registers: visible selector and hidden descriptor cache.
    public final int[] segSel = new int[6];
    public final long[] segBase = new long[6];
    public final long[] segLimit = new long[6];
    /** Access rights as in {@code Segment.accessRights()} plus {@link #AR_UNUSABLE}. */
    public final int[] segAr = new int[6];
    /** The base an effective address adds for each segment: 0 for ES/CS/SS/DS in 64-bit mode. */
    public final long[] effBase = new long[6];

    public int trSel, ldtSel;
    public long trBase, ldtBase, trLimit, ldtLimit;
    public int trAr, ldtAr;
    public long gdtBase, idtBase;
    public int gdtLimit, idtLimit;

    public long cr0 = CR0_ET | CR0_CD | CR0_NW, cr2, cr3, cr4, cr8, efer;
    public long apicBase = 0xfee00900L;
    public final long[] dr = new long[8];

    // MSRs without a dedicated field elsewhere.
    public long star, lstar, cstar, sfmask, kernelGsBase, tscAux, pat = 0x0007040600070406L, miscEnable = 1;
    public long sysenterCs, sysenterEsp, sysenterEip, tscOffset, tscAdjust, mtrrDefType;
    /** The VM-wide TSC synchronisation; a CPU of its own until the VM shares one ({@link TscSync}). */
    public TscSync tscSync = new TscSync();
    /** The local APIC, for its MSRs (TSC deadline); set when the APIC attaches. */
    public InterruptController apic;

    /** Current privilege level (CS.DPL; SDM vol. 3A 5.5). */
    public int cpl;
    /** Decode mode derived from CS and EFER.LMA. */
    public int mode = MODE16;
    /** True while in 64-bit mode (EFER.LMA and CS.L). */
    public boolean long64;
    /** True while the interrupt shadow of STI / MOV SS blocks interrupts for one instruction. */
    public boolean interruptShadow;
    /** Set at the first block boundary after the shadow began: the block now running holds the shadowed instruction. */
    public boolean shadowBlockStarted;

    /** RIP of the instruction being executed (a fault restarts it). */
    public long insnRip;

    /** Why the run loop must stop; 0 while running. */
    public int stop;
    public static final int STOP_HLT = 1, STOP_SHUTDOWN = 2, STOP_INTERNAL = 3;
    /** Ends the current block and re-enters the run loop (a long REP string op yields to check for kicks). */
    public static final int STOP_YIELD = 4;
    public String stopDetail;

    /** Where I/O goes during a run. */
    public IoHandler io;
    public final Mmu mmu;
    public final CpuidTable cpuid;
    /** Scratch for CPUID results. */
    public final int[] cpuidOut = new int[4];
    /** Scratch pair for wide multiply/divide results. */
    public final long[] pair = new long[2];
    /**
     * Bumped whenever a cached link from one block to the next may have become wrong: a TLB flush, a change of CS,
     * CR0 or EFER (mode, CPL, CS base). Block chaining ({@link Block#successor}) is valid only within a generation.
     */
    public long codeGen;
    /** Instructions retired since creation (for statistics). */
    public long retired;
    /** Reused fault object: guest exceptions allocate nothing. */
    public final CpuFault fault = new CpuFault();

    /** Shared with the other vCPUs of the VM for LOCKed accesses that cannot use one host atomic. */
    public final Object lockMonitor;

    public Cpu(Mmu mmu, CpuidTable cpuid, Object lockMonitor) {
        this.mmu = mmu;
        this.cpuid = cpuid;
        this.lockMonitor = lockMonitor;
        mmu.attach(this);
        resetSegments();
    }

    private void resetSegments() {
        for (int i = 0; i < 6; i++) {
            segSel[i] = 0;
            segBase[i] = 0;
            segLimit[i] = 0xffff;
            segAr[i] = 0x93;
        }
        segSel[CS] = 0xf000;
        segBase[CS] = 0xffff0000L;
        segAr[CS] = 0x9b;
        trAr = 0x8b;
        trLimit = 0xffff;
        ldtAr = 0x82;
        ldtLimit = 0xffff;
        gdtLimit = 0xffff;
        idtLimit = 0xffff;
        rip = 0xfff0;
        recomputeMode();
    }

    // ---- General-purpose register access by operand size ----

    /** Reads register {@code n} at {@code size} bytes; for size 1 without REX, 4-7 are AH, CH, DH, BH. */
    public long getReg(int n, int size, boolean rex) {
        switch (size) {
            case 1:
                if (!rex && n >= 4 && n < 8) {
                    return (r[n - 4] >>> 8) & 0xff;
                }
                return r[n] & 0xff;
            case 2:
                return r[n] & 0xffff;
            case 4:
                return r[n] & 0xffffffffL;
            default:
                return r[n];
        }
    }

    /** Writes register {@code n}: 32-bit writes zero the upper half, 8- and 16-bit writes merge (SDM vol. 1 3.4.1.1). */
    public void setReg(int n, int size, boolean rex, long v) {
        switch (size) {
            case 1:
                if (!rex && n >= 4 && n < 8) {
                    r[n - 4] = (r[n - 4] & ~0xff00L) | ((v & 0xff) << 8);
                } else {
                    r[n] = (r[n] & ~0xffL) | (v & 0xff);
                }
                break;
            case 2:
                r[n] = (r[n] & ~0xffffL) | (v & 0xffff);
                break;
            case 4:
                r[n] = v & 0xffffffffL;
                break;
            default:
                r[n] = v;
        }
    }

    // ---- RFLAGS ----

    public long getRflags() {
        return rflagsRest | Flags.arith(this);
    }

    /** Sets all of RFLAGS (callers mask what the instruction may change). */
    public void setRflags(long v) {
        Flags.setArith(this, v & ARITH_FLAGS);
        rflagsRest = (v & WRITABLE_FLAGS & ~ARITH_FLAGS) | 2;
    }

    public boolean df() {
        return (rflagsRest & DF) != 0;
    }

    // ---- Modes ----

    /** Recomputes the decode mode, CPL-independent effective bases and long-mode state after CS/CR0/EFER change. */
    public void recomputeMode() {
        codeGen++;
        boolean pe = (cr0 & CR0_PE) != 0;
        int ar = segAr[CS];
        if ((efer & EFER_LMA) != 0 && (ar & (1 << 13)) != 0) {
            long64 = true;
            mode = MODE64;
        } else {
            long64 = false;
            mode = pe && (ar & (1 << 14)) != 0 ? MODE32 : MODE16;
        }
        if (!pe) {
            cpl = 0;
        } else if ((rflagsRest & VM) == 0) {
            cpl = (ar >>> 5) & 3;
        }
        for (int i = 0; i < 6; i++) {
            effBase[i] = long64 && i < FS ? 0 : segBase[i];
        }
    }

    /** Stack pointer size in bytes for pushes and pops (SDM vol. 3A 6.2.3: SS.B, or 8 in 64-bit mode). */
    public int stackSize() {
        if (long64) {
            return 8;
        }
        return (segAr[SS] & (1 << 14)) != 0 ? 4 : 2;
    }

    /** Linear address of a segment-relative effective address. */
    public long linear(int seg, long ea) {
        long la = effBase[seg] + ea;
        return long64 ? la : la & 0xffffffffL;
    }

    // ---- Stack ----

    public void push(int size, long v) {
        int ss = stackSize();
        long sp = r[RSP] - size;
        if (ss == 2) {
            sp &= 0xffff;
        } else if (ss == 4) {
            sp &= 0xffffffffL;
        }
        mmu.write(linear(SS, sp), size, v);
        setSp(sp, ss);
    }

    public long pop(int size) {
        int ss = stackSize();
        long sp = r[RSP];
        long v = mmu.read(linear(SS, ss == 2 ? sp & 0xffff : ss == 4 ? sp & 0xffffffffL : sp), size);
        setSp(sp + size, ss);
        return v;
    }

    /** Reads the stack at {@code offset} bytes above the stack pointer without popping. */
    public long peek(int size, long offset) {
        int ss = stackSize();
        long sp = r[RSP] + offset;
        sp = ss == 2 ? sp & 0xffff : ss == 4 ? sp & 0xffffffffL : sp;
        return mmu.read(linear(SS, sp), size);
    }

    public void setSp(long sp, int ss) {
        if (ss == 2) {
            r[RSP] = (r[RSP] & ~0xffffL) | (sp & 0xffff);
        } else if (ss == 4) {
            r[RSP] = sp & 0xffffffffL;
        } else {
            r[RSP] = sp;
        }
    }

    // ---- Faults ----

    public CpuFault fault(int vector, int errorCode) {
        fault.vector = vector;
        fault.errorCode = errorCode;
        fault.hasErrorCode = true;
        return fault;
    }

    public CpuFault fault(int vector) {
        fault.vector = vector;
        fault.errorCode = 0;
        fault.hasErrorCode = false;
        return fault;
    }

    /** Stops the run with an internal error (an instruction or state jkvm does not implement). */
    public void internalError(String what) {
        stop = STOP_INTERNAL;
        stopDetail = what + " at RIP 0x" + Long.toHexString(insnRip) + " (CS base 0x"
                + Long.toHexString(segBase[CS]) + ", mode " + mode + ")";
    }
}
