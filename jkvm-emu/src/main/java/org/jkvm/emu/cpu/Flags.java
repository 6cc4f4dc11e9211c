package org.jkvm.emu.cpu;

/**
 * Lazy arithmetic flags (SDM vol. 1 3.4.3.1 "Status flags", appendix A "EFLAGS cross-reference"). An arithmetic
 * instruction records its operation, operand size, operands and result in the {@link Cpu}; CF, PF, AF, ZF, SF and OF
 * are computed only when something reads them (a Jcc, SETcc, PUSHF, ADC...). {@link #NONE} means the flags are stored
 * explicitly in {@code fAux}.
 */
public final class Flags {
    /** Flags held explicitly in {@code fAux}. */
    public static final int NONE = 0;
    public static final int ADD = 1, ADC = 2, SUB = 3, SBB = 4, LOGIC = 5, INC = 6, DEC = 7;

    private Flags() {}

    /** Records the result of an add/sub/logic/inc/dec; for ADC/SBB, INC and DEC {@code aux} is the carry in. */
    public static void set(Cpu c, int op, int size, long dst, long src, long res, long aux) {
        c.fOp = op;
        c.fSize = size;
        c.fDst = dst;
        c.fSrc = src;
        c.fRes = res;
        c.fAux = aux;
    }

    public static void setLogic(Cpu c, int size, long res) {
        c.fOp = LOGIC;
        c.fSize = size;
        c.fRes = res;
    }

    /** Sets the six arithmetic flags explicitly. */
    public static void setArith(Cpu c, long flags) {
        c.fOp = NONE;
        c.fAux = flags & Cpu.ARITH_FLAGS;
    }

    public static long mask(int size) {
        return size == 8 ? -1L : (1L << (size * 8)) - 1;
    }

    static long signBit(int size) {
        return 1L << (size * 8 - 1);
    }

    public static boolean cf(Cpu c) {
        long m;
        switch (c.fOp) {
            case NONE:
                return (c.fAux & Cpu.CF) != 0;
            case ADD:
                m = mask(c.fSize);
                return Long.compareUnsigned(c.fRes & m, c.fDst & m) < 0;
            case ADC:
                m = mask(c.fSize);
                return c.fAux != 0 ? Long.compareUnsigned(c.fRes & m, c.fDst & m) <= 0
                        : Long.compareUnsigned(c.fRes & m, c.fDst & m) < 0;
            case SUB:
                m = mask(c.fSize);
                return Long.compareUnsigned(c.fDst & m, c.fSrc & m) < 0;
            case SBB:
                m = mask(c.fSize);
                return c.fAux != 0 ? Long.compareUnsigned(c.fDst & m, c.fSrc & m) <= 0
                        : Long.compareUnsigned(c.fDst & m, c.fSrc & m) < 0;
            case INC:
            case DEC:
                return c.fAux != 0;
            default:
                return false;
        }
    }

    public static boolean zf(Cpu c) {
        if (c.fOp == NONE) {
            return (c.fAux & Cpu.ZF) != 0;
        }
        return (c.fRes & mask(c.fSize)) == 0;
    }

    public static boolean sf(Cpu c) {
        if (c.fOp == NONE) {
            return (c.fAux & Cpu.SF) != 0;
        }
        return (c.fRes & signBit(c.fSize)) != 0;
    }

    public static boolean of(Cpu c) {
        long sb;
        switch (c.fOp) {
            case NONE:
                return (c.fAux & Cpu.OF) != 0;
            case ADD:
            case ADC:
                sb = signBit(c.fSize);
                return ((c.fDst ^ c.fRes) & (c.fSrc ^ c.fRes) & sb) != 0;
            case SUB:
            case SBB:
                sb = signBit(c.fSize);
                return ((c.fDst ^ c.fSrc) & (c.fDst ^ c.fRes) & sb) != 0;
            case INC:
                sb = signBit(c.fSize);
                return (c.fRes & mask(c.fSize)) == sb;
            case DEC:
                sb = signBit(c.fSize);
                return (c.fRes & mask(c.fSize)) == sb - 1;
            default:
                return false;
        }
    }

    public static boolean pf(Cpu c) {
        if (c.fOp == NONE) {
            return (c.fAux & Cpu.PF) != 0;
        }
        return parity(c.fRes);
    }

