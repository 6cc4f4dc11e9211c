package org.jkvm.emu.cpu;

/**
 * MMX (SDM vol. 1 ch. 9, vol. 3A 13.5 and vol. 2: the 0F opcodes without a mandatory prefix on MMX registers): the
 * MMX instruction set proper, the integer instructions SSE added on MMX registers (PAVGB/W, PEXTRW, PINSRW,
 * PMAX/PMIN, PMOVMSKB, PMULHUW, PSADBW, PSHUFW, MASKMOVQ, MOVNTQ), SSE2's PADDQ/PSUBQ/PMULUDQ on MMX registers and
 * MOVQ2DQ/MOVDQ2Q.
 *
 * <p>State (SDM vol. 1 9.5, 9.6.3): MMn is the 64-bit significand of physical x87 register Rn. Every MMX
 * instruction but EMMS sets TOP to 0 and all eight tags to valid; a write to MMn also sets bits 79:64 of Rn (sign and
 * exponent) to ones. EMMS sets TOP to 0 and empties all tags (vol. 1 table 9-3). The element-wise arithmetic is {@link SseInt}'s, on one 64-bit half.
 *
 * <p>Availability (vol. 3A 13.5, vol. 2 "Numeric Exceptions" of each MMX instruction): #UD when CR0.EM is set,
 * #NM when CR0.TS is set, #MF when an unmasked x87 exception is pending; CR4.OSFXSR is not needed (MOVQ2DQ and
 * MOVDQ2Q, SSE2 instructions, also need the SSE checks). Memory operands have no alignment requirement.
 */
public final class Mmx {
    private Mmx() {}

    /** The opcodes (of the 0F map, without prefix) that {@link #exec} handles. */
    static boolean isMmxOpcode(int op) {
        return (op >= 0x60 && op <= 0x7f) || (op >= 0xd1 && op <= 0xfe) || op == 0xc4 || op == 0xc5;
    }

    /** #UD/#NM/#MF checks for MMX instructions, then the transition to MMX state (TOP 0, all registers valid). */
    static void enter(Cpu c) {
        if ((c.cr0 & Cpu.CR0_EM) != 0) {
            throw c.fault(CpuFault.UD);
        }
        if ((c.cr0 & Cpu.CR0_TS) != 0) {
            throw c.fault(CpuFault.NM);
        }
        if ((c.fpu.fsw & FpuState.FSW_ES) != 0) {
            throw c.fault(CpuFault.MF);
        }
    }

    private static void toMmxState(FpuState f) {
        f.top = 0;
        f.tags = 0xff;
    }

    static long mm(Cpu c, int i) {
        return c.fpu.mant[i & 7];
    }

    static void setMm(Cpu c, int i, long v) {
        c.fpu.mant[i & 7] = v;
        c.fpu.se[i & 7] = 0xffff;
    }

    /** The 64-bit source: MM(rm) or memory. */
    private static long src64(Cpu c, Insn d) {
        return d.mem ? c.mmu.read(Executor.addr(c, d), 8) : mm(c, d.rm);
    }

