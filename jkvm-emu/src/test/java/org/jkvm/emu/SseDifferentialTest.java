package org.jkvm.emu;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Differential tests of SSE/SSE2 against the host CPU (see {@link FpuHarness}): seeded random instructions with
 * edge-case operands (zeros, denormals, infinities, NaNs, values at integer limits) under random MXCSR rounding, DAZ
 * and FTZ controls (exceptions masked), comparing registers, flags, the whole FXSAVE image and memory. RCPPS/RSQRTPS
 * are left out: their exact results are implementation-specific (SDM: relative error at most 1.5 * 2^-12).
 */
class SseDifferentialTest {
    static final long ALL_FLAGS = 0x8d5;
    static final int NP = 0, P66 = 0x66, PF3 = 0xf3, PF2 = 0xf2;
    static FpuHarness h;
    static int total;

    final Random rnd = new Random(0x55e2);
    final List<String> failures = new ArrayList<>();
    int cases;

    @BeforeAll
    static void setUp() {
        h = new FpuHarness();
    }

    @AfterAll
    static void tearDown() {
        System.out.println("SSE differential cases in total: " + total);
        h.close();
    }

    /** Encodes [pfx] [REX] 0F op ModRM [disp8] [imm8]; memDisp < 0 means a register rm, else [rsi + memDisp]. */
    static byte[] sse(int pfx, int op, int reg, int rm, boolean w, int imm, int memDisp) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        if (pfx != NP) {
            b.write(pfx);
        }
        boolean mem = memDisp >= 0;
        int rex = (w ? 8 : 0) | (reg >= 8 ? 4 : 0) | (!mem && rm >= 8 ? 1 : 0);
        if (rex != 0) {
            b.write(0x40 | rex);
        }
        b.write(0x0f);
        b.write(op);
        if (mem) {
            b.write(0x46 | ((reg & 7) << 3));
            b.write(memDisp);
        } else {
            b.write(0xc0 | ((reg & 7) << 3) | (rm & 7));
        }
        if (imm >= 0) {
            b.write(imm);
        }
        return b.toByteArray();
    }

    long intValue() {
        return switch (rnd.nextInt(8)) {
            case 0 -> 0;
            case 1 -> -1;
            case 2 -> 0x8000800080008000L;
            case 3 -> 0x7fff7fff7fff7fffL;
            case 4 -> 0x00ff00ff80807f7fL;
            case 5 -> rnd.nextInt(80);
            default -> rnd.nextLong();
        };
    }

    /** Fills every XMM register: kind 0 integers, 1 singles, 2 doubles, 3 a mix. */
    void fillXmm(int kind) {
        for (int n = 0; n < 16; n++) {
            int k = kind == 3 ? rnd.nextInt(3) : kind;
            long lo, hi;
            if (k == 0) {
                lo = intValue();
                hi = intValue();
            } else if (k == 1) {
                lo = FpuHarness.float32(rnd) | (FpuHarness.float32(rnd) << 32);
                hi = FpuHarness.float32(rnd) | (FpuHarness.float32(rnd) << 32);
            } else {
                lo = FpuHarness.float64(rnd);
                hi = FpuHarness.float64(rnd);
            }
            h.setXmm(n, lo, hi);
        }
    }

    /** Random MXCSR: all exceptions masked, random rounding, DAZ/FTZ sometimes, some flags already set. */
    void randomMxcsr() {
        int m = 0x1f80 | (rnd.nextInt(4) << 13);
        if (rnd.nextInt(4) == 0) {
            m |= 0x40;
        }
        if (rnd.nextInt(4) == 0) {
            m |= 0x8000;
        }
        if (rnd.nextBoolean()) {
            m |= rnd.nextInt(64);
        }
        FpuHarness.putInt(h.image, 24, m);
    }

    void prepare(int xmmKind) {
        h.resetImage();
        fillXmm(xmmKind);
        randomMxcsr();
        for (int i = 0; i < 16; i++) {
            h.gpr[i] = intValue();
        }
        h.flagsIn = (rnd.nextLong() & ALL_FLAGS) | 2;
        for (int i = 0; i < FpuHarness.DATA_BYTES; i += 8) {
            long v = rnd.nextBoolean() ? FpuHarness.float64(rnd) : FpuHarness.float32(rnd)
                    | (FpuHarness.float32(rnd) << 32);
            FpuHarness.putLong(h.dataIn, i, v);
        }
    }

    void check(String what, byte[] code, long flagMask) {
        cases++;
        String diff = h.run(code, flagMask);
        if (diff != null && failures.size() < 10) {
            failures.add(what + " " + h.inputs(code) + "\n  diff:" + diff);
        }
    }

    void finish(String group) {
        total += cases;
        System.out.println("SSE differential " + group + ": " + cases + " cases");
        assertThat(failures).as(group).isEmpty();
    }

    int xr() {
        return rnd.nextInt(16);
    }

    /** A general register other than RSP and RSI (which differ between the two sides). */
    int gr() {
        int g = rnd.nextInt(14);
        return g < 4 ? g : g < 5 ? 5 : g + 2;
    }

    static final int[] INT_OPS = {0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d,
        0x74, 0x75, 0x76, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xe1,
        0xe2, 0xe3, 0xe4, 0xe5, 0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6,
        0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe};

    @Test
    void packedInteger() {
        for (int n = 0; n < 4000; n++) {
            prepare(0);
            int kind = rnd.nextInt(10);
            byte[] code;
            String what;
            if (kind < 6) {
                int op = INT_OPS[rnd.nextInt(INT_OPS.length)];
                code = sse(P66, op, xr(), xr(), false, -1, -1);
                what = "int " + Integer.toHexString(op);
            } else if (kind == 6) {
                int[] pf = {P66, PF3, PF2};
                code = sse(pf[rnd.nextInt(3)], 0x70, xr(), xr(), false, rnd.nextInt(256), -1);
                what = "pshuf";
            } else if (kind == 7) {
                int op = 0x71 + rnd.nextInt(3);
                int[] subs = op == 0x73 ? new int[] {2, 3, 6, 7} : new int[] {2, 4, 6};
                code = sse(P66, op, subs[rnd.nextInt(subs.length)], xr(), false, rnd.nextInt(72), -1);
                what = "shift imm " + Integer.toHexString(op);
            } else if (kind == 8) {
                code = sse(P66, 0xc4, xr(), gr(), false, rnd.nextInt(256), -1);
                what = "pinsrw";
            } else {
                code = sse(P66, 0xc5, gr(), xr(), rnd.nextBoolean(), rnd.nextInt(256), -1);
                what = "pextrw";
            }
            check(what, code, ALL_FLAGS);
        }
        finish("packed integer");
    }

    static final int[] ARITH = {0x51, 0x58, 0x59, 0x5c, 0x5d, 0x5e, 0x5f};

    @Test
    void floatingPoint() {
        int[] pfxs = {NP, P66, PF3, PF2};
        for (int n = 0; n < 6000; n++) {
            int kind = rnd.nextInt(10);
            int pfx = pfxs[rnd.nextInt(4)];
            boolean single = pfx == NP || pfx == PF3;
            int op;
            int imm = -1;
            long flagMask = ALL_FLAGS;
            if (kind < 6) {
                op = ARITH[rnd.nextInt(ARITH.length)];
            } else if (kind < 8) {
                op = 0xc2;
                imm = rnd.nextInt(8);
            } else if (kind == 8) {
                op = 0x2e + rnd.nextInt(2);
                pfx = rnd.nextBoolean() ? NP : P66;
                single = pfx == NP;
            } else {
                int[] bit = {0x54, 0x55, 0x56, 0x57, 0x14, 0x15, 0xc6};
                op = bit[rnd.nextInt(bit.length)];
                pfx = rnd.nextBoolean() ? NP : P66;
                single = pfx == NP;
                if (op == 0xc6) {
                    imm = rnd.nextInt(256);
                }
            }
            prepare(single ? 1 : 2);
            check("float " + Integer.toHexString(pfx) + " " + Integer.toHexString(op), sse(pfx, op, xr(), xr(),
                    false, imm, -1), flagMask);
        }
        finish("floating point");
    }

    @Test
    void conversions() {
        for (int n = 0; n < 3000; n++) {
            int kind = rnd.nextInt(6);
            byte[] code;
            String what;
            if (kind == 0) {
                prepare(3);
                int pfx = rnd.nextBoolean() ? PF3 : PF2;
                int g = gr();
                h.gpr[g] = rnd.nextInt(3) == 0 ? (long) (rnd.nextGaussian() * 1e6) : intValue();
                code = sse(pfx, 0x2a, xr(), g, rnd.nextBoolean(), -1, -1);
                what = "cvtsi2s";
            } else if (kind == 1) {
                int pfx = rnd.nextBoolean() ? PF3 : PF2;
                prepare(pfx == PF3 ? 1 : 2);
                code = sse(pfx, 0x2c + rnd.nextInt(2), gr(), xr(), rnd.nextBoolean(), -1, -1);
                what = "cvts2si";
            } else if (kind == 2) {
                int[] pf = {NP, P66, PF3, PF2};
                int pfx = pf[rnd.nextInt(4)];
                prepare(pfx == NP || pfx == PF3 ? 1 : 2);
                code = sse(pfx, 0x5a, xr(), xr(), false, -1, -1);
                what = "cvt ps/pd " + Integer.toHexString(pfx);
            } else if (kind == 3) {
                int[] pf = {NP, P66, PF3};
                int pfx = pf[rnd.nextInt(3)];
                prepare(pfx == NP ? 0 : 1);
                code = sse(pfx, 0x5b, xr(), xr(), false, -1, -1);
                what = "cvt dq/ps " + Integer.toHexString(pfx);
            } else {
                int[] pf = {P66, PF3, PF2};
                int pfx = pf[rnd.nextInt(3)];
                prepare(pfx == PF3 ? 0 : 2);
                code = sse(pfx, 0xe6, xr(), xr(), false, -1, -1);
                what = "cvt dq/pd " + Integer.toHexString(pfx);
            }
            check(what, code, ALL_FLAGS);
        }
        finish("conversions");
    }

    @Test
    void registerMoves() {
        for (int n = 0; n < 2000; n++) {
            prepare(3);
            int kind = rnd.nextInt(12);
            int g = gr();
            byte[] code = switch (kind) {
                case 0 -> sse(new int[] {NP, P66, PF3, PF2}[rnd.nextInt(4)], 0x10, xr(), xr(), false, -1, -1);
                case 1 -> sse(new int[] {NP, P66, PF3, PF2}[rnd.nextInt(4)], 0x11, xr(), xr(), false, -1, -1);
                case 2 -> sse(NP, rnd.nextBoolean() ? 0x12 : 0x16, xr(), xr(), false, -1, -1);
                case 3 -> sse(rnd.nextBoolean() ? NP : P66, 0x28 + rnd.nextInt(2), xr(), xr(), false, -1, -1);
                case 4 -> sse(rnd.nextBoolean() ? NP : P66, 0x50, g, xr(), false, -1, -1);
                case 5 -> sse(P66, 0x6e, xr(), g, rnd.nextBoolean(), -1, -1);
                case 6 -> sse(P66, 0x7e, xr(), g, rnd.nextBoolean(), -1, -1);
                case 7 -> sse(PF3, 0x7e, xr(), xr(), false, -1, -1);
                case 8 -> sse(rnd.nextBoolean() ? P66 : PF3, 0x6f + 0x10 * rnd.nextInt(2), xr(), xr(), false, -1,
                        -1);
                case 9 -> sse(P66, 0xd6, xr(), xr(), false, -1, -1);
                case 10 -> sse(P66, 0xd7, g, xr(), false, -1, -1);
                default -> sse(P66, 0xef, xr(), xr(), false, -1, -1);
            };
            check("move " + kind, code, ALL_FLAGS);
        }
        finish("register moves");
    }

    @Test
    void memoryForms() {
        for (int n = 0; n < 2500; n++) {
            prepare(3);
            int kind = rnd.nextInt(16);
            int any = rnd.nextInt(32);
            int al = 16 * rnd.nextInt(3);
            byte[] code = switch (kind) {
                case 0 -> sse(new int[] {NP, P66, PF3, PF2}[rnd.nextInt(4)], 0x10, xr(), 0, false, -1, any);
                case 1 -> sse(new int[] {NP, P66, PF3, PF2}[rnd.nextInt(4)], 0x11, xr(), 0, false, -1, any);
                case 2 -> sse(rnd.nextBoolean() ? NP : P66, 0x12 + rnd.nextInt(2) + 4 * rnd.nextInt(2), xr(), 0,
                        false, -1, any);
                case 3 -> sse(rnd.nextBoolean() ? NP : P66, 0x28 + rnd.nextInt(2), xr(), 0, false, -1, al);
                case 4 -> sse(rnd.nextBoolean() ? NP : P66, 0x2b, xr(), 0, false, -1, al);
                case 5 -> sse(P66, 0xe7, xr(), 0, false, -1, al);
                case 6 -> rnd.nextBoolean() ? sse(P66, 0x6f + 0x10 * rnd.nextInt(2), xr(), 0, false, -1, al)
                        : sse(PF3, 0x6f + 0x10 * rnd.nextInt(2), xr(), 0, false, -1, any);
                case 7 -> sse(P66, rnd.nextBoolean() ? 0x6e : 0x7e, xr(), 0, rnd.nextBoolean(), -1, any);
                case 8 -> rnd.nextBoolean() ? sse(P66, 0xd6, xr(), 0, false, -1, any)
                        : sse(PF3, 0x7e, xr(), 0, false, -1, any);
                case 9 -> sse(NP, 0xc3, gr(), 0, rnd.nextBoolean(), -1, any);
                case 10 -> sse(new int[] {NP, P66}[rnd.nextInt(2)], ARITH[rnd.nextInt(ARITH.length)], xr(), 0,
                        false, -1, al);
                case 11 -> sse(new int[] {PF3, PF2}[rnd.nextInt(2)], ARITH[rnd.nextInt(ARITH.length)], xr(), 0,
                        false, -1, any);
                case 12 -> sse(P66, INT_OPS[rnd.nextInt(INT_OPS.length)], xr(), 0, false, -1, al);
                case 13 -> sse(new int[] {PF3, PF2}[rnd.nextInt(2)], 0x2a, xr(), 0, rnd.nextBoolean(), -1, any);
                case 14 -> sse(rnd.nextBoolean() ? NP : P66, 0x2e + rnd.nextInt(2), xr(), 0, false, -1, any);
                default -> sse(P66, 0xc4, xr(), 0, false, rnd.nextInt(8), any);
            };
            check("mem " + kind, code, ALL_FLAGS);
        }
        finish("memory forms");
    }

    @Test
    void mxcsrAndSequences() {
        for (int n = 0; n < 1500; n++) {
            prepare(rnd.nextBoolean() ? 1 : 2);
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            if (rnd.nextInt(3) == 0) {
                // ldmxcsr [rsi+8]; stmxcsr [rsi+16]
                int m = 0x1f80 | (rnd.nextInt(4) << 13) | rnd.nextInt(64) | (rnd.nextBoolean() ? 0x8040 : 0);
                FpuHarness.putInt(h.dataIn, 8, m);
                b.writeBytes(new byte[] {0x0f, (byte) 0xae, 0x56, 8, 0x0f, (byte) 0xae, 0x5e, 16});
            }
            int len = 2 + rnd.nextInt(8);
            int[] pfxs = {NP, P66, PF3, PF2};
            for (int i = 0; i < len; i++) {
                int op = ARITH[rnd.nextInt(ARITH.length)];
                b.writeBytes(sse(pfxs[rnd.nextInt(4)], op, xr(), xr(), false, -1, -1));
            }
            if (rnd.nextBoolean()) {
                // stmxcsr [rsi+24]
                b.writeBytes(new byte[] {0x0f, (byte) 0xae, 0x5e, 24});
            }
            check("sequence", b.toByteArray(), ALL_FLAGS);
        }
        finish("mxcsr and sequences");
    }
}
