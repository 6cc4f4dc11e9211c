package org.jkvm.emu.cpu;

/**
 * IEEE 754 binary arithmetic in software for SSE (single, double) and x87 (80-bit extended), bit-exact with x86
 * hardware (SDM vol. 1 ch. 4.8 "Real numbers and floating-point formats", 4.9 "Floating-point exception conditions",
 * 11.5 "SSE/SSE2 exceptions"): the four rounding modes, x87 precision control, tininess detected after rounding,
 * denormals-are-zero and flush-to-zero, and the six exception flags in MXCSR/FSW bit order.
 *
 * <p>Operands are unpacked into sign, unbiased exponent of the leading bit and a 64-bit significand with the leading
 * bit at bit 63; results are computed exactly (128-bit intermediates, bit-serial division and square root) and rounded
 * once by {@link #roundPack}. One instance per vCPU holds the operand scratch and the control inputs, so an operation
 * allocates nothing. Single and double results are returned as raw bits; extended results are left in
 * {@link #rMant}/{@link #rSe}.
 */
public final class SoftFloat {
    public static final int SINGLE = 0, DOUBLE = 1, EXT = 2;
    /** Exception flags (MXCSR bits 0-5, FSW bits 0-5). */
    public static final int IE = 1, DE = 2, ZE = 4, OE = 8, UE = 16, PE = 32;
    /** Rounding control (MXCSR.RC, FCW.RC). */
    public static final int RN = 0, RD = 1, RU = 2, RZ = 3;
    /** Operand classes. */
    static final int ZERO = 0, NORM = 1, INF = 2, QNAN = 3, SNAN = 4, UNSUP = 5;

    private static final int[] PREC = {24, 53, 64};
    private static final int[] BIAS = {127, 1023, 16383};

    // ---- Controls, set by the caller before an operation ----
    public int rc;
    /** Denormals-are-zero (MXCSR.DAZ) for inputs, flush-to-zero (MXCSR.FTZ) for tiny results. */
    public boolean daz, ftz;
    /** Underflow masked: UE is then reported only for tiny and inexact results. */
    public boolean umMasked = true;
    /** x87 NaN rules (larger significand wins) instead of SSE's (first operand wins). */
    public boolean x87;
    /** Significand precision of extended results (x87 precision control: 24, 53 or 64). */
    public int extPrecision = 64;

    // ---- Outputs ----
    /** Exception flags raised since the caller last cleared them. */
    public int flags;
    /** The last rounding increased the magnitude (x87 C1). */
    public boolean roundedUp;
    /** Extended result: significand with explicit integer bit, and sign|exponent (16 bits). */
    public long rMant;
    public int rSe;

    // ---- Unpacked operands a and b ----
    int aCls, bCls, aExp, bExp;
    boolean aNeg, bNeg, aDen, bDen;
    long aSig, bSig;

    /** Unpacks {@code bits} (single/double) or {@code mant}/{@code se} (extended) into operand a or b. */
    void unpack(boolean intoA, int fmt, long bits, int se) {
        boolean neg;
        int cls;
        int exp = 0;
        long sig = 0;
        boolean den = false;
        if (fmt == EXT) {
            neg = (se & 0x8000) != 0;
            int e = se & 0x7fff;
            long m = bits;
            if (e == 0) {
                if (m == 0) {
                    cls = ZERO;
                } else {
                    int lz = Long.numberOfLeadingZeros(m);
                    cls = NORM;
                    den = true;
                    exp = (63 - lz) - 16445;
                    sig = m << lz;
                }
            } else if (e == 0x7fff) {
                sig = m;
                if (m >= 0) {
                    cls = UNSUP;
                } else if ((m << 1) == 0) {
                    cls = INF;
                } else {
                    cls = (m & (1L << 62)) != 0 ? QNAN : SNAN;
                }
            } else if (m >= 0) {
                cls = UNSUP;
            } else {
                cls = NORM;
                exp = e - 16383;
                sig = m;
            }
        } else {
            boolean single = fmt == SINGLE;
            int fracBits = single ? 23 : 52;
            int emask = single ? 0xff : 0x7ff;
            neg = (single ? (bits >>> 31) & 1 : bits >>> 63) != 0;
            int e = (int) (bits >>> fracBits) & emask;
            long m = bits & ((1L << fracBits) - 1);
            if (e == 0) {
                if (m == 0) {
                    cls = ZERO;
                } else if (daz) {
                    cls = ZERO;
                } else {
                    int lz = Long.numberOfLeadingZeros(m);
                    cls = NORM;
                    den = true;
                    exp = (63 - lz) - (single ? 149 : 1074);
                    sig = m << lz;
                }
            } else if (e == emask) {
                sig = (m << (63 - fracBits)) | (1L << 63);
                cls = m == 0 ? INF : (m & (1L << (fracBits - 1))) != 0 ? QNAN : SNAN;
            } else {
                cls = NORM;
                exp = e - (single ? 127 : 1023);
                sig = (m | (1L << fracBits)) << (63 - fracBits);
            }
        }
        if (intoA) {
            aNeg = neg;
            aCls = cls;
            aExp = exp;
            aSig = sig;
            aDen = den;
        } else {
            bNeg = neg;
            bCls = cls;
            bExp = exp;
            bSig = sig;
            bDen = den;
        }
    }

