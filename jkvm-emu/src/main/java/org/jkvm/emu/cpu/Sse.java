package org.jkvm.emu.cpu;

/**
 * SSE/SSE2 dispatch (SDM vol. 2 appendix A table A-3, the 0F map with the 66/F3/F2 mandatory prefixes), the XMM
 * operand access every SSE instruction shares, and the data movement instructions: MOVAPS/MOVUPS/MOVAPD/MOVUPD,
 * MOVDQA/MOVDQU, MOVSS/MOVSD, MOVD/MOVQ, MOVLPS/MOVHPS/MOVLPD/MOVHPD/MOVHLPS/MOVLHPS, MOVMSKPS/MOVMSKPD, MOVNT*,
 * MASKMOVDQU. Packed integer instructions are in {@link SseInt}, floating point in {@link SseFloat}, FXSAVE/FXRSTOR
 * and MXCSR in {@link FxSave}.
 *
 * <p>Availability (SDM vol. 3A 13.1.4, table 2-4 of vol. 2): #UD when CR0.EM is set or CR4.OSFXSR clear, #NM when
 * CR0.TS is set. The MMX forms (no mandatory prefix on the integer opcodes) are {@link Mmx}'s.
 */
public final class Sse {
    /** Mandatory prefix classes. */
    static final int NP = 0, P66 = 1, PF2 = 2, PF3 = 3;

    private Sse() {}

    static int prefix(Insn d) {
        return d.rep == 0xf3 ? PF3 : d.rep == 0xf2 ? PF2 : d.p66 ? P66 : NP;
    }

    /** #UD/#NM checks for SSE instructions. */
    static void check(Cpu c) {
        if ((c.cr0 & Cpu.CR0_EM) != 0 || (c.cr4 & Cpu.CR4_OSFXSR) == 0) {
            throw c.fault(CpuFault.UD);
        }
        if ((c.cr0 & Cpu.CR0_TS) != 0) {
            throw c.fault(CpuFault.NM);
        }
    }

    static CpuFault ud(Cpu c) {
        return c.fault(CpuFault.UD);
    }

    // ---- Operands ----

    /** The linear address of a 16-byte memory operand, #GP(0) unless 16-byte aligned when {@code aligned}. */
    static long addr128(Cpu c, Insn d, boolean aligned) {
        long la = Executor.addr(c, d);
        if (aligned && (la & 15) != 0) {
            throw c.fault(CpuFault.GP, 0);
        }
        return la;
    }

    /** Reads the 128-bit source (XMM rm or memory) into {@code t[0..1]}. */
    static void src128(Cpu c, Insn d, boolean aligned) {
        long[] t = c.fpu.t;
        if (d.mem) {
            long la = addr128(c, d, aligned);
            t[0] = c.mmu.read(la, 8);
            t[1] = c.mmu.read(la + 8, 8);
        } else {
            long[] x = c.fpu.xmm;
            t[0] = x[2 * d.rm];
            t[1] = x[2 * d.rm + 1];
        }
    }

    /** The low 64 (or 32) bits of the source: XMM rm or a memory operand of {@code size} bytes. */
    static long srcLow(Cpu c, Insn d, int size) {
        if (d.mem) {
            return c.mmu.read(Executor.addr(c, d), size);
        }
        long v = c.fpu.xmm[2 * d.rm];
        return size == 8 ? v : v & 0xffffffffL;
    }

    static void store128(Cpu c, Insn d, long lo, long hi, boolean aligned) {
        long la = addr128(c, d, aligned);
        c.mmu.probeWrite(la, 16);
        c.mmu.write(la, 8, lo);
        c.mmu.write(la + 8, 8, hi);
    }

    // ---- Dispatch ----

