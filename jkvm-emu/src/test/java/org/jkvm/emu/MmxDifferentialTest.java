package org.jkvm.emu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jkvm.emu.SseDifferentialTest.sse;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Differential tests of MMX against the host CPU (see {@link FpuHarness}): seeded random MMX instructions (the MMX
 * set, SSE's and SSE2's additions on MMX registers, MOVQ2DQ/MOVDQ2Q, EMMS) with integer edge values in the MMX
 * registers, a random x87 TOP and tag word beforehand (MMn is physical register Rn: with TOP not 0 it is not ST(n)),
 * comparing general registers, the whole FXSAVE image (MMX registers with their exponent bits, TOP, tags) and memory.
 */
class MmxDifferentialTest {
    static final long ALL_FLAGS = 0x8d5;
    static final int NP = 0, PF3 = 0xf3, PF2 = 0xf2;
    static FpuHarness h;

    final Random rnd = new Random(0x3a3a);
    final List<String> failures = new ArrayList<>();
    int cases;

    /** The MMX forms of the packed integer instructions (mm, mm/m64). */
    static final int[] INT_OPS = {0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x74, 0x75,
        0x76, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xe1, 0xe2, 0xe3,
        0xe4, 0xe5, 0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf8, 0xf9,
        0xfa, 0xfb, 0xfc, 0xfd, 0xfe};

    @BeforeAll
    static void setUp() {
        h = new FpuHarness();
    }

