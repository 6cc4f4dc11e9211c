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
 * Differential tests of the x87 FPU against the host CPU (see {@link FpuHarness}): a random register stack (depth,
 * TOP, 80-bit values including zeros, denormals, infinities, NaNs and unsupported encodings), random rounding and
 * precision control with exceptions masked, then one instruction or a short sequence; the FXSAVE image (registers,
 * FSW, FTW, FCW), RFLAGS and memory must match. C0/C2/C3 are not compared after the instructions whose SDM page calls
 * them undefined. Transcendental instructions are not tested (computed in double precision).
 */
class X87DifferentialTest {
    static final long ALL_FLAGS = 0x8d5;
    static final int CC_UNDEFINED = 0xffff & ~(0x4000 | 0x400 | 0x100);
    static FpuHarness h;
    static int total;

    final Random rnd = new Random(0x87);
    final List<String> failures = new ArrayList<>();
    int cases;

    @BeforeAll
    static void setUp() {
        h = new FpuHarness();
    }

    @AfterAll
    static void tearDown() {
        System.out.println("x87 differential cases in total: " + total);
        h.close();
    }

    /** An 80-bit value as {mantissa, sign/exponent}. */
    long[] ext() {
        int s = rnd.nextBoolean() ? 0x8000 : 0;
        long m;
        int e;
        switch (rnd.nextInt(13)) {
            case 0 -> {
                m = 0;
                e = 0;
            }
            case 1 -> {
                m = rnd.nextLong() >>> (1 + rnd.nextInt(40));
                e = 0;
            }
            case 2 -> {
                m = 1L << 63;
                e = 0x7fff;
            }
            case 3 -> {
                m = 0xc000000000000000L | (rnd.nextLong() >>> 2 & -rnd.nextInt(2));
                e = 0x7fff;
            }
            case 4 -> {
                m = 0x8000000000000000L | (rnd.nextLong() >>> 3) | 1;
                e = 0x7fff;
            }
            case 5 -> {
                m = (1L << 63) | (rnd.nextLong() >>> 1);
                e = 0x3fff + rnd.nextInt(7) - 3;
            }
            case 6 -> {
                long v = rnd.nextInt(1 << rnd.nextInt(31)) + 1;
                int lz = Long.numberOfLeadingZeros(v);
                m = v << lz;
                e = 0x3fff + 63 - lz;
            }
            case 7 -> {
                m = (1L << 63) | (rnd.nextLong() >>> 1);
                e = 0x7ffe - rnd.nextInt(3);
            }
            case 8 -> {
                m = (1L << 63) | (rnd.nextLong() >>> 1);
                e = 1 + rnd.nextInt(3);
            }
            case 9 -> {
                m = (1L << 63) | (rnd.nextLong() >>> 1);
                e = 0x3fff + 60 + rnd.nextInt(8);
            }
            case 10 -> {
                // Half-integers exercise rounding of FRNDINT/FIST.
                long v = rnd.nextInt(64) * 2L + 1;
                int lz = Long.numberOfLeadingZeros(v);
                m = v << lz;
                e = 0x3fff + 62 - lz;
            }
            case 11 -> {
                m = rnd.nextLong() >>> 1;
                e = 1 + rnd.nextInt(0x7ffe);
                if (rnd.nextInt(4) != 0) {
                    m |= 1L << 63;
                }
            }
            default -> {
                m = (1L << 63) | (rnd.nextLong() >>> 1);
                e = 0x3f80 + rnd.nextInt(0x100);
            }
        }
        return new long[] {m, s | e};
    }

    void prepare() {
        h.resetImage();
        int pc = new int[] {0, 2, 3, 3}[rnd.nextInt(4)];
        int rc = rnd.nextInt(4);
        FpuHarness.putShort(h.image, 0, 0x7f | (pc << 8) | (rc << 10));
        int top = rnd.nextInt(8);
        int fsw = (top << 11) | (rnd.nextBoolean() ? rnd.nextInt(64) : 0) | (rnd.nextInt(16) << 8 & 0x4700);
        FpuHarness.putShort(h.image, 2, fsw);
        int depth = rnd.nextInt(5) == 0 ? rnd.nextInt(9) : 2 + rnd.nextInt(5);
        int tags = 0;
        for (int i = 0; i < 8; i++) {
            if (i < depth) {
                tags |= 1 << ((top + i) & 7);
            }
            long[] v = ext();
            FpuHarness.putLong(h.image, 32 + 16 * i, v[0]);
            FpuHarness.putShort(h.image, 40 + 16 * i, (int) v[1]);
        }
        h.image[4] = (byte) tags;
        for (int i = 0; i < 16; i++) {
            h.gpr[i] = rnd.nextLong();
        }
        h.flagsIn = (rnd.nextLong() & ALL_FLAGS) | 2;
        for (int i = 0; i < FpuHarness.DATA_BYTES; i += 16) {
            long[] v = ext();
            switch (rnd.nextInt(4)) {
                case 0 -> {
                    FpuHarness.putLong(h.dataIn, i, v[0]);
                    FpuHarness.putLong(h.dataIn, i + 8, v[1] | (rnd.nextLong() << 16));
                }
                case 1 -> {
                    FpuHarness.putLong(h.dataIn, i, FpuHarness.float64(rnd));
                    FpuHarness.putLong(h.dataIn, i + 8, FpuHarness.float32(rnd) | FpuHarness.float32(rnd) << 32);
                }
                case 2 -> {
                    FpuHarness.putLong(h.dataIn, i, rnd.nextInt(1 << 20) - (1 << 19));
                    FpuHarness.putLong(h.dataIn, i + 8, rnd.nextLong());
                }
                default -> {
                    // Packed BCD: 18 digits and a sign byte.
                    for (int k = 0; k < 9; k++) {
                        h.dataIn[i + k] = (byte) (rnd.nextInt(10) << 4 | rnd.nextInt(10));
                    }
                    h.dataIn[i + 9] = (byte) (rnd.nextBoolean() ? 0x80 : 0);
                    FpuHarness.putShort(h.dataIn, i + 10, rnd.nextInt());
                }
            }
        }
    }