    // ---- Packing special values ----

    long packZero(boolean neg, int fmt) {
        return packRaw(neg, 0, 0, fmt);
    }

    long packInf(boolean neg, int fmt) {
        return packRaw(neg, fmt == SINGLE ? 0xff : fmt == DOUBLE ? 0x7ff : 0x7fff, fmt == EXT ? 1L << 63 : 0, fmt);
    }

    /** The default NaN ("real indefinite"): negative, quiet, zero payload. */
    public long indefinite(int fmt) {
        return packRaw(true, fmt == SINGLE ? 0xff : fmt == DOUBLE ? 0x7ff : 0x7fff,
                fmt == SINGLE ? 1L << 22 : fmt == DOUBLE ? 1L << 51 : 3L << 62, fmt);
    }

    /** A NaN from an unpacked significand (bit 63 the integer bit, bit 62 the quiet bit), made quiet. */
    long packNan(boolean neg, long sig, int fmt) {
        sig |= 3L << 62;
        return switch (fmt) {
            case SINGLE -> packRaw(neg, 0xff, (sig >>> 40) & 0x7fffff, fmt);
            case DOUBLE -> packRaw(neg, 0x7ff, (sig >>> 11) & 0xfffffffffffffL, fmt);
            default -> packRaw(neg, 0x7fff, sig, fmt);
        };
    }

    /** Packs a biased exponent field and a fraction (extended: the whole significand). */
    private long packRaw(boolean neg, int e, long m, int fmt) {
        switch (fmt) {
            case SINGLE:
                return (neg ? 0x80000000L : 0) | ((long) e << 23) | m;
            case DOUBLE:
                return (neg ? Long.MIN_VALUE : 0) | ((long) e << 52) | m;
            default:
                rMant = m;
                rSe = (neg ? 0x8000 : 0) | e;
                return m;
        }
    }

    // ---- Rounding ----

    private boolean increment(long kept, boolean half, boolean sticky, boolean neg, int mode) {
        return switch (mode) {
            case RN -> half && (sticky || (kept & 1) != 0);
            case RD -> neg && (half || sticky);
            case RU -> !neg && (half || sticky);
            default -> false;
        };
    }

