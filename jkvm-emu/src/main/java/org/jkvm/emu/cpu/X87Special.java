package org.jkvm.emu.cpu;

/**
 * x87 FPREM/FPREM1 (exact partial remainder, SDM vol. 2A: the reduction is complete when the exponents differ by less
 * than 64, otherwise ST(0) is reduced by 2^N with N = 32..63 and C2 is set), FSCALE, and the transcendental
 * instructions computed through Java's double-precision {@link Math} (results within a few ulps of double precision,
 * not the hardware's 64-bit values; C2 = 1 leaves an argument of 2^63 or more unchanged, as the hardware does).
 */
final class X87Special {
    private static final int EXT = SoftFloat.EXT;

    private X87Special() {}

    static void fprem(FpuState f, boolean ieee) {
        if (X87.empty(f, 0) || X87.empty(f, 1)) {
            f.fsw &= ~FpuState.FSW_C2;
            if (X87.underflow(f)) {
                X87.set(f, 0, X87.INDEF_MANT, X87.INDEF_SE);
            }
            return;
        }
        SoftFloat sf = X87.sf(f, false);
        X87.unpackSt(f, sf, true, 0);
        X87.unpackSt(f, sf, false, 1);
        int cc = 0;
        sf.propagate(true, EXT);
        boolean special = sf.nanResult;
        if (!special) {
            if (sf.aCls == SoftFloat.INF || sf.bCls == SoftFloat.ZERO) {
                sf.flags |= SoftFloat.IE;
                sf.indefinite(EXT);
            } else {
                if ((sf.aCls == SoftFloat.NORM && sf.aDen) || (sf.bCls == SoftFloat.NORM && sf.bDen)) {
                    sf.flags |= SoftFloat.DE;
                }
                if (sf.aCls == SoftFloat.ZERO || sf.bCls == SoftFloat.INF) {
                    X87.unpackSt(f, sf, true, 0);
                    sf.rMant = f.mant[f.phys(0)];
                    sf.rSe = f.se[f.phys(0)];
                    if (sf.aCls == SoftFloat.NORM && sf.aDen) {
                        // A denormal dividend is returned normalized only by arithmetic; keep it as is.
                        sf.rMant = f.mant[f.phys(0)];
                    }
                } else {
                    cc = remainder(sf, ieee);
                }
            }
        }
        int fl = sf.flags;
        X87.finish(f, fl, false);
        if (X87.blocked(f, fl)) {
            return;
        }
        if ((fl & SoftFloat.IE) == 0 && !special) {
            f.fsw = (f.fsw & ~(FpuState.FSW_C3 | FpuState.FSW_C2 | FpuState.FSW_C1 | FpuState.FSW_C0)) | cc;
        } else {
            f.fsw &= ~FpuState.FSW_C2; // a NaN or invalid operand: C0 and C3 are kept (as the hardware does)
        }
        X87.set(f, 0, sf.rMant, sf.rSe);
    }

    /** Computes the (partial) remainder of finite nonzero a by b into rMant/rSe; returns the condition codes. */
    private static int remainder(SoftFloat sf, boolean ieee) {
        int d = sf.aExp - sf.bExp;
        boolean partial = d >= 64;
        long bs = sf.bSig;
        int resultExp = sf.bExp;
        if (partial) {
            int nBits = (d & 31) | 32;
            resultExp = sf.aExp - nBits;
            d = nBits;
        }
        long r = sf.aSig;
        long q = 0;
        boolean neg = sf.aNeg;
        if (d < 0) {
            // |a| < |b|: quotient 0, except FPREM1 may round 0.5 < |a/b| < 1 up.
            if (ieee && d == -1 && Long.compareUnsigned(sf.aSig, bs) > 0) {
                // r = a - b with a = aSig/2 in b's scale: b - a/2 ... computed exactly below.
                long half = sf.aSig >>> 1;
                boolean lost = (sf.aSig & 1) != 0;
                long diff = bs - half - (lost ? 1 : 0);
                // value = (bs - aSig/2) in units of 2^(bExp-63); with a lost bit, diff + 0.5.
                int exp = sf.bExp;
                long hi = diff, lo = lost ? Long.MIN_VALUE : 0;
                int lz = hi != 0 ? Long.numberOfLeadingZeros(hi) : 64 + Long.numberOfLeadingZeros(lo);
                if (lz < 64) {
                    hi = lz == 0 ? hi : (hi << lz) | (lo >>> (64 - lz));
                    lo <<= lz;
                } else {
                    hi = lo << (lz - 64);
                    lo = 0;
                }
                sf.roundPack(!neg, exp - lz, hi, lo, EXT);
                return FpuState.FSW_C1;
            }
            sf.roundPack(neg, sf.aExp, sf.aSig, 0, EXT);
            return 0;
        }
        boolean carry = false;
        for (int k = d; k >= 0; k--) {
            q <<= 1;
            if (carry || Long.compareUnsigned(r, bs) >= 0) {
                r -= bs;
                q |= 1;
            }
            if (k > 0) {
                carry = r < 0;
                r <<= 1;
            }
        }
        if (ieee && !partial) {
            // Round the quotient to nearest even: compare 2r with b.
            boolean top = r < 0;
            long r2 = r << 1;
            int cmp = top ? 1 : Long.compareUnsigned(r2, bs);
            if (cmp > 0 || (cmp == 0 && (q & 1) != 0)) {
                q++;
                r = bs - r;
                neg = !neg;
            }
        }
        int cc = 0;
        if ((q & 4) != 0) {
            cc |= FpuState.FSW_C0;
        }
        if ((q & 2) != 0) {
            cc |= FpuState.FSW_C3;
        }
        if ((q & 1) != 0) {
            cc |= FpuState.FSW_C1;
        }
        if (partial) {
            cc = FpuState.FSW_C2;
        }
        if (r == 0) {
            sf.rMant = 0;
            sf.rSe = sf.aNeg ? 0x8000 : 0;
            return cc;
        }
        int lz = Long.numberOfLeadingZeros(r);
        sf.roundPack(neg, resultExp - lz, r << lz, 0, EXT);
        return cc;
    }

