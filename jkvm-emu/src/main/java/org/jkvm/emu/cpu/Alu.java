package org.jkvm.emu.cpu;

/**
 * Integer arithmetic with its flag effects (SDM vol. 2: ADD/ADC/SUB/SBB/AND/OR/XOR/CMP, INC/DEC/NEG, the shift and
 * rotate group SAL/SAR/SHL/SHR/ROL/ROR/RCL/RCR, SHLD/SHRD, MUL/IMUL/DIV/IDIV, BSF/BSR). Pure functions of their
 * operands plus the lazy flag record; memory and registers are the executor's business. Where the SDM leaves a flag
 * undefined this model's choice is documented at the method and masked by the differential tests.
 */
public final class Alu {
    private Alu() {}

    /**
     * ALU operation {@code op} (0 ADD, 1 OR, 2 ADC, 3 SBB, 4 AND, 5 SUB, 6 XOR, 7 CMP: the reg field of group 1) on
     * {@code size}-byte operands; returns the masked result and records the flags. AF after logic ops is 0.
     */
    public static long alu(Cpu c, int op, int size, long dst, long src) {
        long res;
        switch (op) {
            case 0:
                res = dst + src;
                Flags.set(c, Flags.ADD, size, dst, src, res, 0);
                break;
            case 1:
                res = dst | src;
                Flags.setLogic(c, size, res);
                break;
            case 2: {
                long cin = Flags.cf(c) ? 1 : 0;
                res = dst + src + cin;
                Flags.set(c, Flags.ADC, size, dst, src, res, cin);
                break;
            }
            case 3: {
                long cin = Flags.cf(c) ? 1 : 0;
                res = dst - src - cin;
                Flags.set(c, Flags.SBB, size, dst, src, res, cin);
                break;
            }
            case 4:
                res = dst & src;
                Flags.setLogic(c, size, res);
                break;
            case 6:
                res = dst ^ src;
                Flags.setLogic(c, size, res);
                break;
            default:
                res = dst - src;
                Flags.set(c, Flags.SUB, size, dst, src, res, 0);
                break;
        }
        return res & Flags.mask(size);
    }

    public static long inc(Cpu c, int size, long v) {
        long res = v + 1;
        Flags.set(c, Flags.INC, size, v, 1, res, Flags.cf(c) ? 1 : 0);
        return res & Flags.mask(size);
    }

    public static long dec(Cpu c, int size, long v) {
        long res = v - 1;
        Flags.set(c, Flags.DEC, size, v, 1, res, Flags.cf(c) ? 1 : 0);
        return res & Flags.mask(size);
    }

    public static long neg(Cpu c, int size, long v) {
        long res = -v;
        Flags.set(c, Flags.SUB, size, 0, v, res, 0);
        return res & Flags.mask(size);
    }