    /** Executes an SSE instruction of the 0F map ({@code d.op} 0x110-0x1ff). */
    public static void exec(Cpu c, Insn d) {
        int op = d.op & 0xff;
        if (op == 0xc3) {
            // MOVNTI m32/m64, r: a plain store (non-temporal hint), no SSE state involved.
            if (!d.mem || prefix(d) != NP) {
                throw ud(c);
            }
            int size = d.osz == 8 ? 8 : 4;
            c.mmu.write(Executor.addr(c, d), size, c.getReg(d.reg, size, d.rex));
            return;
        }
        if (op == 0xae) {
            FxSave.group15(c, d);
            return;
        }
        int pfx = prefix(d);
        if (pfx == NP && Mmx.isMmxOpcode(op)) {
            Mmx.exec(c, d, op); // MMX registers: its own checks (CR4.OSFXSR not needed)
            return;
        }
        if (op == 0xd6 && (pfx == PF3 || pfx == PF2)) {
            Mmx.movq2dq(c, d, pfx == PF3);
            return;
        }
        check(c);
        if ((op >= 0x60 && op <= 0x7f) || op >= 0xd0 || op == 0xc4 || op == 0xc5) {
            if (op == 0x6e || op == 0x7e || op == 0x6f || op == 0x7f || op == 0xd6 || op == 0xd7 || op == 0xe7
                    || op == 0xf7 || op == 0x77) {
                moves(c, d, op, pfx);
            } else {
                SseInt.exec(c, d, op, pfx);
            }
            return;
        }
        switch (op) {
            case 0x10, 0x11, 0x12, 0x13, 0x16, 0x17, 0x28, 0x29, 0x2b, 0x50 -> moves(c, d, op, pfx);
            default -> SseFloat.exec(c, d, op, pfx);
        }
    }