    /** FSCALE: ST(0) * 2^trunc(ST(1)). */
    static void fscale(FpuState f) {
        if (X87.empty(f, 0) || X87.empty(f, 1)) {
            if (X87.underflow(f)) {
                X87.set(f, 0, X87.INDEF_MANT, X87.INDEF_SE);
            }
            return;
        }
        SoftFloat sf = X87.sf(f, false);
        X87.unpackSt(f, sf, true, 0);
        X87.unpackSt(f, sf, false, 1);
        sf.propagate(true, EXT);
        if (!sf.nanResult) {
            if ((sf.aCls == SoftFloat.NORM && sf.aDen) || (sf.bCls == SoftFloat.NORM && sf.bDen)) {
                sf.flags |= SoftFloat.DE;
            }
            if (sf.bCls == SoftFloat.INF) {
                boolean toZero = sf.bNeg;
                if ((toZero && sf.aCls == SoftFloat.INF) || (!toZero && sf.aCls == SoftFloat.ZERO)) {
                    sf.flags |= SoftFloat.IE;
                    sf.indefinite(EXT);
                } else if (toZero) {
                    sf.rMant = 0;
                    sf.rSe = sf.aNeg ? 0x8000 : 0;
                } else {
                    sf.rMant = 1L << 63;
                    sf.rSe = (sf.aNeg ? 0x8000 : 0) | 0x7fff;
                }
            } else if (sf.aCls != SoftFloat.NORM) {
                int p = f.phys(0);
                sf.rMant = f.mant[p];
                sf.rSe = f.se[p];
            } else {
                long n;
                if (sf.bCls == SoftFloat.ZERO || sf.bExp < 0) {
                    n = 0;
                } else if (sf.bExp >= 20) {
                    n = 1 << 20;
                } else {
                    n = sf.bSig >>> (63 - sf.bExp);
                }
                if (sf.bNeg) {
                    n = -n;
                }
                sf.roundPack(sf.aNeg, sf.aExp + (int) n, sf.aSig, 0, EXT);
            }
        }
        int fl = sf.flags;
        X87.finish(f, fl, sf.roundedUp && (fl & SoftFloat.PE) != 0);
        if (!X87.blocked(f, fl)) {
            X87.set(f, 0, sf.rMant, sf.rSe);
        }
    }

    private static double toDouble(FpuState f, int i) {
        SoftFloat sf = f.sf;
        int p = f.phys(i);
        sf.rc = SoftFloat.RN;
        sf.unpack(true, EXT, f.mant[p], f.se[p]);
        return Double.longBitsToDouble(sf.convert(SoftFloat.DOUBLE));
    }

    private static void store(FpuState f, int i, double v) {
        SoftFloat sf = f.sf;
        sf.unpack(true, SoftFloat.DOUBLE, Double.doubleToRawLongBits(v), 0);
        sf.convert(EXT);
        X87.set(f, i, sf.rMant, sf.rSe);
    }

    /** D9 F0-F3 and F8-FF transcendental instructions (opcode byte {@code code}). */
    static void transcendental(FpuState f, int code) {
        boolean binary = code == 0xf1 || code == 0xf3 || code == 0xf9;
        if (X87.empty(f, 0) || (binary && X87.empty(f, 1))) {
            if (X87.underflow(f)) {
                X87.set(f, binary ? 1 : 0, X87.INDEF_MANT, X87.INDEF_SE);
                if (binary) {
                    X87.pop(f);
                }
            }
            return;
        }
        X87.sf(f, false);
        double x = toDouble(f, 0);
        f.fsw &= ~(FpuState.FSW_C1 | FpuState.FSW_C2);
        boolean trig = code == 0xf2 || code == 0xfb || code == 0xfe || code == 0xff;
        if (trig && Math.abs(x) >= 0x1p63) {
            f.fsw |= FpuState.FSW_C2;
            return;
        }
        switch (code) {
            case 0xf0 -> store(f, 0, Math.expm1(x * Math.log(2)));
            case 0xf1 -> {
                store(f, 1, toDouble(f, 1) * (Math.log(x) / Math.log(2)));
                X87.pop(f);
            }
            case 0xf9 -> {
                store(f, 1, toDouble(f, 1) * (Math.log1p(x) / Math.log(2)));
                X87.pop(f);
            }
            case 0xf3 -> {
                store(f, 1, Math.atan2(toDouble(f, 1), x));
                X87.pop(f);
            }
            case 0xf2 -> {
                store(f, 0, Math.tan(x));
                X87.push(f, 1L << 63, 0x3fff);
            }
            case 0xfb -> {
                store(f, 0, Math.sin(x));
                double cos = Math.cos(x);
                f.sf.unpack(true, SoftFloat.DOUBLE, Double.doubleToRawLongBits(cos), 0);
                f.sf.convert(EXT);
                X87.push(f, f.sf.rMant, f.sf.rSe);
            }
            case 0xfe -> store(f, 0, Math.sin(x));
            case 0xff -> store(f, 0, Math.cos(x));
            default -> throw new IllegalStateException("x87 opcode D9 " + Integer.toHexString(code));
        }
        f.fsw |= SoftFloat.PE;
        X87.summary(f);
    }
}