    @AfterAll
    static void tearDown() {
        h.close();
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

    /**
     * Random general registers, flags, data, XMM registers; x87 registers holding integers (some with an exponent
     * that is not all ones), a random TOP and abridged tag, no pending x87 exception.
     */
    void prepare() {
        h.resetImage();
        int top = rnd.nextInt(8);
        FpuHarness.putShort(h.image, 2, top << 11 | (rnd.nextBoolean() ? 0x4100 : 0));
        h.image[4] = (byte) rnd.nextInt(256);
        for (int i = 0; i < 8; i++) {
            FpuHarness.putLong(h.image, 32 + 16 * i, intValue());
            FpuHarness.putShort(h.image, 40 + 16 * i, rnd.nextBoolean() ? 0xffff : rnd.nextInt(0x10000));
        }
        for (int n = 0; n < 16; n++) {
            h.setXmm(n, intValue(), intValue());
        }
        for (int i = 0; i < 16; i++) {
            h.gpr[i] = intValue();
        }
        h.flagsIn = (rnd.nextLong() & ALL_FLAGS) | 2;
        for (int i = 0; i < FpuHarness.DATA_BYTES; i += 8) {
            FpuHarness.putLong(h.dataIn, i, intValue());
        }
    }

    int mr() {
        return rnd.nextInt(8);
    }

    int xr() {
        return rnd.nextInt(16);
    }

    /** A general register other than RSP and RSI (which differ between the two sides). */
    int gr() {
        int g = rnd.nextInt(14);
        return g < 4 ? g : g < 5 ? 5 : g + 2;
    }

    void check(String what, byte[] code) {
        cases++;
        String diff = h.run(code, ALL_FLAGS);
        if (diff != null && failures.size() < 10) {
            failures.add(what + " " + h.inputs(code) + "\n  diff:" + diff);
        }
    }

    void finish(String group) {
        System.out.println("MMX differential " + group + ": " + cases + " cases");
        assertThat(failures).as(group).isEmpty();
    }

    @Test
    void packedInteger() {
        for (int n = 0; n < 4000; n++) {
            prepare();
            int kind = rnd.nextInt(10);
            byte[] code;
            String what;
            if (kind < 6) {
                int op = INT_OPS[rnd.nextInt(INT_OPS.length)];
                code = sse(NP, op, mr(), mr(), false, -1, -1);
                what = "int " + Integer.toHexString(op);
            } else if (kind == 6) {
                code = sse(NP, 0x70, mr(), mr(), false, rnd.nextInt(256), -1);
                what = "pshufw";
            } else if (kind == 7) {
                int op = 0x71 + rnd.nextInt(3);
                int[] subs = op == 0x73 ? new int[] {2, 6} : new int[] {2, 4, 6};
                code = sse(NP, op, subs[rnd.nextInt(subs.length)], mr(), false, rnd.nextInt(72), -1);
                what = "shift imm " + Integer.toHexString(op);
            } else if (kind == 8) {
                code = sse(NP, 0xc4, mr(), gr(), false, rnd.nextInt(256), -1);
                what = "pinsrw";
            } else {
                code = sse(NP, 0xc5, gr(), mr(), rnd.nextBoolean(), rnd.nextInt(256), -1);
                what = "pextrw";
            }
            check(what, code);
        }
        finish("packed integer");
    }

    @Test
    void movesAndState() {
        for (int n = 0; n < 2500; n++) {
            prepare();
            int kind = rnd.nextInt(10);
            byte[] code = switch (kind) {
                case 0 -> sse(NP, 0x6e, mr(), gr(), rnd.nextBoolean(), -1, -1);
                case 1 -> sse(NP, 0x7e, mr(), gr(), rnd.nextBoolean(), -1, -1);
                case 2 -> sse(NP, 0x6f + 0x10 * rnd.nextInt(2), mr(), mr(), false, -1, -1);
                case 3 -> sse(NP, 0xd7, gr(), mr(), false, -1, -1);
                case 4 -> sse(PF3, 0xd6, xr(), mr(), false, -1, -1); // MOVQ2DQ xmm, mm
                case 5 -> sse(PF2, 0xd6, mr(), xr(), false, -1, -1); // MOVDQ2Q mm, xmm
                case 6 -> new byte[] {0x0f, 0x77}; // EMMS alone: tags empty, TOP kept
                case 7 -> {
                    // an MMX instruction, then EMMS (what compiled MMX code ends with)
                    ByteArrayOutputStream b = new ByteArrayOutputStream();
                    b.writeBytes(sse(NP, INT_OPS[rnd.nextInt(INT_OPS.length)], mr(), mr(), false, -1, -1));
                    b.writeBytes(new byte[] {0x0f, 0x77});
                    yield b.toByteArray();
                }
                case 8 -> {
                    // push rdi; mov rdi, rsi; maskmovq mm, mm; pop rdi
                    ByteArrayOutputStream b = new ByteArrayOutputStream();
                    b.writeBytes(new byte[] {0x57, 0x48, (byte) 0x89, (byte) 0xf7});
                    b.writeBytes(sse(NP, 0xf7, mr(), mr(), false, -1, -1));
                    b.write(0x5f);
                    yield b.toByteArray();
                }
                default -> {
                    // a short sequence of MMX instructions
                    ByteArrayOutputStream b = new ByteArrayOutputStream();
                    int len = 2 + rnd.nextInt(6);
                    for (int i = 0; i < len; i++) {
                        b.writeBytes(sse(NP, INT_OPS[rnd.nextInt(INT_OPS.length)], mr(), mr(), false, -1, -1));
                    }
                    yield b.toByteArray();
                }
            };
            check("move " + kind, code);
        }
        finish("moves and state");
    }

    /** Random MXCSR: all exceptions masked, random rounding, DAZ/FTZ sometimes. */
    void randomMxcsr() {
        int m = 0x1f80 | (rnd.nextInt(4) << 13) | (rnd.nextInt(4) == 0 ? 0x40 : 0) | (rnd.nextInt(4) == 0 ? 0x8000 : 0);
        FpuHarness.putInt(h.image, 24, m);
    }

    @Test
    void conversionsWithMmxOperands() {
        for (int n = 0; n < 3000; n++) {
            prepare();
            randomMxcsr();
            for (int r = 0; r < 16; r++) {
                if (rnd.nextBoolean()) {
                    h.setXmm(r, FpuHarness.float32(rnd) | (FpuHarness.float32(rnd) << 32),
                            FpuHarness.float32(rnd) | (FpuHarness.float32(rnd) << 32));
                } else {
                    h.setXmm(r, FpuHarness.float64(rnd), FpuHarness.float64(rnd));
                }
            }
            for (int i = 0; i < 32; i += 8) {
                FpuHarness.putLong(h.dataIn, i, rnd.nextBoolean() ? FpuHarness.float64(rnd)
                        : FpuHarness.float32(rnd) | (FpuHarness.float32(rnd) << 32));
            }
            int op = new int[] {0x2a, 0x2c, 0x2d}[rnd.nextInt(3)];
            int pfx = rnd.nextBoolean() ? NP : 0x66;
            boolean mem = rnd.nextInt(3) == 0;
            int disp = pfx == 0x66 && op != 0x2a ? 16 * rnd.nextInt(2) : rnd.nextInt(24); // m128 is aligned
            byte[] code = op == 0x2a ? sse(pfx, op, xr(), mr(), false, -1, mem ? disp : -1)
                    : sse(pfx, op, mr(), xr(), false, -1, mem ? disp : -1);
            check("cvt " + Integer.toHexString(pfx) + " " + Integer.toHexString(op) + (mem ? " mem" : ""), code);
        }
        finish("conversions");
    }

    @Test
    void memoryForms() {
        for (int n = 0; n < 2500; n++) {
            prepare();
            int kind = rnd.nextInt(7);
            int any = rnd.nextInt(FpuHarness.DATA_BYTES - 8); // no alignment needed
            byte[] code = switch (kind) {
                case 0, 1 -> sse(NP, INT_OPS[rnd.nextInt(INT_OPS.length)], mr(), 0, false, -1, any);
                case 2 -> sse(NP, 0x6f + 0x10 * rnd.nextInt(2), mr(), 0, false, -1, any);
                case 3 -> sse(NP, rnd.nextBoolean() ? 0x6e : 0x7e, mr(), 0, rnd.nextBoolean(), -1, any);
                case 4 -> sse(NP, 0xe7, mr(), 0, false, -1, any); // MOVNTQ
                case 5 -> sse(NP, 0x70, mr(), 0, false, rnd.nextInt(256), any);
                default -> sse(NP, 0xc4, mr(), 0, false, rnd.nextInt(8), any);
            };
            check("mem " + kind, code);
        }
        finish("memory forms");
    }
}