    /** An x87 instruction in register form: opcode, ModRM 0xC0 | sub << 3 | i. */
    static byte[] reg(int op, int sub, int i) {
        return new byte[] {(byte) op, (byte) (0xc0 | sub << 3 | i)};
    }

    /** An x87 instruction on [rsi + disp]. */
    static byte[] mem(int op, int sub, int disp) {
        return new byte[] {(byte) op, (byte) (0x46 | sub << 3), (byte) disp};
    }

    void check(String what, byte[] code, int fswMask) {
        cases++;
        h.fswMask = fswMask;
        String diff = h.run(code, ALL_FLAGS);
        if (diff != null && failures.size() < 10) {
            failures.add(what + " " + h.inputs(code) + "\n  diff:" + diff);
        }
    }

    void finish(String group) {
        total += cases;
        System.out.println("x87 differential " + group + ": " + cases + " cases");
        assertThat(failures).as(group).isEmpty();
    }

    static final int[] ARITH_SUBS = {0, 1, 4, 5, 6, 7};

    @Test
    void arithmetic() {
        for (int n = 0; n < 4000; n++) {
            prepare();
            int kind = rnd.nextInt(6);
            int sub = ARITH_SUBS[rnd.nextInt(6)];
            int i = rnd.nextInt(8);
            int disp = 16 * rnd.nextInt(8);
            byte[] code = switch (kind) {
                case 0 -> reg(0xd8, sub, i);
                case 1 -> reg(0xdc, sub, i);
                case 2 -> reg(0xde, sub, i);
                case 3 -> mem(0xd8, sub, disp);
                case 4 -> mem(0xdc, sub, disp);
                default -> mem(rnd.nextBoolean() ? 0xda : 0xde, sub, disp);
            };
            check("arith " + kind + "/" + sub, code, CC_UNDEFINED);
        }
        finish("arithmetic");
    }

    @Test
    void compares() {
        for (int n = 0; n < 3000; n++) {
            prepare();
            int i = rnd.nextInt(8);
            int disp = 16 * rnd.nextInt(8);
            byte[] code = switch (rnd.nextInt(12)) {
                case 0 -> reg(0xd8, 2, i);
                case 1 -> reg(0xd8, 3, i);
                case 2 -> new byte[] {(byte) 0xde, (byte) 0xd9};
                case 3 -> new byte[] {(byte) 0xda, (byte) 0xe9};
                case 4 -> reg(0xdd, 4, i);
                case 5 -> reg(0xdd, 5, i);
                case 6 -> reg(0xdb, 5 + rnd.nextInt(2), i);
                case 7 -> reg(0xdf, 5 + rnd.nextInt(2), i);
                case 8 -> new byte[] {(byte) 0xd9, (byte) 0xe4};
                case 9 -> new byte[] {(byte) 0xd9, (byte) 0xe5};
                case 10 -> mem(new int[] {0xd8, 0xdc, 0xda, 0xde}[rnd.nextInt(4)], 2 + rnd.nextInt(2), disp);
                default -> reg(rnd.nextBoolean() ? 0xda : 0xdb, rnd.nextInt(4), i);
            };
            check("compare", code, 0xffff);
        }
        finish("compares");
    }

