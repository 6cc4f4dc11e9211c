package org.jkvm.emu.cpu;

/**
 * SSE2 packed integer instructions on XMM registers (SDM vol. 1 ch. 11.4.3 "SSE2 128-bit SIMD integer
 * instructions", vol. 2 PADD..PXOR): add/subtract with wrap and saturation, compares, logic, shifts by register and
 * immediate (incl. PSLLDQ/PSRLDQ), unpacks, packs, shuffles, multiplies, min/max, averages, PSADBW, PINSRW/PEXTRW.
 * Element-wise operations work on one 64-bit half at a time (no lane crosses it), so each is a loop over the
 * elements of a {@code long}.
 */
public final class SseInt {
    private SseInt() {}

    static void exec(Cpu c, Insn d, int op, int pfx) {
        if (op == 0xe6) {
            SseFloat.exec(c, d, op, pfx);
            return;
        }
        if (op == 0x70) {
            pshuf(c, d, pfx);
            return;
        }
        if (pfx != Sse.P66) {
            throw Sse.ud(c);
        }
        long[] x = c.fpu.xmm;
        int r = 2 * d.reg;
        switch (op) {
            case 0x71, 0x72, 0x73 -> {
                if (d.mem) {
                    throw Sse.ud(c);
                }
                shiftImm(c, d, op);
                return;
            }
            case 0xc4 -> {
                long v = Executor.readE(c, d, d.mem ? 2 : 4) & 0xffff;
                int sel = (int) d.imm & 7;
                int k = r + (sel >> 2);
                int sh = 16 * (sel & 3);
                x[k] = (x[k] & ~(0xffffL << sh)) | (v << sh);
                return;
            }
            case 0xc5 -> {
                if (d.mem) {
                    throw Sse.ud(c);
                }
                int sel = (int) d.imm & 7;
                c.setReg(d.reg, 4, d.rex, (x[2 * d.rm + (sel >> 2)] >>> (16 * (sel & 3))) & 0xffff);
                return;
            }
            default -> {
            }
        }
        Sse.src128(c, d, true);
        long[] t = c.fpu.t;
        long sLo = t[0], sHi = t[1];
        long dLo = x[r], dHi = x[r + 1];
        long lo, hi;
        switch (op) {
            case 0x60, 0x61, 0x62 -> {
                int bits = 8 << (op - 0x60);
                lo = interleave(dLo, sLo, bits, false);
                hi = interleave(dLo, sLo, bits, true);
            }
            case 0x68, 0x69, 0x6a -> {
                int bits = 8 << (op - 0x68);
                lo = interleave(dHi, sHi, bits, false);
                hi = interleave(dHi, sHi, bits, true);
            }
            case 0x6c -> {
                lo = dLo;
                hi = sLo;
            }
            case 0x6d -> {
                lo = dHi;
                hi = sHi;
            }
            case 0x63, 0x67, 0x6b -> {
                lo = pack(op, dLo, dHi);
                hi = pack(op, sLo, sHi);
            }
            case 0xd1, 0xd2, 0xd3, 0xe1, 0xe2, 0xf1, 0xf2, 0xf3 -> {
                int kind = op < 0xe0 ? 0 : op < 0xf0 ? 1 : 2;
                int bits = 8 << (op & 3);
                long count = sLo;
                lo = shift(kind, dLo, bits, count);
                hi = shift(kind, dHi, bits, count);
            }
            case 0xd0, 0xf0, 0xff -> throw Sse.ud(c);
            default -> {
                lo = lane(c, op, dLo, sLo);
                hi = lane(c, op, dHi, sHi);
            }
        }
        x[r] = lo;
        x[r + 1] = hi;
    }

    /** PSHUFD (66), PSHUFHW (F3), PSHUFLW (F2). */
    private static void pshuf(Cpu c, Insn d, int pfx) {
        if (pfx == Sse.NP) {
            throw Sse.ud(c);
        }
        Sse.src128(c, d, true);
        long[] t = c.fpu.t;
        long[] x = c.fpu.xmm;
        int r = 2 * d.reg;
        int imm = (int) d.imm & 0xff;
        if (pfx == Sse.P66) {
            long lo = 0, hi = 0;
            for (int i = 0; i < 4; i++) {
                int s = (imm >>> (2 * i)) & 3;
                long v = (t[s >> 1] >>> (32 * (s & 1))) & 0xffffffffL;
                if (i < 2) {
                    lo |= v << (32 * i);
                } else {
                    hi |= v << (32 * (i - 2));
                }
            }
            x[r] = lo;
            x[r + 1] = hi;
        } else {
            int half = pfx == Sse.PF3 ? 1 : 0;
            long src = t[half];
            long v = 0;
            for (int i = 0; i < 4; i++) {
                int s = (imm >>> (2 * i)) & 3;
                v |= ((src >>> (16 * s)) & 0xffff) << (16 * i);
            }
            x[r + half] = v;
            x[r + 1 - half] = t[1 - half];
        }
    }