    /**
     * Rounds the exact value {@code (sig + extra / 2^64) * 2^(exp - 63)} ({@code sig} normalized, bit 63 set) to
     * {@code fmt} in the current rounding mode and packs it, raising PE, UE and OE as the hardware does.
     */
    long roundPack(boolean neg, int exp, long sig, long extra, int fmt) {
        int p = fmt == EXT ? extPrecision : PREC[fmt];
        int bias = BIAS[fmt];
        int emin = 1 - bias;
        int mode = rc;
        roundedUp = false;
        int shift = 64 - p;
        boolean tiny = false;
        if (exp < emin) {
            tiny = true;
            if (exp == emin - 1) {
                // Tininess after rounding: rounding at full precision may carry up to the smallest normal.
                long kept = shift == 0 ? sig : sig >>> shift;
                long rem = shift == 0 ? extra : sig << (64 - shift);
                boolean half = rem < 0;
                boolean sticky = (rem << 1) != 0 || (shift != 0 && extra != 0);
                long all = p == 64 ? -1L : (1L << p) - 1;
                if (kept == all && increment(kept, half, sticky, neg, mode)) {
                    tiny = false;
                }
            }
            if (tiny && ftz && umMasked) {
                flags |= UE | PE;
                return packZero(neg, fmt);
            }
            shift += emin - exp;
        }
        long kept;
        boolean half, sticky;
        if (shift == 0) {
            kept = sig;
            half = extra < 0;
            sticky = (extra << 1) != 0;
        } else if (shift < 64) {
            kept = sig >>> shift;
            long rem = sig << (64 - shift);
            half = rem < 0;
            sticky = (rem << 1) != 0 || extra != 0;
        } else if (shift == 64) {
            kept = 0;
            half = sig < 0;
            sticky = (sig << 1) != 0 || extra != 0;
        } else {
            kept = 0;
            half = false;
            sticky = sig != 0 || extra != 0;
        }
        boolean inexact = half || sticky;
        if (inexact) {
            flags |= PE;
        }
        if (tiny && (inexact || !umMasked)) {
            flags |= UE;
        }
        if (increment(kept, half, sticky, neg, mode)) {
            kept++;
            roundedUp = true;
        }
        if (tiny) {
            // Denormal (or rounded up to the smallest normal: the integer bit lands in the exponent field).
            if (fmt == EXT) {
                long m = kept << (64 - p);
                return packRaw(neg, m < 0 ? 1 : 0, m, fmt);
            }
            return packRaw(neg, 0, kept, fmt); // a carry into bit p-1 reads as exponent field 1
        }
        if (p == 64 ? kept == 0 : kept == (1L << p)) {
            kept = 1L << (p - 1);
            exp++;
        }
        if (exp > bias) {
            flags |= OE | PE;
            boolean toInf = mode == RN || (mode == RD && neg) || (mode == RU && !neg);
            roundedUp = toInf;
            if (toInf) {
                return packInf(neg, fmt);
            }
            long max = p == 64 ? -1L : (1L << p) - 1;
            return packFinite(neg, 2 * bias, max, p, fmt);
        }
        return packFinite(neg, exp + bias, kept, p, fmt);
    }

    private long packFinite(boolean neg, int biasedExp, long kept, int p, int fmt) {
        return switch (fmt) {
            case SINGLE -> packRaw(neg, biasedExp, kept & 0x7fffff, fmt);
            case DOUBLE -> packRaw(neg, biasedExp, kept & 0xfffffffffffffL, fmt);
            default -> packRaw(neg, biasedExp, kept << (64 - p), fmt);
        };
    }

    // ---- NaN propagation ----

    private static boolean isNan(int cls) {
        return cls == QNAN || cls == SNAN;
    }

    /** If an operand is a NaN (or an unsupported x87 encoding), returns the result and sets {@code nanResult}. */
    boolean nanResult;

    long propagate(boolean binary, int fmt) {
        nanResult = true;
        if (aCls == UNSUP || (binary && bCls == UNSUP)) {
            flags |= IE;
            return indefinite(fmt);
        }
        boolean an = isNan(aCls);
        boolean bn = binary && isNan(bCls);
        if (aCls == SNAN || (binary && bCls == SNAN)) {
            flags |= IE;
        }
        if (an && bn && x87) {
            // x87: a QNaN beats an SNaN, otherwise the larger significand (SDM vol. 1 table 4-7).
            boolean pickB;
            if (aCls != bCls) {
                pickB = bCls == QNAN;
            } else {
                long ma = aSig & ~(1L << 62), mb = bSig & ~(1L << 62);
                pickB = Long.compareUnsigned(mb, ma) > 0 || (mb == ma && aNeg && !bNeg);
            }
            return pickB ? packNan(bNeg, bSig, fmt) : packNan(aNeg, aSig, fmt);
        }
        if (an) {
            return packNan(aNeg, aSig, fmt);
        }
        if (bn) {
            return packNan(bNeg, bSig, fmt);
        }
        nanResult = false;
        return 0;
    }

    private void denormalFlag(boolean binary) {
        if ((aCls == NORM && aDen) || (binary && bCls == NORM && bDen)) {
            flags |= DE;
        }
    }

