package org.jkvm.emu.cpu;

/**
 * SSE/SSE2 floating-point instructions (SDM vol. 1 ch. 10.4 and 11.4.1, vol. 2): ADD/SUB/MUL/DIV/MIN/MAX/SQRT in
 * packed and scalar single and double forms, RCP/RSQRT, AND/ANDN/OR/XOR, CMPcc, COMISS/UCOMISS/COMISD/UCOMISD,
 * SHUFPS/SHUFPD, UNPCKL/H PS/PD and the CVT* conversions between integers, singles and doubles. Arithmetic is
 * {@link SoftFloat} under MXCSR's rounding, DAZ and FTZ controls; exceptions raised by any element are ORed into
 * MXCSR, and an unmasked one raises #XM (CR4.OSXMMEXCPT) or #UD with the destination unchanged (SDM vol. 1 11.5.1:
 * an unmasked pre-computation exception reports only the pre-computation flags).
 */
public final class SseFloat {
    private static final int SINGLE = SoftFloat.SINGLE, DOUBLE = SoftFloat.DOUBLE;

    private SseFloat() {}

    /** Loads MXCSR's controls into the soft-float unit and clears its flags. */
    static SoftFloat begin(Cpu c) {
        SoftFloat sf = c.fpu.sf;
        int m = c.fpu.mxcsr;
        sf.rc = (m >>> 13) & 3;
        sf.daz = (m & 0x40) != 0;
        sf.ftz = (m & 0x8000) != 0;
        sf.umMasked = (m & (1 << 11)) != 0;
        sf.x87 = false;
        sf.flags = 0;
        return sf;
    }

    /** Merges the raised flags into MXCSR; an unmasked exception faults before the destination is written. */
    static void end(Cpu c) {
        FpuState f = c.fpu;
        int fl = f.sf.flags;
        int masks = (f.mxcsr >>> 7) & 0x3f;
        if ((fl & ~masks) != 0) {
            int pre = fl & (SoftFloat.IE | SoftFloat.DE | SoftFloat.ZE);
            f.mxcsr |= (pre & ~masks) != 0 ? pre : fl;
            throw c.fault((c.cr4 & Cpu.CR4_OSXMMEXCPT) != 0 ? CpuFault.XM : CpuFault.UD);
        }
        f.mxcsr |= fl;
    }

    private static long e32(long lo, long hi, int i) {
        return ((i < 2 ? lo : hi) >>> (32 * (i & 1))) & 0xffffffffL;
    }

    static void exec(Cpu c, Insn d, int op, int pfx) {
        boolean ps = pfx == Sse.NP || pfx == Sse.P66;
        switch (op) {
            case 0x14, 0x15, 0x54, 0x55, 0x56, 0x57, 0xc6 -> {
                if (!ps) {
                    throw Sse.ud(c);
                }
                bitwise(c, d, op, pfx == Sse.P66);
            }
            case 0x2a -> {
                if (ps) {
                    Mmx.convert(c, d, op, pfx == Sse.P66); // CVTPI2PS, CVTPI2PD
                    return;
                }
                long v = Executor.readE(c, d, d.osz == 8 ? 8 : 4);
                if (d.osz != 8) {
                    v = (int) v;
                }
                SoftFloat sf = begin(c);
                long res = sf.fromInt(v, pfx == Sse.PF3 ? SINGLE : DOUBLE);
                end(c);
                setLow(c, d.reg, pfx == Sse.PF3, res);
            }
            case 0x2c, 0x2d -> {
                if (ps) {
                    Mmx.convert(c, d, op, pfx == Sse.P66); // CVT(T)PS2PI, CVT(T)PD2PI
                    return;
                }
                int fmt = pfx == Sse.PF3 ? SINGLE : DOUBLE;
                long v = Sse.srcLow(c, d, fmt == SINGLE ? 4 : 8);
                SoftFloat sf = begin(c);
                sf.unpack(true, fmt, v, 0);
                int bits = d.osz == 8 ? 64 : 32;
                long res = sf.toInt(bits, op == 0x2c ? SoftFloat.RZ : sf.rc);
                end(c);
                c.setReg(d.reg, bits / 8, d.rex, res);
            }
            case 0x2e, 0x2f -> {
                if (!ps) {
                    throw Sse.ud(c);
                }
                int fmt = pfx == Sse.NP ? SINGLE : DOUBLE;
                long b = Sse.srcLow(c, d, fmt == SINGLE ? 4 : 8);
                long a = c.fpu.xmm[2 * d.reg];
                SoftFloat sf = begin(c);
                sf.unpack(true, fmt, fmt == SINGLE ? a & 0xffffffffL : a, 0);
                sf.unpack(false, fmt, b, 0);
                int r = sf.compare(op == 0x2f);
                end(c);
                Flags.setArith(c, r == 2 ? Cpu.ZF | Cpu.PF | Cpu.CF : r < 0 ? Cpu.CF : r == 0 ? Cpu.ZF : 0);
            }
            case 0x51, 0x58, 0x59, 0x5c, 0x5d, 0x5e, 0x5f, 0xc2 -> arith(c, d, op, pfx);
            case 0x52, 0x53 -> {
                if (pfx != Sse.NP && pfx != Sse.PF3) {
                    throw Sse.ud(c);
                }
                arith(c, d, op, pfx);
            }
            case 0x5a, 0x5b, 0xe6 -> SseConvert.exec(c, d, op, pfx);
            default -> throw Sse.ud(c);
        }
    }

