package org.jkvm.emu.cpu;

/**
 * x87 control and special-function instructions (SDM vol. 1 8.1.9-8.3, vol. 2): FNINIT, FNCLEX, FLDCW/FNSTCW,
 * FNSTSW, FNSTENV/FLDENV and FNSAVE/FRSTOR (protected-mode 32- and 16-bit layouts, table 8-9/8-10), the D9 map
 * (FLD ST(i), FXCH, FCHS, FABS, FTST, FXAM, the constants rounded per RC from their 66-bit values, FXTRACT, FPREM,
 * FPREM1, FDECSTP, FINCSTP, FSQRT, FRNDINT, FSCALE) and FBLD/FBSTP. The transcendental functions (F2XM1, FYL2X,
 * FYL2XP1, FPTAN, FPATAN, FSIN, FCOS, FSINCOS) are computed in double precision and are not bit-exact with hardware.
 */
final class X87Ops {
    private static final int EXT = SoftFloat.EXT;
    private static final long[] CONST_MANT = {1L << 63, 0xd49a784bcd1b8afeL, 0xb8aa3b295c17f0bbL,
        0xc90fdaa22168c234L, 0x9a209a84fbcff798L, 0xb17217f7d1cf79abL, 0};
    private static final int[] CONST_SE = {0x3fff, 0x4000, 0x3fff, 0x4000, 0x3ffd, 0x3ffe, 0};
    /** Whether round-to-nearest rounds the constant's truncated 64-bit significand up. */
    private static final boolean[] CONST_RN_UP = {false, false, true, true, true, true, false};

    private X87Ops() {}

    /** Executes the non-waiting control instructions; returns false for anything else. */
    static boolean control(Cpu c, Insn d, int op, int sub) {
        FpuState f = c.fpu;
        int i = d.rm & 7;
        if (op == 0xd9 && d.mem && sub >= 4) {
            long la = Executor.addr(c, d);
            switch (sub) {
                case 4 -> loadEnv(c, f, la, d.osz == 2);
                case 5 -> {
                    f.fcw = ((int) c.mmu.read(la, 2) & 0x1f3f) | 0x40;
                    X87.summary(f);
                }
                case 6 -> {
                    storeEnv(c, f, la, d.osz == 2);
                    f.fcw |= 0x3f;
                    X87.summary(f);
                }
                default -> c.mmu.write(la, 2, f.fcw);
            }
            return true;
        }
        if (op == 0xdb && !d.mem && sub == 4 && (i == 2 || i == 3)) {
            if (i == 2) {
                f.fsw &= ~0x80ff;
            } else {
                f.finit();
            }
            return true;
        }
        if (op == 0xdd && d.mem && (sub == 4 || sub == 6 || sub == 7)) {
            long la = Executor.addr(c, d);
            boolean small = d.osz == 2;
            int envBytes = small ? 14 : 28;
            if (sub == 7) {
                c.mmu.write(la, 2, f.statusWord());
            } else if (sub == 6) {
                c.mmu.probeWrite(la, envBytes + 80);
                storeEnv(c, f, la, small);
                for (int k = 0; k < 8; k++) {
                    int p = f.phys(k);
                    c.mmu.write(la + envBytes + 10L * k, 8, f.mant[p]);
                    c.mmu.write(la + envBytes + 10L * k + 8, 2, f.se[p]);
                }
                f.finit();
            } else {
                c.mmu.read(la + envBytes + 79, 1);
                loadEnv(c, f, la, small);
                for (int k = 0; k < 8; k++) {
                    int p = f.phys(k);
                    f.mant[p] = c.mmu.read(la + envBytes + 10L * k, 8);
                    f.se[p] = (int) c.mmu.read(la + envBytes + 10L * k + 8, 2);
                }
            }
            return true;
        }
        if (op == 0xdf && !d.mem && sub == 4 && i == 0) {
            c.setReg(0, 2, false, f.statusWord());
            return true;
        }
        return false;
    }