    /** PSRLW/D/Q, PSRAW/D, PSLLW/D/Q by immediate and PSRLDQ/PSLLDQ (groups 12-14). */
    private static void shiftImm(Cpu c, Insn d, int op) {
        long[] x = c.fpu.xmm;
        int r = 2 * d.rm;
        int sub = d.reg & 7;
        long count = d.imm & 0xff;
        int bits = op == 0x71 ? 16 : op == 0x72 ? 32 : 64;
        if (op == 0x73 && (sub == 3 || sub == 7)) {
            int n = (int) Math.min(count, 16);
            long lo = x[r], hi = x[r + 1];
            if (sub == 3) {
                for (int i = 0; i < n; i++) {
                    lo = (lo >>> 8) | (hi << 56);
                    hi >>>= 8;
                }
            } else {
                for (int i = 0; i < n; i++) {
                    hi = (hi << 8) | (lo >>> 56);
                    lo <<= 8;
                }
            }
            x[r] = lo;
            x[r + 1] = hi;
            return;
        }
        int kind = switch (sub) {
            case 2 -> 0;
            case 4 -> op == 0x73 ? -1 : 1;
            case 6 -> 2;
            default -> -1;
        };
        if (kind < 0) {
            throw Sse.ud(c);
        }
        x[r] = shift(kind, x[r], bits, count);
        x[r + 1] = shift(kind, x[r + 1], bits, count);
    }

    /**
     * PSRLW/D/Q (sub-opcode 2), PSRAW/D (4), PSLLW/D/Q (6) by {@code count} on one 64-bit register (MMX groups
     * 12-14); the caller has checked the sub-opcode.
     */
    static long shiftImm64(int op, int sub, long v, long count) {
        int bits = op == 0x71 ? 16 : op == 0x72 ? 32 : 64;
        int kind = sub == 2 ? 0 : sub == 4 ? 1 : 2;
        return shift(kind, v, bits, count);
    }

    /**
     * The MMX form of a packed integer instruction ({@code op} of the 0F map, no prefix) on 64-bit operands: the
     * destination {@code a} and the source {@code b}. Unpacks interleave the low (PUNPCKL*) or high (PUNPCKH*)
     * halves, packs put {@code a}'s elements in the low half and {@code b}'s in the high half, shifts take
     * their count from all of {@code b}.
     */
    static long mmxOp(Cpu c, int op, long a, long b) {
        return switch (op) {
            case 0x60, 0x61, 0x62 -> interleave(a, b, 8 << (op - 0x60), false);
            case 0x68, 0x69, 0x6a -> interleave(a, b, 8 << (op - 0x68), true);
            case 0x63, 0x67, 0x6b -> pack(op, a, b);
            case 0xd1, 0xd2, 0xd3, 0xe1, 0xe2, 0xf1, 0xf2, 0xf3 ->
                    shift(op < 0xe0 ? 0 : op < 0xf0 ? 1 : 2, a, 8 << (op & 3), b);
            default -> lane(c, op, a, b);
        };
    }

    /** Shifts each element: kind 0 logical right, 1 arithmetic right, 2 left; counts above the width saturate. */
    private static long shift(int kind, long v, int bits, long count) {
        if (Long.compareUnsigned(count, bits - 1) > 0) {
            if (kind != 1) {
                return 0;
            }
            count = bits - 1;
        }
        int n = (int) count;
        if (bits == 64) {
            return kind == 0 ? v >>> n : kind == 1 ? v >> n : v << n;
        }
        long mask = (1L << bits) - 1;
        long res = 0;
        for (int i = 0; i < 64; i += bits) {
            long e = (v >>> i) & mask;
            long o = switch (kind) {
                case 0 -> e >>> n;
                case 1 -> sx(e, bits) >> n;
                default -> e << n;
            };
            res |= (o & mask) << i;
        }
        return res;
    }

    /** Interleaves the elements of the low (or high) 32 bits of {@code a} and {@code b}: PUNPCKL*. */
    private static long interleave(long a, long b, int bits, boolean upper) {
        long mask = bits == 64 ? -1L : (1L << bits) - 1;
        int n = 32 / bits;
        int base = upper ? 32 : 0;
        long res = 0;
        for (int i = 0; i < n; i++) {
            long ea = (a >>> (base + i * bits)) & mask;
            long eb = (b >>> (base + i * bits)) & mask;
            res |= ea << (2 * i * bits);
            res |= eb << ((2 * i + 1) * bits);
        }
        return res;
    }