    private static void moves(Cpu c, Insn d, int op, int pfx) {
        long[] x = c.fpu.xmm;
        int r = 2 * d.reg;
        long[] t = c.fpu.t;
        switch (op) {
            case 0x10 -> {
                if (pfx == NP || pfx == P66) {
                    src128(c, d, false);
                    x[r] = t[0];
                    x[r + 1] = t[1];
                } else if (pfx == PF3) {
                    // MOVSS: a load zeroes bits 127:32, a register move keeps them.
                    long v = srcLow(c, d, 4);
                    if (d.mem) {
                        x[r] = v;
                        x[r + 1] = 0;
                    } else {
                        x[r] = (x[r] & ~0xffffffffL) | v;
                    }
                } else {
                    long v = srcLow(c, d, 8);
                    x[r] = v;
                    if (d.mem) {
                        x[r + 1] = 0;
                    }
                }
            }
            case 0x11 -> {
                if (pfx == NP || pfx == P66) {
                    if (d.mem) {
                        store128(c, d, x[r], x[r + 1], false);
                    } else {
                        x[2 * d.rm] = x[r];
                        x[2 * d.rm + 1] = x[r + 1];
                    }
                } else if (pfx == PF3) {
                    if (d.mem) {
                        c.mmu.write(Executor.addr(c, d), 4, x[r]);
                    } else {
                        x[2 * d.rm] = (x[2 * d.rm] & ~0xffffffffL) | (x[r] & 0xffffffffL);
                    }
                } else if (d.mem) {
                    c.mmu.write(Executor.addr(c, d), 8, x[r]);
                } else {
                    x[2 * d.rm] = x[r];
                }
            }
            case 0x12, 0x16 -> {
                // MOVLPS/MOVLPD/MOVHLPS (12), MOVHPS/MOVHPD/MOVLHPS (16).
                if (pfx == PF2 || pfx == PF3 || (pfx == P66 && !d.mem)) {
                    throw ud(c);
                }
                long v = d.mem ? c.mmu.read(Executor.addr(c, d), 8) : x[2 * d.rm + (op == 0x12 ? 1 : 0)];
                x[r + (op == 0x12 ? 0 : 1)] = v;
            }
            case 0x13, 0x17 -> {
                if (!d.mem || pfx == PF2 || pfx == PF3) {
                    throw ud(c);
                }
                c.mmu.write(Executor.addr(c, d), 8, x[r + (op == 0x13 ? 0 : 1)]);
            }
            case 0x28 -> {
                if (pfx != NP && pfx != P66) {
                    throw ud(c);
                }
                src128(c, d, true);
                x[r] = t[0];
                x[r + 1] = t[1];
            }
            case 0x29, 0x2b -> {
                if ((pfx != NP && pfx != P66) || (op == 0x2b && !d.mem)) {
                    throw ud(c);
                }
                if (d.mem) {
                    store128(c, d, x[r], x[r + 1], true);
                } else {
                    x[2 * d.rm] = x[r];
                    x[2 * d.rm + 1] = x[r + 1];
                }
            }
            case 0x50 -> {
                if (d.mem || (pfx != NP && pfx != P66)) {
                    throw ud(c);
                }
                int s = 2 * d.rm;
                long m;
                if (pfx == NP) {
                    m = ((x[s] >>> 31) & 1) | ((x[s] >>> 63) << 1) | (((x[s + 1] >>> 31) & 1) << 2)
                            | ((x[s + 1] >>> 63) << 3);
                } else {
                    m = (x[s] >>> 63) | ((x[s + 1] >>> 62) & 2);
                }
                c.setReg(d.reg, 4, d.rex, m);
            }
            case 0x6e -> {
                if (pfx != P66) {
                    throw ud(c);
                }
                int size = d.osz == 8 ? 8 : 4;
                x[r] = Executor.readE(c, d, size);
                x[r + 1] = 0;
            }
            case 0x7e -> {
                if (pfx == P66) {
                    int size = d.osz == 8 ? 8 : 4;
                    Executor.writeE(c, d, size, size == 8 ? x[r] : x[r] & 0xffffffffL);
                } else if (pfx == PF3) {
                    x[r] = srcLow(c, d, 8);
                    x[r + 1] = 0;
                } else {
                    throw ud(c);
                }
            }
            case 0x6f -> {
                if (pfx != P66 && pfx != PF3) {
                    throw ud(c);
                }
                src128(c, d, pfx == P66);
                x[r] = t[0];
                x[r + 1] = t[1];
            }
            case 0x7f, 0xe7 -> {
                if ((op == 0x7f ? pfx != P66 && pfx != PF3 : pfx != P66) || (op == 0xe7 && !d.mem)) {
                    throw ud(c);
                }
                if (d.mem) {
                    store128(c, d, x[r], x[r + 1], op == 0xe7 || pfx == P66);
                } else {
                    x[2 * d.rm] = x[r];
                    x[2 * d.rm + 1] = x[r + 1];
                }
            }
            case 0xd6 -> {
                if (pfx != P66) {
                    throw ud(c);
                }
                if (d.mem) {
                    c.mmu.write(Executor.addr(c, d), 8, x[r]);
                } else {
                    x[2 * d.rm] = x[r];
                    x[2 * d.rm + 1] = 0;
                }
            }
            case 0xd7 -> {
                if (pfx != P66 || d.mem) {
                    throw ud(c);
                }
                int s = 2 * d.rm;
                c.setReg(d.reg, 4, d.rex, byteSigns(x[s]) | (byteSigns(x[s + 1]) << 8));
            }
            case 0xf7 -> maskmov(c, d, pfx);
            default -> throw ud(c);
        }
    }

    /** The sign bits of the eight bytes of {@code v} (PMOVMSKB). */
    static long byteSigns(long v) {
        long m = 0;
        for (int i = 0; i < 8; i++) {
            m |= ((v >>> (8 * i + 7)) & 1) << i;
        }
        return m;
    }

    /** MASKMOVDQU: stores the bytes of xmm(reg) whose mask byte in xmm(rm) has the sign bit set, at DS:rDI. */
    private static void maskmov(Cpu c, Insn d, int pfx) {
        if (pfx != P66 || d.mem) {
            throw ud(c);
        }
        long[] x = c.fpu.xmm;
        long ea = c.r[Cpu.RDI];
        ea = d.asz == 8 ? ea : d.asz == 4 ? ea & 0xffffffffL : ea & 0xffff;
        long la = c.linear(d.seg, ea);
        for (int i = 0; i < 16; i++) {
            long mask = x[2 * d.rm + (i >> 3)] >>> (8 * (i & 7));
            if ((mask & 0x80) != 0) {
                c.mmu.write(la + i, 1, x[2 * d.reg + (i >> 3)] >>> (8 * (i & 7)));
            }
        }
    }
}
