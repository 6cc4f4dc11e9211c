package org.jkvm.emu.cpu;

/**
 * The x87 FPU (SDM vol. 1 ch. 8, vol. 2 F*): dispatch of opcodes D8-DF, the register stack with its tags, stack
 * overflow/underflow (#IS with the masked response), loads, stores, integer and BCD conversions, the four basic
 * operations in all their forms, compares (FCOM/FUCOM/FICOM/FTST/FCOMI/FUCOMI), FCMOVcc and FXCH. Special functions
 * and the environment instructions are in {@link X87Ops}. Arithmetic is {@link SoftFloat} in 80-bit extended
 * precision with FCW's rounding and precision control; results are bit-exact, C1 reports a round-up.
 *
 * <p>Exceptions: flags accumulate in FSW; an unmasked one sets ES and B, leaves the destination unchanged for #I, #D
 * and #Z (for #O/#U the masked result is written: the hardware's scaled result is not modelled) and is reported as
 * #MF by the next waiting x87 instruction or FWAIT. CR0.EM or CR0.TS raise #NM.
 */
public final class X87 {
    static final int EXT = SoftFloat.EXT, SINGLE = SoftFloat.SINGLE, DOUBLE = SoftFloat.DOUBLE;
    static final long INDEF_MANT = 0xc000000000000000L;
    static final int INDEF_SE = 0xffff;

    private X87() {}

    // ---- Helpers shared with X87Ops ----

    /** Prepares the soft-float unit from FCW; {@code pc} applies precision control (FADD..FDIV, FSQRT). */
    static SoftFloat sf(FpuState f, boolean pc) {
        SoftFloat sf = f.sf;
        sf.x87 = true;
        sf.daz = false;
        sf.ftz = false;
        sf.rc = (f.fcw >>> 10) & 3;
        sf.umMasked = (f.fcw & 0x10) != 0;
        int p = (f.fcw >>> 8) & 3;
        sf.extPrecision = !pc ? 64 : p == 0 ? 24 : p == 2 ? 53 : 64;
        sf.flags = 0;
        sf.roundedUp = false;
        return sf;
    }

    /** Merges soft-float flags into FSW, sets C1 from the rounding, and ES/B for unmasked exceptions. */
    static void finish(FpuState f, int flags, boolean c1) {
        f.fsw = (f.fsw | (flags & 0x3f)) & ~FpuState.FSW_C1;
        if (c1) {
            f.fsw |= FpuState.FSW_C1;
        }
        summary(f);
    }

    static void summary(FpuState f) {
        if ((f.fsw & ~f.fcw & 0x3f) != 0) {
            f.fsw |= FpuState.FSW_ES | FpuState.FSW_B;
        } else {
            f.fsw &= ~(FpuState.FSW_ES | FpuState.FSW_B);
        }
    }

    /** An unmasked #I, #D or #Z means the destination is left unchanged. */
    static boolean blocked(FpuState f, int flags) {
        return (flags & ~f.fcw & (SoftFloat.IE | SoftFloat.DE | SoftFloat.ZE)) != 0;
    }

    static boolean empty(FpuState f, int i) {
        return (f.tags & (1 << f.phys(i))) == 0;
    }

    static void set(FpuState f, int i, long mant, int se) {
        int p = f.phys(i);
        f.mant[p] = mant;
        f.se[p] = se & 0xffff;
        f.tags |= 1 << p;
    }

    static void pop(FpuState f) {
        f.tags &= ~(1 << f.top);
        f.top = (f.top + 1) & 7;
    }

    /** Pushes a value; on stack overflow (#IS, C1=1) pushes the indefinite when #I is masked. */
    static void push(FpuState f, long mant, int se) {
        int np = (f.top - 1) & 7;
        if ((f.tags & (1 << np)) != 0) {
            f.fsw |= SoftFloat.IE | FpuState.FSW_SF | FpuState.FSW_C1;
            summary(f);
            if ((f.fcw & SoftFloat.IE) == 0) {
                return;
            }
            mant = INDEF_MANT;
            se = INDEF_SE;
        } else {
            f.fsw &= ~FpuState.FSW_C1;
        }
        f.top = np;
        set(f, 0, mant, se);
    }