    // ---- Arithmetic on unpacked operands a and b ----

    /** a + b (or a - b when {@code subtract}). */
    long add(int fmt, boolean subtract) {
        long n = propagate(true, fmt);
        if (nanResult) {
            return n;
        }
        boolean bN = bNeg ^ subtract;
        if (aCls == INF || bCls == INF) {
            if (aCls == INF && bCls == INF && aNeg != bN) {
                flags |= IE;
                return indefinite(fmt);
            }
            denormalFlag(true);
            return packInf(aCls == INF ? aNeg : bN, fmt);
        }
        denormalFlag(true);
        if (aCls == ZERO && bCls == ZERO) {
            boolean neg = aNeg == bN ? aNeg : rc == RD;
            return packZero(neg, fmt);
        }
        if (bCls == ZERO) {
            return roundPack(aNeg, aExp, aSig, 0, fmt);
        }
        if (aCls == ZERO) {
            return roundPack(bN, bExp, bSig, 0, fmt);
        }
        boolean xN = aNeg, yN = bN;
        int xE = aExp, yE = bExp;
        long xS = aSig, yS = bSig;
        if (xE < yE || (xE == yE && Long.compareUnsigned(xS, yS) < 0)) {
            xN = bN;
            yN = aNeg;
            xE = bExp;
            yE = aExp;
            xS = bSig;
            yS = aSig;
        }
        int d = xE - yE;
        long yHi, yLo;
        if (d == 0) {
            yHi = yS;
            yLo = 0;
        } else if (d < 64) {
            yHi = yS >>> d;
            yLo = yS << (64 - d);
        } else if (d == 64) {
            yHi = 0;
            yLo = yS;
        } else if (d < 128) {
            yHi = 0;
            yLo = (yS >>> (d - 64)) | ((yS << (128 - d)) != 0 ? 1 : 0);
        } else {
            yHi = 0;
            yLo = 1;
        }
        long hi, lo;
        int exp = xE;
        if (xN == yN) {
            lo = yLo;
            hi = xS + yHi;
            if (Long.compareUnsigned(hi, xS) < 0) {
                lo = (lo >>> 1) | (hi << 63) | (lo & 1);
                hi = (hi >>> 1) | Long.MIN_VALUE;
                exp++;
            }
        } else {
            lo = -yLo;
            hi = xS - yHi - (yLo != 0 ? 1 : 0);
            if (hi == 0 && lo == 0) {
                return packZero(rc == RD, fmt);
            }
            int lz = hi != 0 ? Long.numberOfLeadingZeros(hi) : 64 + Long.numberOfLeadingZeros(lo);
            if (lz >= 64) {
                hi = lo << (lz - 64);
                lo = 0;
            } else if (lz > 0) {
                hi = (hi << lz) | (lo >>> (64 - lz));
                lo <<= lz;
            }
            exp -= lz;
        }
        return roundPack(xN, exp, hi, lo, fmt);
    }

    long mul(int fmt) {
        long n = propagate(true, fmt);
        if (nanResult) {
            return n;
        }
        boolean neg = aNeg ^ bNeg;
        if (aCls == INF || bCls == INF) {
            if (aCls == ZERO || bCls == ZERO) {
                flags |= IE;
                return indefinite(fmt);
            }
            denormalFlag(true);
            return packInf(neg, fmt);
        }
        denormalFlag(true);
        if (aCls == ZERO || bCls == ZERO) {
            return packZero(neg, fmt);
        }
        long hi = Math.unsignedMultiplyHigh(aSig, bSig);
        long lo = aSig * bSig;
        int exp = aExp + bExp + 1;
        if (hi >= 0) {
            hi = (hi << 1) | (lo >>> 63);
            lo <<= 1;
            exp--;
        }
        return roundPack(neg, exp, hi, lo, fmt);
    }