    /**
     * Group 2 (reg field {@code op}: 0 ROL, 1 ROR, 2 RCL, 3 RCR, 4 SHL, 5 SHR, 6 SAL, 7 SAR) by {@code count}
     * (already masked to 5 or 6 bits by the caller). A zero count changes nothing. Undefined flags: OF after a count
     * other than 1 follows the count-1 formula; AF after shifts is 0; CF after SHL/SHR by at least the width is the
     * last bit the shift would move out (0).
     */
    public static long shift(Cpu c, int op, int size, long v, int count) {
        if (count == 0) {
            return v;
        }
        int bits = size * 8;
        long m = Flags.mask(size);
        long sb = 1L << (bits - 1);
        v &= m;
        long res;
        boolean cf, of;
        switch (op) {
            case 0: { // ROL
                int n = count & (bits - 1);
                res = n == 0 ? v : ((v << n) | (v >>> (bits - n))) & m;
                cf = (res & 1) != 0;
                of = ((res & sb) != 0) ^ cf;
                Flags.materialize(c);
                Flags.put(c, Cpu.CF, cf);
                Flags.put(c, Cpu.OF, of);
                return res;
            }
            case 1: { // ROR
                int n = count & (bits - 1);
                res = n == 0 ? v : ((v >>> n) | (v << (bits - n))) & m;
                cf = (res & sb) != 0;
                of = cf ^ ((res & (sb >>> 1)) != 0);
                Flags.materialize(c);
                Flags.put(c, Cpu.CF, cf);
                Flags.put(c, Cpu.OF, of);
                return res;
            }
            case 2: { // RCL: rotate the (bits+1)-bit value CF:v left
                int n = size == 1 ? count % 9 : size == 2 ? count % 17 : count;
                Flags.materialize(c);
                if (n == 0) {
                    return v;
                }
                boolean cin = (c.fAux & Cpu.CF) != 0;
                res = v;
                boolean carry = cin;
                for (int k = 0; k < n; k++) {
                    boolean out = (res & sb) != 0;
                    res = ((res << 1) | (carry ? 1 : 0)) & m;
                    carry = out;
                }
                of = ((res & sb) != 0) ^ carry;
                Flags.put(c, Cpu.CF, carry);
                Flags.put(c, Cpu.OF, of);
                return res;
            }
            case 3: { // RCR
                int n = size == 1 ? count % 9 : size == 2 ? count % 17 : count;
                Flags.materialize(c);
                if (n == 0) {
                    return v;
                }
                boolean carry = (c.fAux & Cpu.CF) != 0;
                res = v;
                for (int k = 0; k < n; k++) {
                    boolean out = (res & 1) != 0;
                    res = (res >>> 1) | (carry ? sb : 0);
                    carry = out;
                }
                of = ((res & sb) != 0) ^ ((res & (sb >>> 1)) != 0);
                Flags.put(c, Cpu.CF, carry);
                Flags.put(c, Cpu.OF, of);
                return res;
            }
            case 4:
            case 6: // SHL/SAL
                if (count > bits) {
                    res = 0;
                    cf = false;
                } else {
                    res = count == 64 ? 0 : (v << count) & m;
                    cf = ((v >>> (bits - count)) & 1) != 0;
                }
                of = ((res & sb) != 0) ^ cf;
                break;
            case 5: // SHR
                if (count > bits) {
                    res = 0;
                    cf = false;
                } else {
                    res = count == 64 ? 0 : v >>> count;
                    cf = ((v >>> (count - 1)) & 1) != 0;
                }
                of = (v & sb) != 0;
                break;
            default: { // SAR
                long sv = (v << (64 - bits)) >> (64 - bits);
                int n = Math.min(count, bits - 1);
                res = (sv >> n) & m;
                cf = count >= bits ? (v & sb) != 0 : ((sv >> (count - 1)) & 1) != 0;
                of = false;
                break;
            }
        }
        Flags.setArith(c, (cf ? Cpu.CF : 0) | (of ? Cpu.OF : 0) | Flags.szp(res, size));
        return res;
    }

    /**
     * SHLD ({@code left}) / SHRD of {@code dst} with bits from {@code src} by {@code count} (masked by the caller).
     * For 16-bit operands a count above 16 (undefined) shifts through src again, as Intel CPUs do.
     */
    public static long shiftDouble(Cpu c, boolean left, int size, long dst, long src, int count) {
        if (count == 0) {
            return dst;
        }
        int bits = size * 8;
        long m = Flags.mask(size);
        long sb = 1L << (bits - 1);
        dst &= m;
        src &= m;
        long res;
        boolean cf;
        if (size == 2) {
            // Treat as a 48-bit (dst:src:dst) funnel, the behaviour of Intel hardware for counts 17-31.
            if (left) {
                long wide = (dst << 32) | (src << 16) | dst;
                res = (wide >>> (32 - count)) & 0xffff;
                cf = ((wide >>> (48 - count)) & 1) != 0;
            } else {
                long wide = dst | (src << 16) | (dst << 32);
                res = (wide >>> count) & 0xffff;
                cf = ((wide >>> (count - 1)) & 1) != 0;
            }
        } else if (left) {
            res = ((dst << count) | (src >>> (bits - count))) & m;
            cf = ((dst >>> (bits - count)) & 1) != 0;
        } else {
            res = ((dst >>> count) | (src << (bits - count))) & m;
            cf = ((dst >>> (count - 1)) & 1) != 0;
        }
        boolean of = ((res ^ dst) & sb) != 0;
        Flags.setArith(c, (cf ? Cpu.CF : 0) | (of ? Cpu.OF : 0) | Flags.szp(res, size));
        return res;
    }

    /** Sets CF and OF together (MUL/IMUL overflow); SF, ZF, PF follow {@code low} (undefined in the SDM). */
    static void mulFlags(Cpu c, boolean overflow, long low, int size) {
        Flags.setArith(c, (overflow ? Cpu.CF | Cpu.OF : 0) | Flags.szp(low, size));
    }

    /** Two- and three-operand IMUL: the truncated signed product, CF=OF when it does not fit. */
    public static long imulTrunc(Cpu c, int size, long a, long b) {
        long res;
        boolean ovf;
        if (size == 8) {
            res = a * b;
            long hi = Math.multiplyHigh(a, b);
            ovf = hi != (res >> 63);
        } else {
            int sh = 64 - size * 8;
            long sa = (a << sh) >> sh;
            long sbv = (b << sh) >> sh;
            long full = sa * sbv;
            res = full & Flags.mask(size);
            ovf = ((full << sh) >> sh) != full;
        }
        mulFlags(c, ovf, res, size);
        return res;
    }