    /** Executes an MMX instruction: {@code op} is the second opcode byte of 0F xx, no 66/F2/F3 prefix. */
    static void exec(Cpu c, Insn d, int op) {
        if (op == 0x77) { // EMMS: TOP 0 too (SDM vol. 1 table 9-3)
            enter(c);
            c.fpu.top = 0;
            c.fpu.tags = 0;
            return;
        }
        if (!isValid(op, d)) {
            throw c.fault(CpuFault.UD);
        }
        enter(c);
        FpuState f = c.fpu;
        switch (op) {
            case 0x6e -> { // MOVD/MOVQ mm, r/m32/64: zero-extends
                int size = d.osz == 8 ? 8 : 4;
                long v = Executor.readE(c, d, size);
                toMmxState(f);
                setMm(c, d.reg, size == 8 ? v : v & 0xffffffffL);
            }
            case 0x7e -> { // MOVD/MOVQ r/m32/64, mm
                int size = d.osz == 8 ? 8 : 4;
                long v = mm(c, d.reg);
                Executor.writeE(c, d, size, size == 8 ? v : v & 0xffffffffL);
                toMmxState(f);
            }
            case 0x6f -> { // MOVQ mm, mm/m64
                long v = src64(c, d);
                toMmxState(f);
                setMm(c, d.reg, v);
            }
            case 0x7f, 0xe7 -> { // MOVQ mm/m64, mm; MOVNTQ m64, mm
                long v = mm(c, d.reg);
                if (d.mem) {
                    c.mmu.write(Executor.addr(c, d), 8, v);
                } else {
                    setMm(c, d.rm, v);
                }
                toMmxState(f);
            }
            case 0x70 -> { // PSHUFW mm, mm/m64, imm8
                long s = src64(c, d);
                int imm = (int) d.imm & 0xff;
                long v = 0;
                for (int i = 0; i < 4; i++) {
                    v |= ((s >>> (16 * ((imm >>> (2 * i)) & 3))) & 0xffff) << (16 * i);
                }
                toMmxState(f);
                setMm(c, d.reg, v);
            }
            case 0x71, 0x72, 0x73 -> { // shift groups 12-14 by imm8 on MM(rm)
                long v = SseInt.shiftImm64(op, d.reg & 7, mm(c, d.rm), d.imm & 0xff);
                toMmxState(f);
                setMm(c, d.rm, v);
            }
            case 0xc4 -> { // PINSRW mm, r32/m16, imm8
                long w = Executor.readE(c, d, d.mem ? 2 : 4) & 0xffff;
                int sh = 16 * ((int) d.imm & 3);
                long v = (mm(c, d.reg) & ~(0xffffL << sh)) | (w << sh);
                toMmxState(f);
                setMm(c, d.reg, v);
            }
            case 0xc5 -> { // PEXTRW r32, mm, imm8
                long v = (mm(c, d.rm) >>> (16 * ((int) d.imm & 3))) & 0xffff;
                toMmxState(f);
                c.setReg(d.reg, 4, d.rex, v);
            }
            case 0xd7 -> { // PMOVMSKB r32, mm
                long v = Sse.byteSigns(mm(c, d.rm));
                toMmxState(f);
                c.setReg(d.reg, 4, d.rex, v);
            }
            case 0xf7 -> maskmovq(c, d);
            default -> {
                // PUNPCKL* read 32 bits of memory (the low half of the operand is all they use)
                long s;
                if (op >= 0x60 && op <= 0x62) {
                    s = d.mem ? c.mmu.read(Executor.addr(c, d), 4) : mm(c, d.rm);
                } else {
                    s = src64(c, d);
                }
                long v = SseInt.mmxOp(c, op, mm(c, d.reg), s);
                toMmxState(f);
                setMm(c, d.reg, v);
            }
        }
    }

    /** Which MMX forms exist: register-only and memory-only operands, the valid shift sub-opcodes. */
    private static boolean isValid(int op, Insn d) {
        return switch (op) {
            case 0x6c, 0x6d, 0x78, 0x79, 0x7a, 0x7b, 0x7c, 0x7d, 0xd6, 0xe6, 0xf0 -> false;
            case 0x71, 0x72 -> !d.mem && ((d.reg & 7) == 2 || (d.reg & 7) == 4 || (d.reg & 7) == 6);
            case 0x73 -> !d.mem && ((d.reg & 7) == 2 || (d.reg & 7) == 6);
            case 0xc5, 0xd7, 0xf7 -> !d.mem;
            case 0xe7 -> d.mem;
            default -> true;
        };
    }