    /** Stack underflow (#IS, C1=0); returns true when the masked response (an indefinite result) applies. */
    static boolean underflow(FpuState f) {
        f.fsw = (f.fsw | SoftFloat.IE | FpuState.FSW_SF) & ~FpuState.FSW_C1;
        summary(f);
        return (f.fcw & SoftFloat.IE) != 0;
    }

    static void unpackSt(FpuState f, SoftFloat sf, boolean intoA, int i) {
        int p = f.phys(i);
        sf.unpack(intoA, EXT, f.mant[p], f.se[p]);
    }

    // ---- Dispatch ----

    public static void exec(Cpu c, Insn d) {
        FpuState f = c.fpu;
        if ((c.cr0 & (Cpu.CR0_EM | Cpu.CR0_TS)) != 0) {
            throw c.fault(CpuFault.NM);
        }
        int op = d.op;
        int sub = d.reg & 7;
        int i = d.rm & 7;
        if (X87Ops.control(c, d, op, sub)) {
            return;
        }
        if ((f.fsw & FpuState.FSW_ES) != 0) {
            throw c.fault(CpuFault.MF);
        }
        long la = d.mem ? Executor.addr(c, d) : 0;
        f.fop = ((op & 7) << 8) | (d.mem ? sub << 3 : 0xc0 | (sub << 3) | i);
        f.fip = c.insnRip;
        f.fcs = c.segSel[Cpu.CS];
        if (d.mem) {
            f.fdp = Executor.ea(c, d);
            f.fds = c.segSel[d.seg];
        }
        switch (op) {
            case 0xd8 -> {
                if (d.mem) {
                    memArith(c, f, sub, SINGLE, c.mmu.read(la, 4));
                } else {
                    regArith(f, sub, i, false, false);
                }
            }
            case 0xdc -> {
                if (d.mem) {
                    memArith(c, f, sub, DOUBLE, c.mmu.read(la, 8));
                } else {
                    regArith(f, sub, i, true, false);
                }
            }
            case 0xde -> {
                if (d.mem) {
                    memArith(c, f, sub, -16, c.mmu.read(la, 2));
                } else if (sub == 3) {
                    if (i != 1) {
                        throw c.fault(CpuFault.UD);
                    }
                    compare(c, f, 1, true, false, 2);
                } else {
                    regArith(f, sub, i, true, true);
                }
            }
            case 0xda -> {
                if (d.mem) {
                    memArith(c, f, sub, -32, c.mmu.read(la, 4));
                } else if (sub < 4) {
                    fcmov(c, f, sub, i, false);
                } else if (sub == 5 && i == 1) {
                    compare(c, f, 1, false, false, 2);
                } else {
                    throw c.fault(CpuFault.UD);
                }
            }
            case 0xd9 -> X87Ops.d9(c, d, f, sub, i, la);
            case 0xdb -> {
                if (d.mem) {
                    switch (sub) {
                        case 0 -> loadInt(f, (int) c.mmu.read(la, 4));
                        case 1, 2, 3 -> storeInt(c, f, la, 4, sub);
                        case 5 -> push(f, c.mmu.read(la, 8), (int) c.mmu.read(la + 8, 2));
                        case 7 -> storeExt(c, f, la);
                        default -> throw c.fault(CpuFault.UD);
                    }
                } else if (sub < 4) {
                    fcmov(c, f, sub, i, true);
                } else if (sub == 5 || sub == 6) {
                    compare(c, f, i, sub == 6, true, 0);
                } else if ((sub == 4 && i >= 5) || sub == 7) {
                    throw c.fault(CpuFault.UD);
                }
                // DB E0/E1/E4 (FENI, FDISI, FSETPM) are no-ops; E2/E3 are handled as control instructions.
            }
            case 0xdd -> {
                if (d.mem) {
                    switch (sub) {
                        case 0 -> loadFloat(f, DOUBLE, c.mmu.read(la, 8));
                        case 1 -> storeInt(c, f, la, 8, 1);
                        case 2, 3 -> storeFloat(c, f, la, DOUBLE, sub == 3);
                        default -> throw c.fault(CpuFault.UD);
                    }
                } else {
                    switch (sub) {
                        case 0 -> {
                            // FFREE: the SDM leaves C0-C3 undefined; the hardware clears C1.
                            f.tags &= ~(1 << f.phys(i));
                            f.fsw &= ~FpuState.FSW_C1;
                        }
                        case 1 -> xch(f, i);
                        case 2, 3 -> {
                            if (empty(f, 0)) {
                                if (!underflow(f)) {
                                    return;
                                }
                                set(f, i, INDEF_MANT, INDEF_SE);
                            } else {
                                int p = f.phys(0);
                                set(f, i, f.mant[p], f.se[p]);
                                f.fsw &= ~FpuState.FSW_C1;
                            }
                            if (sub == 3) {
                                pop(f);
                            }
                        }
                        case 4, 5 -> compare(c, f, i, false, false, sub == 5 ? 1 : 0);
                        default -> throw c.fault(CpuFault.UD);
                    }
                }
            }
            default -> { // 0xdf
                if (d.mem) {
                    switch (sub) {
                        case 0 -> loadInt(f, (short) c.mmu.read(la, 2));
                        case 1, 2, 3 -> storeInt(c, f, la, 2, sub);
                        case 4 -> X87Ops.fbld(c, f, la);
                        case 5 -> loadInt(f, c.mmu.read(la, 8));
                        case 6 -> X87Ops.fbstp(c, f, la);
                        default -> storeInt(c, f, la, 8, 3);
                    }
                } else if (sub == 0) {
                    f.tags &= ~(1 << f.phys(i));
                    pop(f);
                } else if (sub == 5 || sub == 6) {
                    compare(c, f, i, sub == 6, true, 1);
                } else if (sub == 1) {
                    xch(f, i);
                } else if (sub == 2 || sub == 3) {
                    // DF D0+i / D8+i: FSTP ST(i) aliases.
                    if (empty(f, 0) && !underflow(f)) {
                        return;
                    }
                    int p = f.phys(0);
                    set(f, i, empty(f, 0) ? INDEF_MANT : f.mant[p], empty(f, 0) ? INDEF_SE : f.se[p]);
                    pop(f);
                } else {
                    throw c.fault(CpuFault.UD);
                }
            }
        }
    }

