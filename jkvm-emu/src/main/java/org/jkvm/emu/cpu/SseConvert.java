package org.jkvm.emu.cpu;

/**
 * The packed and scalar SSE2 conversions of opcodes 0F 5A, 0F 5B and 0F E6 (SDM vol. 2 CVTPS2PD, CVTPD2PS,
 * CVTSS2SD, CVTSD2SS, CVTDQ2PS, CVTPS2DQ, CVTTPS2DQ, CVTTPD2DQ, CVTDQ2PD, CVTPD2DQ). Integer results out of range,
 * NaN or infinite give the integer indefinite 0x80000000 with IE. The scalar int conversions (CVTSI2SS...,
 * CVT(T)SS2SI...) are in {@link SseFloat}.
 */
final class SseConvert {
    private static final int SINGLE = SoftFloat.SINGLE, DOUBLE = SoftFloat.DOUBLE;

    private SseConvert() {}

    static void exec(Cpu c, Insn d, int op, int pfx) {
        long[] x = c.fpu.xmm;
        long[] t = c.fpu.t;
        int r = 2 * d.reg;
        long lo, hi;
        switch (op) {
            case 0x5a -> {
                switch (pfx) {
                    case Sse.NP -> {
                        long s = Sse.srcLow(c, d, 8);
                        SoftFloat sf = SseFloat.begin(c);
                        lo = cvt(sf, SINGLE, s & 0xffffffffL, DOUBLE);
                        hi = cvt(sf, SINGLE, s >>> 32, DOUBLE);
                    }
                    case Sse.P66 -> {
                        Sse.src128(c, d, true);
                        SoftFloat sf = SseFloat.begin(c);
                        lo = (cvt(sf, DOUBLE, t[0], SINGLE) & 0xffffffffL) | (cvt(sf, DOUBLE, t[1], SINGLE) << 32);
                        hi = 0;
                    }
                    case Sse.PF3 -> {
                        long s = Sse.srcLow(c, d, 4);
                        SoftFloat sf = SseFloat.begin(c);
                        long v = cvt(sf, SINGLE, s, DOUBLE);
                        SseFloat.end(c);
                        x[r] = v;
                        return;
                    }
                    default -> {
                        long s = Sse.srcLow(c, d, 8);
                        SoftFloat sf = SseFloat.begin(c);
                        long v = cvt(sf, DOUBLE, s, SINGLE);
                        SseFloat.end(c);
                        SseFloat.setLow(c, d.reg, true, v);
                        return;
                    }
                }
            }
            case 0x5b -> {
                if (pfx == Sse.PF2) {
                    throw Sse.ud(c);
                }
                Sse.src128(c, d, true);
                SoftFloat sf = SseFloat.begin(c);
                long r0, r1, r2, r3;
                if (pfx == Sse.NP) {
                    r0 = sf.fromInt((int) t[0], SINGLE);
                    r1 = sf.fromInt((int) (t[0] >>> 32), SINGLE);
                    r2 = sf.fromInt((int) t[1], SINGLE);
                    r3 = sf.fromInt((int) (t[1] >>> 32), SINGLE);
                } else {
                    int mode = pfx == Sse.PF3 ? SoftFloat.RZ : sf.rc;
                    r0 = toInt32(sf, SINGLE, t[0] & 0xffffffffL, mode);
                    r1 = toInt32(sf, SINGLE, t[0] >>> 32, mode);
                    r2 = toInt32(sf, SINGLE, t[1] & 0xffffffffL, mode);
                    r3 = toInt32(sf, SINGLE, t[1] >>> 32, mode);
                }
                lo = (r0 & 0xffffffffL) | (r1 << 32);
                hi = (r2 & 0xffffffffL) | (r3 << 32);
            }
            default -> {
                // 0F E6: CVTTPD2DQ (66), CVTDQ2PD (F3), CVTPD2DQ (F2).
                if (pfx == Sse.NP) {
                    throw Sse.ud(c);
                }
                if (pfx == Sse.PF3) {
                    long s = Sse.srcLow(c, d, 8);
                    SoftFloat sf = SseFloat.begin(c);
                    lo = sf.fromInt((int) s, DOUBLE);
                    hi = sf.fromInt((int) (s >>> 32), DOUBLE);
                } else {
                    Sse.src128(c, d, true);
                    SoftFloat sf = SseFloat.begin(c);
                    int mode = pfx == Sse.P66 ? SoftFloat.RZ : sf.rc;
                    lo = (toInt32(sf, DOUBLE, t[0], mode) & 0xffffffffL) | (toInt32(sf, DOUBLE, t[1], mode) << 32);
                    hi = 0;
                }
            }
        }
        SseFloat.end(c);
        x[r] = lo;
        x[r + 1] = hi;
    }

    private static long cvt(SoftFloat sf, int from, long v, int to) {
        sf.unpack(true, from, v, 0);
        return sf.convert(to);
    }

    private static long toInt32(SoftFloat sf, int fmt, long v, int mode) {
        sf.unpack(true, fmt, v, 0);
        return sf.toInt(32, mode);
    }
}