    /** One-operand MUL (signed = false) or IMUL: returns {low, high} in {@code out}. */
    public static void mulWide(Cpu c, boolean signed, int size, long a, long b, long[] out) {
        long m = Flags.mask(size);
        if (size == 8) {
            long lo = a * b;
            long hi = signed ? Math.multiplyHigh(a, b) : Math.unsignedMultiplyHigh(a, b);
            out[0] = lo;
            out[1] = hi;
            mulFlags(c, signed ? hi != (lo >> 63) : hi != 0, lo, 8);
            return;
        }
        int bits = size * 8;
        long full;
        if (signed) {
            int sh = 64 - bits;
            full = ((a << sh) >> sh) * ((b << sh) >> sh);
        } else {
            full = (a & m) * (b & m);
        }
        long lo = full & m;
        long hi = (full >> bits) & m;
        out[0] = lo;
        out[1] = hi;
        boolean ovf = signed ? (((full << (64 - bits)) >> (64 - bits)) != full) : hi != 0;
        mulFlags(c, ovf, lo, size);
    }

    /**
     * One-operand DIV/IDIV of the double-width dividend hi:lo by {@code divisor}; {@code out} gets {quotient,
     * remainder}. Raises #DE on a zero divisor or a quotient that does not fit. Flags are left unchanged (undefined).
     */
    public static void div(Cpu c, boolean signed, int size, long hi, long lo, long divisor, long[] out) {
        long m = Flags.mask(size);
        int bits = size * 8;
        divisor &= m;
        if (divisor == 0) {
            throw c.fault(CpuFault.DE);
        }
        if (size < 8) {
            long dividend = ((hi & m) << bits) | (lo & m);
            long q, r;
            if (signed) {
                int sh = 64 - 2 * bits;
                long sd = (dividend << sh) >> sh;
                long sv = (divisor << (64 - bits)) >> (64 - bits);
                q = sd / sv;
                r = sd % sv;
                if (q != ((q << (64 - bits)) >> (64 - bits))) {
                    throw c.fault(CpuFault.DE);
                }
            } else {
                q = Long.divideUnsigned(dividend, divisor);
                r = Long.remainderUnsigned(dividend, divisor);
                if ((q & ~m) != 0) {
                    throw c.fault(CpuFault.DE);
                }
            }
            out[0] = q & m;
            out[1] = r & m;
            return;
        }
        if (!signed) {
            if (Long.compareUnsigned(hi, divisor) >= 0) {
                throw c.fault(CpuFault.DE);
            }
            divu128(hi, lo, divisor, out);
            return;
        }
        boolean negDividend = hi < 0;
        long ahi = hi, alo = lo;
        if (negDividend) {
            alo = -lo;
            ahi = ~hi + (lo == 0 ? 1 : 0);
        }
        boolean negDivisor = divisor < 0;
        long adiv = negDivisor ? -divisor : divisor;
        if (Long.compareUnsigned(ahi, adiv) >= 0) {
            throw c.fault(CpuFault.DE);
        }
        divu128(ahi, alo, adiv, out);
        long q = out[0], r = out[1];
        boolean negQ = negDividend != negDivisor;
        if (negQ ? Long.compareUnsigned(q, 1L << 63) > 0 : q < 0) {
            throw c.fault(CpuFault.DE);
        }
        out[0] = negQ ? -q : q;
        out[1] = negDividend ? -r : r;
    }

    /** Unsigned 128/64 division, hi < d: shift-subtract, 64 steps. */
    private static void divu128(long hi, long lo, long d, long[] out) {
        if (hi == 0) {
            out[0] = Long.divideUnsigned(lo, d);
            out[1] = Long.remainderUnsigned(lo, d);
            return;
        }
        long q = 0;
        long r = hi;
        for (int i = 63; i >= 0; i--) {
            boolean top = r < 0;
            r = (r << 1) | ((lo >>> i) & 1);
            q <<= 1;
            if (top || Long.compareUnsigned(r, d) >= 0) {
                r -= d;
                q |= 1;
            }
        }
        out[0] = q;
        out[1] = r;
    }

    /**
     * BSF ({@code forward}) / BSR: returns the bit index, or -1 when {@code v} is 0 (the destination is then left
     * unchanged, as on Intel and AMD hardware). ZF is set for 0; CF, OF, SF, AF and PF are undefined: here CF/OF/SF/AF
     * are cleared and PF follows the index.
     */
    public static int bitScan(Cpu c, boolean forward, int size, long v) {
        v &= Flags.mask(size);
        if (v == 0) {
            Flags.setArith(c, Cpu.ZF | Cpu.PF);
            return -1;
        }
        int idx = forward ? Long.numberOfTrailingZeros(v) : 63 - Long.numberOfLeadingZeros(v);
        Flags.setArith(c, Flags.parity(idx) ? Cpu.PF : 0);
        return idx;
    }
}