    long div(int fmt) {
        long n = propagate(true, fmt);
        if (nanResult) {
            return n;
        }
        boolean neg = aNeg ^ bNeg;
        if (aCls == INF) {
            if (bCls == INF) {
                flags |= IE;
                return indefinite(fmt);
            }
            denormalFlag(true);
            return packInf(neg, fmt);
        }
        if (bCls == INF) {
            denormalFlag(true);
            return packZero(neg, fmt);
        }
        if (bCls == ZERO) {
            if (aCls == ZERO) {
                flags |= IE;
                return indefinite(fmt);
            }
            flags |= ZE; // only #Z, no #D for a denormal dividend (x87 and SSE alike)
            return packInf(neg, fmt);
        }
        denormalFlag(true);
        if (aCls == ZERO) {
            return packZero(neg, fmt);
        }
        long r = aSig;
        long bs = bSig;
        int exp = aExp - bExp;
        long q = 0;
        int bits = 0;
        if (Long.compareUnsigned(r, bs) >= 0) {
            r -= bs;
            q = 1;
            bits = 1;
        } else {
            exp--;
        }
        boolean roundBit = false;
        while (bits < 65) {
            boolean top = r < 0;
            r <<= 1;
            boolean ge = top || Long.compareUnsigned(r, bs) >= 0;
            if (ge) {
                r -= bs;
            }
            if (bits < 64) {
                q = (q << 1) | (ge ? 1 : 0);
            } else {
                roundBit = ge;
            }
            bits++;
        }
        long extra = (roundBit ? Long.MIN_VALUE : 0) | (r != 0 ? 1 : 0);
        return roundPack(neg, exp, q, extra, fmt);
    }

    long sqrt(int fmt) {
        long n = propagate(false, fmt);
        if (nanResult) {
            return n;
        }
        if (aCls == ZERO) {
            return packZero(aNeg, fmt);
        }
        if (aNeg) {
            flags |= IE;
            return indefinite(fmt);
        }
        if (aCls == INF) {
            return packInf(false, fmt);
        }
        denormalFlag(false);
        long nh, nl;
        if ((aExp & 1) == 0) {
            nh = aSig >>> 1;
            nl = aSig << 63;
        } else {
            nh = aSig;
            nl = 0;
        }
        long root = 0, rh = 0, rl = 0;
        for (int i = 0; i < 64; i++) {
            int two = i < 32 ? (int) (nh >>> (62 - 2 * i)) & 3 : (int) (nl >>> (62 - 2 * (i - 32))) & 3;
            rh = (rh << 2) | (rl >>> 62);
            rl = (rl << 2) | two;
            long th = root >>> 62;
            long tl = (root << 2) | 1;
            if (rh > th || (rh == th && Long.compareUnsigned(rl, tl) >= 0)) {
                rh = rh - th - (Long.compareUnsigned(rl, tl) < 0 ? 1 : 0);
                rl -= tl;
                root = (root << 1) | 1;
            } else {
                root <<= 1;
            }
        }
        boolean half = rh > 0 || Long.compareUnsigned(rl, root) > 0;
        long extra = (half ? Long.MIN_VALUE : 0) | ((rh | rl) != 0 ? 1 : 0);
        return roundPack(false, Math.floorDiv(aExp, 2), root, extra, fmt);
    }

    /**
     * Compares a and b: -1 less, 0 equal, 1 greater, 2 unordered. IE for an SNaN, or for any NaN when
     * {@code signaling}; DE for denormal operands.
     */
    int compare(boolean signaling) {
        if (aCls == UNSUP || bCls == UNSUP) {
            flags |= IE;
            return 2;
        }
        if (isNan(aCls) || isNan(bCls)) {
            if (signaling || aCls == SNAN || bCls == SNAN) {
                flags |= IE;
            }
            return 2;
        }
        denormalFlag(true);
        int sa = signum(true), sb = signum(false);
        if (sa != sb) {
            return sa < sb ? -1 : 1;
        }
        if (sa == 0) {
            return 0;
        }
        int mag;
        if (aCls == INF || bCls == INF) {
            mag = aCls == bCls ? 0 : aCls == INF ? 1 : -1;
        } else if (aExp != bExp) {
            mag = aExp < bExp ? -1 : 1;
        } else {
            mag = Long.compareUnsigned(aSig, bSig);
            mag = mag < 0 ? -1 : mag > 0 ? 1 : 0;
        }
        return sa < 0 ? -mag : mag;
    }

    private int signum(boolean a) {
        if ((a ? aCls : bCls) == ZERO) {
            return 0;
        }
        return (a ? aNeg : bNeg) ? -1 : 1;
    }

    // ---- Conversions ----