    /** MASKMOVQ mm1, mm2: the bytes of mm1 whose byte in mm2 has its sign bit set, stored at DS:rDI. */
    private static void maskmovq(Cpu c, Insn d) {
        long data = mm(c, d.reg);
        long mask = mm(c, d.rm);
        long ea = c.r[Cpu.RDI];
        ea = d.asz == 8 ? ea : d.asz == 4 ? ea & 0xffffffffL : ea & 0xffff;
        long la = c.linear(d.seg, ea);
        for (int i = 0; i < 8; i++) {
            if (((mask >>> (8 * i)) & 0x80) != 0) {
                c.mmu.write(la + i, 1, data >>> (8 * i));
            }
        }
        toMmxState(c.fpu);
    }

    /**
     * The SSE/SSE2 conversions with an MMX operand (NP/66 0F 2A, 2C, 2D): CVTPI2PS and CVTPI2PD (two dwords of mm/m64
     * to the low two singles, keeping the rest of xmm, or to two doubles), CVT(T)PS2PI (the low two singles of
     * xmm/m64) and CVT(T)PD2PI (two doubles of xmm/m128, aligned) to two dwords in mm. The caller has made the SSE
     * checks. An MMX register operand makes the transition to MMX state (and takes a pending x87 exception first);
     * CVTPI2PS/PD with a memory source do not touch the x87 state. Rounding, exceptions and the integer indefinite
     * are the SSE conversions' ({@link SoftFloat}); an unmasked exception leaves the destination unchanged.
     */
    static void convert(Cpu c, Insn d, int op, boolean pd) {
        FpuState f = c.fpu;
        long[] x = f.xmm;
        if (op == 0x2a) {
            long s;
            if (d.mem) {
                s = c.mmu.read(Executor.addr(c, d), 8);
            } else {
                enter(c);
                s = mm(c, d.rm);
            }
            SoftFloat sf = SseFloat.begin(c);
            long lo = sf.fromInt((int) s, pd ? SoftFloat.DOUBLE : SoftFloat.SINGLE);
            long hi = sf.fromInt((int) (s >>> 32), pd ? SoftFloat.DOUBLE : SoftFloat.SINGLE);
            SseFloat.end(c);
            if (pd) {
                x[2 * d.reg] = lo;
                x[2 * d.reg + 1] = hi;
            } else {
                x[2 * d.reg] = (lo & 0xffffffffL) | (hi << 32);
            }
            if (!d.mem) {
                toMmxState(f);
            }
            return;
        }
        enter(c);
        long a, b;
        int fmt;
        if (pd) {
            Sse.src128(c, d, true);
            a = f.t[0];
            b = f.t[1];
            fmt = SoftFloat.DOUBLE;
        } else {
            long s = Sse.srcLow(c, d, 8);
            a = s & 0xffffffffL;
            b = s >>> 32;
            fmt = SoftFloat.SINGLE;
        }
        SoftFloat sf = SseFloat.begin(c);
        int mode = op == 0x2c ? SoftFloat.RZ : sf.rc;
        sf.unpack(true, fmt, a, 0);
        long r0 = sf.toInt(32, mode);
        sf.unpack(true, fmt, b, 0);
        long r1 = sf.toInt(32, mode);
        SseFloat.end(c);
        toMmxState(f);
        setMm(c, d.reg, (r0 & 0xffffffffL) | (r1 << 32));
    }

    /** MOVQ2DQ xmm, mm (F3 0F D6) and MOVDQ2Q mm, xmm (F2 0F D6): register operands only; SSE2 and MMX checks. */
    static void movq2dq(Cpu c, Insn d, boolean toXmm) {
        if (d.mem) {
            throw c.fault(CpuFault.UD);
        }
        Sse.check(c);
        enter(c);
        long[] x = c.fpu.xmm;
        if (toXmm) {
            x[2 * d.reg] = mm(c, d.rm);
            x[2 * d.reg + 1] = 0;
        } else {
            setMm(c, d.reg, x[2 * d.rm]);
        }
        toMmxState(c.fpu);
    }
}