    private static void storeEnv(Cpu c, FpuState f, long la, boolean small) {
        if (small) {
            c.mmu.probeWrite(la, 14);
            c.mmu.write(la, 2, f.fcw);
            c.mmu.write(la + 2, 2, f.statusWord());
            c.mmu.write(la + 4, 2, f.fullTagWord());
            c.mmu.write(la + 6, 2, f.fip);
            c.mmu.write(la + 8, 2, f.fcs);
            c.mmu.write(la + 10, 2, f.fdp);
            c.mmu.write(la + 12, 2, f.fds);
            return;
        }
        c.mmu.probeWrite(la, 28);
        c.mmu.write(la, 4, 0xffff0000L | f.fcw);
        c.mmu.write(la + 4, 4, 0xffff0000L | f.statusWord());
        c.mmu.write(la + 8, 4, 0xffff0000L | f.fullTagWord());
        c.mmu.write(la + 12, 4, f.fip);
        c.mmu.write(la + 16, 4, (f.fcs & 0xffff) | ((long) f.fop << 16));
        c.mmu.write(la + 20, 4, f.fdp);
        c.mmu.write(la + 24, 4, 0xffff0000L | (f.fds & 0xffff));
    }

    private static void loadEnv(Cpu c, FpuState f, long la, boolean small) {
        int fcw, fsw, ftw;
        if (small) {
            fcw = (int) c.mmu.read(la, 2);
            fsw = (int) c.mmu.read(la + 2, 2);
            ftw = (int) c.mmu.read(la + 4, 2);
            f.fip = c.mmu.read(la + 6, 2);
            f.fcs = (int) c.mmu.read(la + 8, 2);
            f.fdp = c.mmu.read(la + 10, 2);
            f.fds = (int) c.mmu.read(la + 12, 2);
        } else {
            fcw = (int) c.mmu.read(la, 2);
            fsw = (int) c.mmu.read(la + 4, 2);
            ftw = (int) c.mmu.read(la + 8, 2);
            f.fip = c.mmu.read(la + 12, 4);
            long w = c.mmu.read(la + 16, 4);
            f.fcs = (int) w & 0xffff;
            f.fop = (int) (w >>> 16) & 0x7ff;
            f.fdp = c.mmu.read(la + 20, 4);
            f.fds = (int) c.mmu.read(la + 24, 2);
        }
        f.fcw = (fcw & 0x1f3f) | 0x40;
        f.setStatusWord(fsw);
        f.setFullTagWord(ftw);
        X87.summary(f);
    }

    // ---- D9 ----

    static void d9(Cpu c, Insn d, FpuState f, int sub, int i, long la) {
        if (d.mem) {
            switch (sub) {
                case 0 -> X87.loadFloat(f, SoftFloat.SINGLE, c.mmu.read(la, 4));
                case 2, 3 -> X87.storeFloat(c, f, la, SoftFloat.SINGLE, sub == 3);
                default -> throw c.fault(CpuFault.UD);
            }
            return;
        }
        switch (sub) {
            case 0 -> {
                if (X87.empty(f, i)) {
                    if (X87.underflow(f)) {
                        X87.push(f, X87.INDEF_MANT, X87.INDEF_SE);
                    }
                    return;
                }
                int p = f.phys(i);
                X87.push(f, f.mant[p], f.se[p]);
            }
            case 1 -> X87.xch(f, i);
            case 2 -> {
                if (i != 0) {
                    throw c.fault(CpuFault.UD);
                }
            }
            case 3 -> {
                // D9 D8+i: an FSTP ST(i) alias.
                if (X87.empty(f, 0) && !X87.underflow(f)) {
                    return;
                }
                int p = f.phys(0);
                boolean e = X87.empty(f, 0);
                X87.set(f, i, e ? X87.INDEF_MANT : f.mant[p], e ? X87.INDEF_SE : f.se[p]);
                X87.pop(f);
            }
            case 4 -> e4(c, f, i);
            case 5 -> {
                if (i == 7) {
                    throw c.fault(CpuFault.UD);
                }
                long m = CONST_MANT[i];
                int rc = (f.fcw >>> 10) & 3;
                if (rc == SoftFloat.RU ? i >= 1 && i <= 5 : rc == SoftFloat.RN && CONST_RN_UP[i]) {
                    m++;
                }
                X87.push(f, m, CONST_SE[i]);
            }
            case 6 -> {
                switch (i) {
                    case 4 -> fxtract(f);
                    case 5 -> X87Special.fprem(f, true);
                    case 6, 7 -> {
                        f.top = (f.top + (i == 6 ? 7 : 1)) & 7;
                        f.fsw &= ~FpuState.FSW_C1;
                    }
                    default -> X87Special.transcendental(f, 0xf0 + i);
                }
            }
            default -> {
                switch (i) {
                    case 0 -> X87Special.fprem(f, false);
                    case 2 -> unary(f, 2);
                    case 4 -> unary(f, 4);
                    case 5 -> X87Special.fscale(f);
                    default -> X87Special.transcendental(f, 0xf8 + i);
                }
            }
        }
    }