    // ---- Arithmetic ----

    /**
     * x = ST(0), y = ST(i): /0 x+y, /1 x*y, /2 FCOM, /3 FCOMP, /4 x-y, /5 y-x, /6 x/y, /7 y/x; the result goes to ST(0)
     * or, for DC/DE, to ST(i) (then DE pops).
     */
    private static void regArith(FpuState f, int sub, int i, boolean toSti, boolean pop) {
        if (sub == 2 || sub == 3) {
            compareRaw(f, i, true, false, sub == 3 ? 1 : 0);
            return;
        }
        int dest = toSti ? i : 0;
        if (empty(f, 0) || empty(f, i)) {
            if (underflow(f)) {
                set(f, dest, INDEF_MANT, INDEF_SE);
                if (pop) {
                    pop(f);
                }
            }
            return;
        }
        SoftFloat sf = sf(f, true);
        boolean rev = sub == 5 || sub == 7;
        unpackSt(f, sf, true, rev ? i : 0);
        unpackSt(f, sf, false, rev ? 0 : i);
        operate(sf, sub);
        int fl = sf.flags;
        boolean up = sf.roundedUp && (fl & SoftFloat.PE) != 0;
        finish(f, fl, up);
        if (!blocked(f, fl)) {
            set(f, dest, sf.rMant, sf.rSe);
            if (pop) {
                pop(f);
            }
        }
    }

    private static void operate(SoftFloat sf, int sub) {
        switch (sub) {
            case 0 -> sf.add(EXT, false);
            case 1 -> sf.mul(EXT);
            case 4, 5 -> sf.add(EXT, true);
            default -> sf.div(EXT);
        }
    }

    /** ST(0) op memory: {@code fmt} SINGLE/DOUBLE, or -16/-32 for a 16/32-bit integer. */
    private static void memArith(Cpu c, FpuState f, int sub, int fmt, long v) {
        if (sub == 2 || sub == 3) {
            compareMem(f, fmt, v, sub == 3);
            return;
        }
        if (empty(f, 0)) {
            if (underflow(f)) {
                set(f, 0, INDEF_MANT, INDEF_SE);
            }
            return;
        }
        SoftFloat sf = sf(f, true);
        boolean rev = sub == 5 || sub == 7;
        unpackSt(f, sf, !rev, 0);
        unpackMem(sf, rev, fmt, v);
        operate(sf, sub);
        int fl = sf.flags;
        finish(f, fl, sf.roundedUp && (fl & SoftFloat.PE) != 0);
        if (!blocked(f, fl)) {
            set(f, 0, sf.rMant, sf.rSe);
        }
    }