    /** PACKSSWB (63), PACKUSWB (67), PACKSSDW (6B) of one 128-bit source into 64 bits. */
    private static long pack(int op, long lo, long hi) {
        long res = 0;
        if (op == 0x6b) {
            for (int i = 0; i < 4; i++) {
                long e = (int) ((i < 2 ? lo : hi) >>> (32 * (i & 1)));
                res |= (clamp(e, -32768, 32767) & 0xffff) << (16 * i);
            }
            return res;
        }
        for (int i = 0; i < 8; i++) {
            long e = (short) ((i < 4 ? lo : hi) >>> (16 * (i & 3)));
            long v = op == 0x63 ? clamp(e, -128, 127) : clamp(e, 0, 255);
            res |= (v & 0xff) << (8 * i);
        }
        return res;
    }

    private static long clamp(long v, long min, long max) {
        return v < min ? min : v > max ? max : v;
    }

    static long sx(long v, int bits) {
        return (v << (64 - bits)) >> (64 - bits);
    }

    /** The element-wise operations on one 64-bit half. */
    private static long lane(Cpu c, int op, long a, long b) {
        switch (op) {
            case 0xdb:
                return a & b;
            case 0xdf:
                return ~a & b;
            case 0xeb:
                return a | b;
            case 0xef:
                return a ^ b;
            case 0xd4:
                return a + b;
            case 0xfb:
                return a - b;
            case 0xf4:
                return (a & 0xffffffffL) * (b & 0xffffffffL);
            case 0xf5: {
                long res = 0;
                for (int i = 0; i < 2; i++) {
                    int s = 32 * i;
                    long p = (short) (a >>> s) * (long) (short) (b >>> s)
                            + (short) (a >>> (s + 16)) * (long) (short) (b >>> (s + 16));
                    res |= (p & 0xffffffffL) << s;
                }
                return res;
            }
            case 0xf6: {
                long sum = 0;
                for (int i = 0; i < 64; i += 8) {
                    sum += Math.abs(((a >>> i) & 0xff) - ((b >>> i) & 0xff));
                }
                return sum;
            }
            default:
                break;
        }
        int bits = width(op);
        if (bits == 0) {
            throw Sse.ud(c);
        }
        long mask = bits == 64 ? -1L : (1L << bits) - 1;
        long res = 0;
        for (int i = 0; i < 64; i += bits) {
            long x = (a >>> i) & mask;
            long y = (b >>> i) & mask;
            res |= (elem(op, x, y, bits) & mask) << i;
        }
        return res;
    }

    private static int width(int op) {
        return switch (op) {
            case 0xfc, 0xf8, 0xec, 0xe8, 0xdc, 0xd8, 0x74, 0x64, 0xda, 0xde, 0xe0 -> 8;
            case 0xfd, 0xf9, 0xed, 0xe9, 0xdd, 0xd9, 0x75, 0x65, 0xea, 0xee, 0xe3, 0xd5, 0xe5, 0xe4 -> 16;
            case 0xfe, 0xfa, 0x76, 0x66 -> 32;
            default -> 0;
        };
    }

    /** One element (zero-extended inputs of {@code bits}); the caller masks the result. */
    private static long elem(int op, long x, long y, int bits) {
        long smin = -(1L << (bits - 1)), smax = (1L << (bits - 1)) - 1, umax = (1L << bits) - 1;
        return switch (op) {
            case 0xfc, 0xfd, 0xfe -> x + y;
            case 0xf8, 0xf9, 0xfa -> x - y;
            case 0xec, 0xed -> clamp(sx(x, bits) + sx(y, bits), smin, smax);
            case 0xe8, 0xe9 -> clamp(sx(x, bits) - sx(y, bits), smin, smax);
            case 0xdc, 0xdd -> Math.min(x + y, umax);
            case 0xd8, 0xd9 -> Math.max(x - y, 0);
            case 0x74, 0x75, 0x76 -> x == y ? -1 : 0;
            case 0x64, 0x65, 0x66 -> sx(x, bits) > sx(y, bits) ? -1 : 0;
            case 0xda -> Math.min(x, y);
            case 0xde -> Math.max(x, y);
            case 0xea -> Math.min(sx(x, bits), sx(y, bits));
            case 0xee -> Math.max(sx(x, bits), sx(y, bits));
            case 0xe0, 0xe3 -> (x + y + 1) >>> 1;
            case 0xd5 -> x * y;
            case 0xe5 -> (sx(x, bits) * sx(y, bits)) >> 16;
            default -> (x * y) >>> 16; // 0xe4 PMULHUW
        };
    }
}