    /** PF: set if the low byte has an even number of one bits. */
    public static boolean parity(long v) {
        return (Integer.bitCount((int) v & 0xff) & 1) == 0;
    }

    public static boolean af(Cpu c) {
        switch (c.fOp) {
            case NONE:
                return (c.fAux & Cpu.AF) != 0;
            case ADD:
            case ADC:
            case SUB:
            case SBB:
                return ((c.fDst ^ c.fSrc ^ c.fRes) & 0x10) != 0;
            case INC:
                return (c.fRes & 0xf) == 0;
            case DEC:
                return (c.fRes & 0xf) == 0xf;
            default:
                return false;
        }
    }

    /** The six arithmetic flags as RFLAGS bits. */
    public static long arith(Cpu c) {
        if (c.fOp == NONE) {
            return c.fAux;
        }
        return lazyArith(c);
    }

    /** {@link #arith} of a lazy record (kept apart so that arith stays small enough to inline). */
    private static long lazyArith(Cpu c) {
        int op = c.fOp;
        // One pass over the record (materialize runs before every rotate, flag-bit instruction and PUSHF).
        int size = c.fSize;
        long res = c.fRes;
        long f = szp(res, size);
        if (op == LOGIC) {
            return f;
        }
        long sb = signBit(size);
        long m = mask(size);
        long dst = c.fDst, src = c.fSrc;
        switch (op) {
            case ADD, ADC -> {
                long rm = res & m, dm = dst & m;
                int cmp = Long.compareUnsigned(rm, dm);
                boolean cf = op == ADC && c.fAux != 0 ? cmp <= 0 : cmp < 0;
                return f | (cf ? Cpu.CF : 0) | ((dst ^ src ^ res) & 0x10)
                        | (((dst ^ res) & (src ^ res) & sb) != 0 ? Cpu.OF : 0);
            }
            case SUB, SBB -> {
                int cmp = Long.compareUnsigned(dst & m, src & m);
                boolean cf = op == SBB && c.fAux != 0 ? cmp <= 0 : cmp < 0;
                return f | (cf ? Cpu.CF : 0) | ((dst ^ src ^ res) & 0x10)
                        | (((dst ^ src) & (dst ^ res) & sb) != 0 ? Cpu.OF : 0);
            }
            case INC -> {
                return f | (c.fAux != 0 ? Cpu.CF : 0) | ((res & 0xf) == 0 ? Cpu.AF : 0)
                        | ((res & m) == sb ? Cpu.OF : 0);
            }
            default -> { // DEC
                return f | (c.fAux != 0 ? Cpu.CF : 0) | ((res & 0xf) == 0xf ? Cpu.AF : 0)
                        | ((res & m) == sb - 1 ? Cpu.OF : 0);
            }
        }
    }

    /** Makes the flags explicit so an instruction can change a few of them. */
    public static void materialize(Cpu c) {
        if (c.fOp != NONE) {
            c.fAux = arith(c);
            c.fOp = NONE;
        }
    }

    /** Sets or clears the explicit flag bits {@code bits} (after {@link #materialize}). */
    public static void put(Cpu c, long bits, boolean on) {
        if (on) {
            c.fAux |= bits;
        } else {
            c.fAux &= ~bits;
        }
    }

    /** SF, ZF and PF of {@code res} at {@code size}, as RFLAGS bits. */
    public static long szp(long res, int size) {
        long m = mask(size);
        return ((res & m) == 0 ? Cpu.ZF : 0) | ((res & signBit(size)) != 0 ? Cpu.SF : 0) | (parity(res) ? Cpu.PF : 0);
    }

    /** Evaluates condition code {@code cc} (the low nibble of Jcc/SETcc/CMOVcc; SDM vol. 1 appendix B). */
    public static boolean cond(Cpu c, int cc) {
        boolean r;
        switch (cc >> 1) {
            case 0:
                r = of(c);
                break;
            case 1:
                r = cf(c);
                break;
            case 2:
                r = zf(c);
                break;
            case 3:
                r = cf(c) || zf(c);
                break;
            case 4:
                r = sf(c);
                break;
            case 5:
                r = pf(c);
                break;
            case 6:
                r = sf(c) != of(c);
                break;
            default:
                r = zf(c) || sf(c) != of(c);
                break;
        }
        return r ^ ((cc & 1) != 0);
    }
}