    /** Writes the low single (or double) of XMM {@code reg}, keeping the rest. */
    static void setLow(Cpu c, int reg, boolean single, long v) {
        long[] x = c.fpu.xmm;
        x[2 * reg] = single ? (x[2 * reg] & ~0xffffffffL) | (v & 0xffffffffL) : v;
    }

    /** Logic, shuffles and unpacks: no floating-point exceptions, any data. */
    private static void bitwise(Cpu c, Insn d, int op, boolean pd) {
        Sse.src128(c, d, true);
        long[] t = c.fpu.t;
        long[] x = c.fpu.xmm;
        int r = 2 * d.reg;
        long dl = x[r], dh = x[r + 1], sl = t[0], sh = t[1];
        long lo, hi;
        switch (op) {
            case 0x54 -> {
                lo = dl & sl;
                hi = dh & sh;
            }
            case 0x55 -> {
                lo = ~dl & sl;
                hi = ~dh & sh;
            }
            case 0x56 -> {
                lo = dl | sl;
                hi = dh | sh;
            }
            case 0x57 -> {
                lo = dl ^ sl;
                hi = dh ^ sh;
            }
            case 0x14 -> {
                lo = pd ? dl : (dl & 0xffffffffL) | (sl << 32);
                hi = pd ? sl : (dl >>> 32) | (sl & ~0xffffffffL);
            }
            case 0x15 -> {
                lo = pd ? dh : (dh & 0xffffffffL) | (sh << 32);
                hi = pd ? sh : (dh >>> 32) | (sh & ~0xffffffffL);
            }
            default -> {
                int imm = (int) d.imm;
                if (pd) {
                    lo = (imm & 1) == 0 ? dl : dh;
                    hi = (imm & 2) == 0 ? sl : sh;
                } else {
                    lo = e32(dl, dh, imm & 3) | (e32(dl, dh, (imm >>> 2) & 3) << 32);
                    hi = e32(sl, sh, (imm >>> 4) & 3) | (e32(sl, sh, (imm >>> 6) & 3) << 32);
                }
            }
        }
        x[r] = lo;
        x[r + 1] = hi;
    }