    /** Converts operand a to {@code fmt} (single/double/extended widening and narrowing). */
    long convert(int fmt) {
        return convert(fmt, true);
    }

    /** As {@link #convert(int)}; x87 stores to memory report no #D ({@code denormalFlag} false). */
    long convert(int fmt, boolean denormal) {
        long n = propagate(false, fmt);
        if (nanResult) {
            return n;
        }
        switch (aCls) {
            case ZERO:
                return packZero(aNeg, fmt);
            case INF:
                return packInf(aNeg, fmt);
            default:
                if (denormal) {
                    denormalFlag(false);
                }
                return roundPack(aNeg, aExp, aSig, 0, fmt);
        }
    }

    /**
     * Operand a rounded to an integer in the current rounding mode, as an extended value (FRNDINT): NaNs propagate,
     * zeros and infinities and values of 2^63 or more are unchanged.
     */
    long roundInt() {
        long n = propagate(false, EXT);
        if (nanResult) {
            return n;
        }
        if (aCls == ZERO || aCls == INF) {
            return aCls == ZERO ? packZero(aNeg, EXT) : packInf(aNeg, EXT);
        }
        denormalFlag(false);
        if (aExp >= 63) {
            return packRaw(aNeg, aExp + 16383, aSig, EXT);
        }
        int shift = 63 - aExp;
        long kept;
        boolean half, sticky;
        if (shift < 64) {
            kept = aSig >>> shift;
            long rem = aSig << (64 - shift);
            half = rem < 0;
            sticky = (rem << 1) != 0;
        } else if (shift == 64) {
            kept = 0;
            half = aSig < 0;
            sticky = (aSig << 1) != 0;
        } else {
            kept = 0;
            half = false;
            sticky = true;
        }
        roundedUp = false;
        if (half || sticky) {
            flags |= PE;
            if (increment(kept, half, sticky, aNeg, rc)) {
                kept++;
                roundedUp = true;
            }
        }
        if (kept == 0) {
            return packZero(aNeg, EXT);
        }
        int lz = Long.numberOfLeadingZeros(kept);
        return packRaw(aNeg, 63 - lz + 16383, kept << lz, EXT);
    }

    /** A signed integer to {@code fmt}. */
    long fromInt(long v, int fmt) {
        if (v == 0) {
            return packZero(false, fmt);
        }
        boolean neg = v < 0;
        long mag = neg ? -v : v;
        int lz = Long.numberOfLeadingZeros(mag);
        return roundPack(neg, 63 - lz, mag << lz, 0, fmt);
    }

    /**
     * Operand a to a signed integer of {@code bits} (16, 32 or 64), rounding in {@code mode}; NaN, infinity or out of
     * range give the integer indefinite (the most negative value) with IE.
     */
    long toInt(int bits, int mode) {
        long indefinite = 1L << (bits - 1);
        if (aCls == QNAN || aCls == SNAN || aCls == INF || aCls == UNSUP) {
            flags |= IE;
            return indefinite;
        }
        if (aCls == ZERO) {
            return 0;
        }
        // No #D: conversions to integer report only invalid and precision (SDM CVTSS2SI, FIST).
        if (aExp >= 64) {
            flags |= IE;
            return indefinite;
        }
        int shift = 63 - aExp;
        long kept;
        boolean half, sticky;
        if (shift == 0) {
            kept = aSig;
            half = false;
            sticky = false;
        } else if (shift < 64) {
            kept = aSig >>> shift;
            long rem = aSig << (64 - shift);
            half = rem < 0;
            sticky = (rem << 1) != 0;
        } else if (shift == 64) {
            kept = 0;
            half = aSig < 0;
            sticky = (aSig << 1) != 0;
        } else {
            kept = 0;
            half = false;
            sticky = true;
        }
        roundedUp = false;
        if (increment(kept, half, sticky, aNeg, mode)) {
            kept++;
            roundedUp = true;
            if (kept == 0) {
                flags |= IE;
                return indefinite;
            }
        }
        long limit = aNeg ? indefinite : indefinite - 1;
        if (Long.compareUnsigned(kept, limit) > 0) {
            flags |= IE;
            return indefinite;
        }
        if (half || sticky) {
            flags |= PE;
        }
        return aNeg ? -kept : kept;
    }
}