    /** Unpacks a memory operand: a float of {@code fmt}, or (fmt -16/-32) an integer, converted exactly. */
    private static void unpackMem(SoftFloat sf, boolean intoA, int fmt, long v) {
        if (fmt >= 0) {
            sf.unpack(intoA, fmt, v, 0);
            return;
        }
        long n = fmt == -16 ? (short) v : (int) v;
        int saved = sf.extPrecision;
        sf.extPrecision = 64;
        sf.fromInt(n, EXT);
        sf.extPrecision = saved;
        sf.unpack(intoA, EXT, sf.rMant, sf.rSe);
    }

    // ---- Compares ----

    /** Sets C3/C2/C0 (or ZF/PF/CF) from a compare result: 0 =, -1 <, 1 >, 2 unordered. */
    static void setCc(Cpu c, FpuState f, int r, boolean eflags) {
        if (eflags) {
            // FCOMI/FUCOMI leave FSW's condition codes alone (the hardware keeps even C1).
            Flags.setArith(c, r == 2 ? Cpu.ZF | Cpu.PF | Cpu.CF : r < 0 ? Cpu.CF : r == 0 ? Cpu.ZF : 0);
            return;
        }
        int cc = r == 2 ? FpuState.FSW_C3 | FpuState.FSW_C2 | FpuState.FSW_C0
                : r < 0 ? FpuState.FSW_C0 : r == 0 ? FpuState.FSW_C3 : 0;
        f.fsw = (f.fsw & ~(FpuState.FSW_C3 | FpuState.FSW_C2 | FpuState.FSW_C1 | FpuState.FSW_C0)) | cc;
    }

    /** FCOM/FUCOM family on ST(0), ST(i) then {@code pops} pops; {@code eflags} for FCOMI/FUCOMI. */
    private static void compare(Cpu c, FpuState f, int i, boolean signaling, boolean eflags, int pops) {
        if (empty(f, 0) || empty(f, i)) {
            if (underflow(f)) {
                setCc(c, f, 2, eflags);
                for (int k = 0; k < pops; k++) {
                    pop(f);
                }
            }
            return;
        }
        SoftFloat sf = sf(f, false);
        unpackSt(f, sf, true, 0);
        unpackSt(f, sf, false, i);
        int r = sf.compare(signaling);
        f.fsw |= sf.flags & 0x3f;
        summary(f);
        if (blocked(f, sf.flags)) {
            return;
        }
        setCc(c, f, r, eflags);
        for (int k = 0; k < pops; k++) {
            pop(f);
        }
    }

    private static void compareRaw(FpuState f, int i, boolean signaling, boolean eflags, int pops) {
        compare(null, f, i, signaling, eflags, pops);
    }

    private static void compareMem(FpuState f, int fmt, long v, boolean pop) {
        if (empty(f, 0)) {
            if (underflow(f)) {
                setCc(null, f, 2, false);
                if (pop) {
                    pop(f);
                }
            }
            return;
        }
        SoftFloat sf = sf(f, false);
        unpackSt(f, sf, true, 0);
        unpackMem(sf, false, fmt, v);
        int r = sf.compare(true);
        f.fsw |= sf.flags & 0x3f;
        summary(f);
        if (blocked(f, sf.flags)) {
            return;
        }
        setCc(null, f, r, false);
        if (pop) {
            pop(f);
        }
    }

    // ---- Moves ----

    static void xch(FpuState f, int i) {
        boolean e0 = empty(f, 0), ei = empty(f, i);
        if (e0 || ei) {
            if (!underflow(f)) {
                return;
            }
            if (e0) {
                set(f, 0, INDEF_MANT, INDEF_SE);
            }
            if (ei) {
                set(f, i, INDEF_MANT, INDEF_SE);
            }
        } else {
            f.fsw &= ~FpuState.FSW_C1;
        }
        int p0 = f.phys(0), pi = f.phys(i);
        long m = f.mant[p0];
        int s = f.se[p0];
        f.mant[p0] = f.mant[pi];
        f.se[p0] = f.se[pi];
        f.mant[pi] = m;
        f.se[pi] = s;
    }