    /** Arithmetic, min/max, sqrt, reciprocal estimates and compares in the four prefix forms. */
    private static void arith(Cpu c, Insn d, int op, int pfx) {
        boolean single = pfx == Sse.NP || pfx == Sse.PF3;
        boolean scalar = pfx == Sse.PF3 || pfx == Sse.PF2;
        int fmt = single ? SINGLE : DOUBLE;
        long[] t = c.fpu.t;
        long[] x = c.fpu.xmm;
        int r = 2 * d.reg;
        if (scalar) {
            t[0] = Sse.srcLow(c, d, single ? 4 : 8);
        } else {
            Sse.src128(c, d, true);
        }
        SoftFloat sf = begin(c);
        int imm = (int) d.imm & 7;
        if (scalar) {
            long a = single ? x[r] & 0xffffffffL : x[r];
            long res = elem(sf, op, fmt, a, t[0], imm);
            end(c);
            setLow(c, d.reg, single, res);
            return;
        }
        long lo, hi;
        if (single) {
            long dl = x[r], dh = x[r + 1];
            long r0 = elem(sf, op, fmt, e32(dl, dh, 0), e32(t[0], t[1], 0), imm);
            long r1 = elem(sf, op, fmt, e32(dl, dh, 1), e32(t[0], t[1], 1), imm);
            long r2 = elem(sf, op, fmt, e32(dl, dh, 2), e32(t[0], t[1], 2), imm);
            long r3 = elem(sf, op, fmt, e32(dl, dh, 3), e32(t[0], t[1], 3), imm);
            lo = (r0 & 0xffffffffL) | (r1 << 32);
            hi = (r2 & 0xffffffffL) | (r3 << 32);
        } else {
            lo = elem(sf, op, fmt, x[r], t[0], imm);
            hi = elem(sf, op, fmt, x[r + 1], t[1], imm);
        }
        end(c);
        x[r] = lo;
        x[r + 1] = hi;
    }

    private static long elem(SoftFloat sf, int op, int fmt, long a, long b, int imm) {
        sf.unpack(true, fmt, op == 0x51 || op == 0x52 || op == 0x53 ? b : a, 0);
        sf.unpack(false, fmt, b, 0);
        switch (op) {
            case 0x58:
                return sf.add(fmt, false);
            case 0x5c:
                return sf.add(fmt, true);
            case 0x59:
                return sf.mul(fmt);
            case 0x5e:
                return sf.div(fmt);
            case 0x51:
                return sf.sqrt(fmt);
            case 0x52:
            case 0x53:
                return estimate(op == 0x52, b);
            case 0x5d:
            case 0x5f: {
                if (sf.aCls >= SoftFloat.QNAN || sf.bCls >= SoftFloat.QNAN) {
                    sf.flags |= SoftFloat.IE;
                    return dazValue(sf, fmt, b, false);
                }
                int r = sf.compare(false);
                boolean pickA = op == 0x5d ? r < 0 : r > 0;
                return dazValue(sf, fmt, pickA ? a : b, pickA);
            }
            default: {
                boolean signaling = imm == 1 || imm == 2 || imm == 5 || imm == 6;
                int r = sf.compare(signaling);
                boolean res = switch (imm) {
                    case 0 -> r == 0;
                    case 1 -> r == -1;
                    case 2 -> r == -1 || r == 0;
                    case 3 -> r == 2;
                    case 4 -> r != 0;
                    case 5 -> r != -1;
                    case 6 -> r != -1 && r != 0;
                    default -> r != 2;
                };
                return res ? (fmt == SINGLE ? 0xffffffffL : -1L) : 0;
            }
        }
    }

    /** MIN/MAX return an operand as it was read: a denormal made zero by DAZ is returned as that zero. */
    private static long dazValue(SoftFloat sf, int fmt, long v, boolean isA) {
        if (sf.daz && (isA ? sf.aCls : sf.bCls) == SoftFloat.ZERO) {
            return fmt == SINGLE ? v & 0x80000000L : v & Long.MIN_VALUE;
        }
        return v;
    }

    /**
     * RCPSS/RCPPS and RSQRTSS/RSQRTPS: the SDM allows a relative error of 1.5 * 2^-12 and leaves the exact value to
     * the implementation; this computes the correctly rounded single result (denormal inputs count as zero, tiny
     * results flush to zero, as the hardware does). No exceptions.
     */
    private static long estimate(boolean rsqrt, long bits) {
        float v = Float.intBitsToFloat((int) bits);
        if (Float.isNaN(v)) {
            return bits | 0x400000L;
        }
        if (Math.abs(v) < Float.MIN_NORMAL) {
            v = Math.copySign(0f, v);
        }
        float r;
        if (rsqrt) {
            r = v < 0 ? Float.intBitsToFloat(0xffc00000) : (float) (1.0 / Math.sqrt(v));
        } else {
            r = (float) (1.0 / v);
            if (Math.abs(r) < Float.MIN_NORMAL) {
                r = Math.copySign(0f, r);
            }
        }
        return Float.floatToRawIntBits(r) & 0xffffffffL;
    }
}