    /** D9 E0-E5: FCHS, FABS, FTST, FXAM. */
    private static void e4(Cpu c, FpuState f, int i) {
        switch (i) {
            case 0, 1 -> {
                if (X87.empty(f, 0)) {
                    if (X87.underflow(f)) {
                        X87.set(f, 0, X87.INDEF_MANT, X87.INDEF_SE);
                    }
                    return;
                }
                int p = f.phys(0);
                f.se[p] = i == 0 ? f.se[p] ^ 0x8000 : f.se[p] & 0x7fff;
                f.fsw &= ~FpuState.FSW_C1;
            }
            case 4 -> {
                if (X87.empty(f, 0)) {
                    if (X87.underflow(f)) {
                        X87.setCc(c, f, 2, false);
                    }
                    return;
                }
                SoftFloat sf = X87.sf(f, false);
                X87.unpackSt(f, sf, true, 0);
                sf.unpack(false, EXT, 0, 0);
                int r = sf.compare(true);
                f.fsw |= sf.flags & 0x3f;
                X87.summary(f);
                if (!X87.blocked(f, sf.flags)) {
                    X87.setCc(c, f, r, false);
                }
            }
            case 5 -> fxam(f);
            default -> throw c.fault(CpuFault.UD);
        }
    }

    private static void fxam(FpuState f) {
        int p = f.phys(0);
        int se = f.se[p];
        long m = f.mant[p];
        int e = se & 0x7fff;
        int cc;
        if (X87.empty(f, 0)) {
            cc = FpuState.FSW_C3 | FpuState.FSW_C0;
        } else if (e == 0) {
            cc = m == 0 ? FpuState.FSW_C3 : FpuState.FSW_C3 | FpuState.FSW_C2;
        } else if (m >= 0) {
            cc = 0;
        } else if (e == 0x7fff) {
            cc = (m << 1) == 0 ? FpuState.FSW_C2 | FpuState.FSW_C0 : FpuState.FSW_C0;
        } else {
            cc = FpuState.FSW_C2;
        }
        if ((se & 0x8000) != 0) {
            cc |= FpuState.FSW_C1;
        }
        f.fsw = (f.fsw & ~(FpuState.FSW_C3 | FpuState.FSW_C2 | FpuState.FSW_C1 | FpuState.FSW_C0)) | cc;
    }

    /** FSQRT (2) and FRNDINT (4) on ST(0). */
    private static void unary(FpuState f, int kind) {
        if (X87.empty(f, 0)) {
            if (X87.underflow(f)) {
                X87.set(f, 0, X87.INDEF_MANT, X87.INDEF_SE);
            }
            return;
        }
        SoftFloat sf = X87.sf(f, kind == 2);
        X87.unpackSt(f, sf, true, 0);
        if (kind == 2) {
            sf.sqrt(EXT);
        } else {
            sf.roundInt();
        }
        int fl = sf.flags;
        X87.finish(f, fl, sf.roundedUp && (fl & SoftFloat.PE) != 0);
        if (!X87.blocked(f, fl)) {
            X87.set(f, 0, sf.rMant, sf.rSe);
        }
    }