    /** FCMOVcc: DA /0-/3 B, E, BE, U; DB the negations. */
    private static void fcmov(Cpu c, FpuState f, int sub, int i, boolean negate) {
        boolean cond = switch (sub) {
            case 0 -> Flags.cf(c);
            case 1 -> Flags.zf(c);
            case 2 -> Flags.cf(c) || Flags.zf(c);
            default -> Flags.pf(c);
        };
        if (empty(f, 0) || empty(f, i)) {
            if (underflow(f)) {
                set(f, 0, INDEF_MANT, INDEF_SE);
            }
            return;
        }
        if (cond != negate) {
            int p = f.phys(i);
            set(f, 0, f.mant[p], f.se[p]);
        }
    }

    static void loadFloat(FpuState f, int fmt, long v) {
        if ((f.tags & (1 << ((f.top - 1) & 7))) != 0) {
            push(f, 0, 0); // stack overflow: reported alone, the operand is not examined
            return;
        }
        SoftFloat sf = sf(f, false);
        sf.unpack(true, fmt, v, 0);
        sf.convert(EXT);
        int fl = sf.flags;
        f.fsw |= fl & 0x3f;
        summary(f);
        if (!blocked(f, fl)) {
            push(f, sf.rMant, sf.rSe);
        }
    }

    private static void loadInt(FpuState f, long v) {
        SoftFloat sf = sf(f, false);
        sf.fromInt(v, EXT);
        push(f, sf.rMant, sf.rSe);
    }

    /** FST/FSTP m32/m64. */
    static void storeFloat(Cpu c, FpuState f, long la, int fmt, boolean pop) {
        int size = fmt == SINGLE ? 4 : 8;
        if (empty(f, 0)) {
            if (underflow(f)) {
                c.mmu.write(la, size, fmt == SINGLE ? 0xffc00000L : 0xfff8000000000000L);
                if (pop) {
                    pop(f);
                }
            }
            return;
        }
        SoftFloat sf = sf(f, false);
        unpackSt(f, sf, true, 0);
        long v = sf.convert(fmt, false);
        int fl = sf.flags;
        if ((fl & ~f.fcw & 0x3f) != 0) {
            finish(f, fl, false);
            return;
        }
        c.mmu.write(la, size, v);
        finish(f, fl, sf.roundedUp && (fl & SoftFloat.PE) != 0);
        if (pop) {
            pop(f);
        }
    }

    /** FSTP m80: the register as it is. */
    private static void storeExt(Cpu c, FpuState f, long la) {
        long m;
        int se;
        if (empty(f, 0)) {
            if (!underflow(f)) {
                return;
            }
            m = INDEF_MANT;
            se = INDEF_SE;
        } else {
            int p = f.phys(0);
            m = f.mant[p];
            se = f.se[p];
            f.fsw &= ~FpuState.FSW_C1;
        }
        c.mmu.probeWrite(la, 10);
        c.mmu.write(la, 8, m);
        c.mmu.write(la + 8, 2, se);
        pop(f);
    }

    /** FISTTP (sub 1, truncating, pops), FIST (2), FISTP (3) of {@code size} bytes. */
    private static void storeInt(Cpu c, FpuState f, long la, int size, int sub) {
        long indefinite = 1L << (size * 8 - 1);
        if (empty(f, 0)) {
            if (underflow(f)) {
                c.mmu.write(la, size, indefinite);
                if (sub != 2) {
                    pop(f);
                }
            }
            return;
        }
        SoftFloat sf = sf(f, false);
        unpackSt(f, sf, true, 0);
        long v = sf.toInt(size * 8, sub == 1 ? SoftFloat.RZ : sf.rc);
        int fl = sf.flags;
        if ((fl & ~f.fcw & SoftFloat.IE) != 0) {
            finish(f, fl, false);
            return;
        }
        c.mmu.write(la, size, v);
        finish(f, fl, sf.roundedUp && (fl & SoftFloat.PE) != 0);
        if (sub != 2) {
            pop(f);
        }
    }
}