    @Test
    void loadsAndStores() {
        for (int n = 0; n < 4000; n++) {
            prepare();
            int i = rnd.nextInt(8);
            int disp = 16 * rnd.nextInt(8);
            byte[] code = switch (rnd.nextInt(16)) {
                case 0 -> mem(0xd9, 0, disp);
                case 1 -> mem(0xdd, 0, disp);
                case 2 -> mem(0xdb, 5, disp);
                case 3 -> mem(0xd9, 2 + rnd.nextInt(2), disp);
                case 4 -> mem(0xdd, 2 + rnd.nextInt(2), disp);
                case 5 -> mem(0xdb, 7, disp);
                case 6 -> mem(rnd.nextBoolean() ? 0xdb : 0xdf, 0, disp);
                case 7 -> mem(0xdf, 5, disp);
                case 8 -> mem(0xdb, 1 + rnd.nextInt(3), disp);
                case 9 -> mem(0xdf, 1 + rnd.nextInt(3), disp);
                case 10 -> mem(rnd.nextBoolean() ? 0xdd : 0xdf, rnd.nextBoolean() ? 1 : 7, disp);
                case 11 -> reg(0xd9, 0, i);
                case 12 -> reg(0xdd, 2 + rnd.nextInt(2), i);
                case 13 -> reg(0xd9, 1, i);
                case 14 -> mem(0xdf, 4, disp);
                default -> mem(0xdf, 6, disp);
            };
            check("load/store", code, CC_UNDEFINED);
        }
        finish("loads and stores");
    }

    @Test
    void miscellaneous() {
        for (int n = 0; n < 3000; n++) {
            prepare();
            int i = rnd.nextInt(8);
            int kind = rnd.nextInt(12);
            int mask = CC_UNDEFINED;
            byte[] code = switch (kind) {
                case 0 -> new byte[] {(byte) 0xd9, (byte) (0xe0 + rnd.nextInt(2))};
                case 1 -> new byte[] {(byte) 0xd9, (byte) (0xe8 + rnd.nextInt(7))};
                case 2 -> new byte[] {(byte) 0xd9, (byte) 0xfa};
                case 3 -> new byte[] {(byte) 0xd9, (byte) 0xfc};
                case 4 -> new byte[] {(byte) 0xd9, (byte) 0xfd};
                case 5 -> new byte[] {(byte) 0xd9, (byte) 0xf4};
                case 6 -> {
                    mask = 0xffff;
                    yield new byte[] {(byte) 0xd9, (byte) (rnd.nextBoolean() ? 0xf8 : 0xf5)};
                }
                case 7 -> new byte[] {(byte) 0xd9, (byte) (0xf6 + rnd.nextInt(2))};
                case 8 -> reg(0xdd, 0, i);
                case 9 -> {
                    mask = 0xffff;
                    yield new byte[] {(byte) 0xdb, (byte) (0xe2 + rnd.nextInt(2))};
                }
                case 10 -> {
                    mask = 0xffff;
                    // fnstsw ax; fnstcw [rsi]; fldcw [rsi+16] (a control word with all exceptions masked)
                    FpuHarness.putShort(h.dataIn, 16, 0x7f | rnd.nextInt(16) << 8 | rnd.nextInt(8) << 13);
                    yield new byte[] {(byte) 0xdf, (byte) 0xe0, (byte) 0xd9, 0x7e, 0, (byte) 0xd9, 0x6e, 16};
                }
                default -> {
                    mask = 0xffff;
                    // fnstenv [rsi]; fldenv [rsi] round trip, then fnstsw [rsi+32]
                    yield new byte[] {(byte) 0xd9, 0x76, 0, (byte) 0xd9, 0x66, 0, (byte) 0xdd, 0x7e, 32};
                }
            };
            if (kind == 11) {
                // The environment holds FIP/FDP/FOP (host addresses natively): compare the rest.
                cases++;
                h.fswMask = mask;
                String diff = h.run(code, ALL_FLAGS);
                if (diff != null && !onlyEnvPointersDiffer()) {
                    failures.add("fnstenv " + h.inputs(code) + "\n  diff:" + diff);
                }
                continue;
            }
            check("misc " + kind, code, mask);
        }
        finish("miscellaneous");
    }

    private boolean onlyEnvPointersDiffer() {
        for (int k = 0; k < FpuHarness.DATA_BYTES; k++) {
            if ((k < 12 || k >= 24) && h.natData[k] != h.emuData[k]) {
                return false;
            }
        }
        for (int k = 0; k < 512; k++) {
            boolean ignored = (k >= 6 && k < 24) || (k >= 28 && k < 32);
            if (!ignored && h.natImage[k] != h.emuImage[k]) {
                return false;
            }
        }
        return true;
    }

    @Test
    void sequences() {
        for (int n = 0; n < 1500; n++) {
            prepare();
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            int len = 2 + rnd.nextInt(6);
            for (int k = 0; k < len; k++) {
                int i = rnd.nextInt(8);
                byte[] x = switch (rnd.nextInt(6)) {
                    case 0 -> reg(0xd9, 0, i);
                    case 1 -> reg(0xde, ARITH_SUBS[rnd.nextInt(6)], 1 + rnd.nextInt(3));
                    case 2 -> reg(0xd8, ARITH_SUBS[rnd.nextInt(6)], i);
                    case 3 -> mem(0xdd, 0, 16 * rnd.nextInt(8));
                    case 4 -> new byte[] {(byte) 0xd9, (byte) 0xfa};
                    default -> mem(0xdd, 3, 16 * rnd.nextInt(8));
                };
                b.writeBytes(x);
            }
            check("sequence", b.toByteArray(), CC_UNDEFINED);
        }
        finish("sequences");
    }
}