    /** FXTRACT: ST(0) becomes the exponent, then the significand is pushed. */
    private static void fxtract(FpuState f) {
        if (X87.empty(f, 0)) {
            if (X87.underflow(f)) {
                X87.set(f, 0, X87.INDEF_MANT, X87.INDEF_SE);
                X87.push(f, X87.INDEF_MANT, X87.INDEF_SE);
            }
            return;
        }
        if ((f.tags & (1 << ((f.top - 1) & 7))) != 0) {
            // Stack overflow: masked response is the indefinite in both results.
            if ((f.fcw & SoftFloat.IE) != 0) {
                X87.set(f, 0, X87.INDEF_MANT, X87.INDEF_SE);
            }
            X87.push(f, X87.INDEF_MANT, X87.INDEF_SE);
            return;
        }
        SoftFloat sf = X87.sf(f, false);
        X87.unpackSt(f, sf, true, 0);
        long expM, sigM;
        int expSe, sigSe;
        switch (sf.aCls) {
            case SoftFloat.ZERO -> {
                sf.flags |= SoftFloat.ZE;
                expM = 1L << 63;
                expSe = 0xffff;
                sigM = 0;
                sigSe = sf.aNeg ? 0x8000 : 0;
            }
            case SoftFloat.INF -> {
                expM = 1L << 63;
                expSe = 0x7fff;
                sigM = 1L << 63;
                sigSe = (sf.aNeg ? 0x8000 : 0) | 0x7fff;
            }
            case SoftFloat.NORM -> {
                if (sf.aDen) {
                    sf.flags |= SoftFloat.DE;
                }
                sigM = sf.aSig;
                sigSe = (sf.aNeg ? 0x8000 : 0) | 0x3fff;
                sf.fromInt(sf.aExp, EXT);
                expM = sf.rMant;
                expSe = sf.rSe;
            }
            default -> {
                sf.propagate(false, EXT);
                expM = sigM = sf.rMant;
                expSe = sigSe = sf.rSe;
            }
        }
        int fl = sf.flags;
        X87.finish(f, fl, false);
        if (X87.blocked(f, fl)) {
            return;
        }
        X87.set(f, 0, expM, expSe);
        X87.push(f, sigM, sigSe);
    }

    // ---- BCD ----

    static void fbld(Cpu c, FpuState f, long la) {
        long v = 0;
        for (int k = 8; k >= 0; k--) {
            int b = (int) c.mmu.read(la + k, 1);
            v = v * 100 + ((b >>> 4) & 15) * 10 + (b & 15);
        }
        boolean neg = (c.mmu.read(la + 9, 1) & 0x80) != 0;
        SoftFloat sf = X87.sf(f, false);
        sf.fromInt(v, EXT);
        X87.push(f, sf.rMant, sf.rSe | (neg ? 0x8000 : 0));
    }

    static void fbstp(Cpu c, FpuState f, long la) {
        c.mmu.probeWrite(la, 10);
        long v;
        boolean neg;
        int fl = 0;
        boolean up = false;
        if (X87.empty(f, 0)) {
            if (!X87.underflow(f)) {
                return;
            }
            v = -1;
            neg = true;
        } else {
            SoftFloat sf = X87.sf(f, false);
            X87.unpackSt(f, sf, true, 0);
            neg = sf.aNeg;
            v = sf.toInt(64, sf.rc);
            fl = sf.flags;
            up = sf.roundedUp;
            if ((fl & SoftFloat.IE) == 0 && Math.abs(v) > 999_999_999_999_999_999L) {
                fl = SoftFloat.IE;
            }
            if ((fl & ~f.fcw & SoftFloat.IE) != 0) {
                X87.finish(f, fl, false);
                return;
            }
            v = (fl & SoftFloat.IE) != 0 ? -1 : Math.abs(v);
        }
        if (v < 0) {
            // The packed BCD indefinite: FFFF C000 0000 0000 0000.
            c.mmu.write(la, 8, 0xc000000000000000L);
            c.mmu.write(la + 8, 2, 0xffff);
        } else {
            for (int k = 0; k < 9; k++) {
                long two = v % 100;
                v /= 100;
                c.mmu.write(la + k, 1, ((two / 10) << 4) | (two % 10));
            }
            c.mmu.write(la + 9, 1, neg ? 0x80 : 0);
        }
        X87.finish(f, fl, up && (fl & SoftFloat.PE) != 0);
        X87.pop(f);
    }
}
