package org.jkvm.emu.cpu;

/**
 * Executes one decoded instruction: the dispatch over the one-byte and 0F opcode maps (SDM vol. 2 appendix A) and
 * the general-purpose data movement, arithmetic, logic and bit instructions. Control transfers are in
 * {@link ControlOps}, string instructions in {@link StringOps}, system instructions in {@link SystemOps}.
 *
 * <p>On entry {@code c.rip} already points past the instruction (so RIP-relative operands and relative branches use
 * it) and {@code c.insnRip} at its start; a {@link CpuFault} thrown from here restarts the instruction.
 */
public final class Executor {
    private Executor() {}

    // ---- Operand helpers ----

    /** The effective address of the memory operand (SDM vol. 1 3.7.5), truncated to the address size. */
    public static long ea(Cpu c, Insn d) {
        long a = d.disp;
        int b = d.base;
        if (b >= 0) {
            a += b == Insn.RIP_BASE ? c.rip : c.r[b];
        }
        if (d.index >= 0) {
            a += c.r[d.index] << d.scale;
        }
        int asz = d.asz;
        return asz == 8 ? a : asz == 4 ? a & 0xffffffffL : a & 0xffff;
    }

    /** The linear address of the memory operand. */
    public static long addr(Cpu c, Insn d) {
        return c.linear(d.seg, ea(c, d));
    }

    static long readE(Cpu c, Insn d, int size) {
        return d.mem ? c.mmu.read(addr(c, d), size) : c.getReg(d.rm, size, d.rex);
    }

    static void writeE(Cpu c, Insn d, int size, long v) {
        if (d.mem) {
            c.mmu.write(addr(c, d), size, v);
        } else {
            c.setReg(d.rm, size, d.rex, v);
        }
    }

    private static CpuFault ud(Cpu c) {
        return c.fault(CpuFault.UD);
    }

    /** Executes {@code d}. */
    public static void exec(Cpu c, Insn d) {
        int op = d.op;
        if (d.lock) {
            checkLock(c, d);
        }
        if (op < 0x40 && (op & 7) < 6) {
            aluGroup(c, d, (op >>> 3) & 7, op & 7);
            return;
        }
        switch (op) {
            case 0x06, 0x0e, 0x16, 0x1e -> c.push(d.osz, c.segSel[op >>> 3]);
            case 0x07, 0x17, 0x1f -> {
                int sel = (int) c.peek(d.osz, 0) & 0xffff;
                Segments.loadData(c, op >>> 3, sel);
                c.pop(d.osz);
                if (op == 0x17) {
                    c.interruptShadow = true;
                    c.shadowBlockStarted = false;
                }
            }
            case 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47 ->
                    c.setReg(op & 7, d.osz, false, Alu.inc(c, d.osz, c.getReg(op & 7, d.osz, false)));
            case 0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f ->
                    c.setReg(op & 7, d.osz, false, Alu.dec(c, d.osz, c.getReg(op & 7, d.osz, false)));
            case 0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57 -> {
                c.push(d.osz64, c.getReg(regB(d, op), d.osz64, true));
            }
            case 0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f -> {
                long v = c.pop(d.osz64);
                c.setReg(regB(d, op), d.osz64, true, v);
            }
            case 0x60 -> pusha(c, d.osz);
            case 0x61 -> popa(c, d.osz);
            case 0x63 -> {
                if (!c.long64) {
                    throw ud(c);
                }
                long v = readE(c, d, 4);
                c.setReg(d.reg, d.osz, d.rex, d.osz == 8 ? (long) (int) v : v);
            }
            case 0x68, 0x6a -> c.push(d.osz64, d.imm);
            case 0x69, 0x6b -> c.setReg(d.reg, d.osz, d.rex, Alu.imulTrunc(c, d.osz, readE(c, d, d.osz), d.imm));
            case 0x6c, 0x6d, 0x6e, 0x6f, 0xa4, 0xa5, 0xa6, 0xa7, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf ->
                    StringOps.exec(c, d);
            case 0x80, 0x81, 0x82, 0x83 -> group1(c, d, op == 0x80 || op == 0x82 ? 1 : d.osz);
            case 0x84, 0x85 -> {
                int size = op == 0x84 ? 1 : d.osz;
                Flags.setLogic(c, size, readE(c, d, size) & c.getReg(d.reg, size, d.rex));
            }
            case 0x86, 0x87 -> xchg(c, d, op == 0x86 ? 1 : d.osz);
            case 0x88, 0x89 -> {
                int size = op == 0x88 ? 1 : d.osz;
                writeE(c, d, size, c.getReg(d.reg, size, d.rex));
            }
            case 0x8a, 0x8b -> {
                int size = op == 0x8a ? 1 : d.osz;
                c.setReg(d.reg, size, d.rex, readE(c, d, size));
            }
            case 0x8c -> {
                int s = d.reg & 7;
                if (s > 5) {
                    throw ud(c);
                }
                if (d.mem) {
                    c.mmu.write(addr(c, d), 2, c.segSel[s]);
                } else {
                    c.setReg(d.rm, d.osz == 2 ? 2 : d.osz, d.rex, c.segSel[s]);
                }
            }
            case 0x8d -> {
                if (!d.mem) {
                    throw ud(c);
                }
                c.setReg(d.reg, d.osz, d.rex, ea(c, d));
            }
            case 0x8e -> {
                int s = d.reg & 7;
                if (s == Cpu.CS || s > 5) {
                    throw ud(c);
                }
                Segments.loadData(c, s, (int) readE(c, d, 2));
                if (s == Cpu.SS) {
                    c.interruptShadow = true;
                    c.shadowBlockStarted = false;
                }
            }
            case 0x8f -> {
                if ((d.reg & 7) != 0) {
                    throw ud(c);
                }
                // POP with a memory destination computes the address with the incremented stack pointer.
                long v = c.peek(d.osz64, 0);
                long old = c.r[Cpu.RSP];
                c.setSp(old + d.osz64, c.stackSize());
                try {
                    writeE(c, d, d.osz64, v);
                } catch (CpuFault f) {
                    c.r[Cpu.RSP] = old;
                    throw f;
                }
            }
            case 0x90 -> {
                if ((d.rm & 8) != 0) {
                    xchgAcc(c, d, regB(d, op));
                }
            }
            case 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97 -> xchgAcc(c, d, regB(d, op));
            case 0x98 -> {
                switch (d.osz) {
                    case 2 -> c.setReg(0, 2, false, (byte) c.r[0]);
                    case 4 -> c.setReg(0, 4, false, (short) c.r[0]);
                    default -> c.r[0] = (int) c.r[0];
                }
            }
            case 0x99 -> {
                switch (d.osz) {
                    case 2 -> c.setReg(2, 2, false, ((short) c.r[0]) >> 15);
                    case 4 -> c.setReg(2, 4, false, ((int) c.r[0]) >> 31);
                    default -> c.r[2] = c.r[0] >> 63;
                }
            }
            case 0x9b -> {
                // FWAIT: #NM when CR0.MP and CR0.TS, #MF for a pending unmasked x87 exception.
                if ((c.cr0 & (Cpu.CR0_MP | Cpu.CR0_TS)) == (Cpu.CR0_MP | Cpu.CR0_TS)) {
                    throw c.fault(CpuFault.NM);
                }
                if ((c.fpu.fsw & FpuState.FSW_ES) != 0) {
                    throw c.fault(CpuFault.MF);
                }
            }
            case 0x9c -> SystemOps.pushf(c, d);
            case 0x9d -> SystemOps.popf(c, d);
            case 0x9e -> {
                Flags.materialize(c);
                long ah = (c.r[0] >>> 8) & (Cpu.SF | Cpu.ZF | Cpu.AF | Cpu.PF | Cpu.CF);
                c.fAux = (c.fAux & Cpu.OF) | ah;
            }
            case 0x9f -> {
                long f = (c.getRflags() & 0xd5) | 2;
                c.r[0] = (c.r[0] & ~0xff00L) | (f << 8);
            }
            case 0xa0, 0xa1 -> {
                int size = op == 0xa0 ? 1 : d.osz;
                c.setReg(0, size, false, c.mmu.read(c.linear(d.seg, d.disp), size));
            }
            case 0xa2, 0xa3 -> {
                int size = op == 0xa2 ? 1 : d.osz;
                c.mmu.write(c.linear(d.seg, d.disp), size, c.getReg(0, size, false));
            }
            case 0xa8 -> Flags.setLogic(c, 1, c.r[0] & d.imm & 0xff);
            case 0xa9 -> Flags.setLogic(c, d.osz, c.r[0] & d.imm & Flags.mask(d.osz));
            case 0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7 -> c.setReg(regB(d, op), 1, d.rex, d.imm);
            case 0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf -> c.setReg(regB(d, op), d.osz, d.rex, d.imm);
            case 0xc0, 0xc1, 0xd0, 0xd1, 0xd2, 0xd3 -> group2(c, d, op);
            case 0xc6, 0xc7 -> {
                if ((d.reg & 7) != 0) {
                    throw ud(c);
                }
                int size = op == 0xc6 ? 1 : d.osz;
                writeE(c, d, size, d.imm);
            }
            case 0xc8 -> enter(c, d);
            case 0xc9 -> {
                int ss = c.stackSize();
                long savedSp = c.r[Cpu.RSP];
                c.setSp(c.r[Cpu.RBP], ss);
                try {
                    long v = c.pop(d.osz64);
                    c.setReg(Cpu.RBP, d.osz64, false, v);
                } catch (CpuFault f) {
                    c.r[Cpu.RSP] = savedSp;
                    throw f;
                }
            }
            case 0xd7 -> {
                long a = (c.r[Cpu.RBX] + (c.r[0] & 0xff));
                a = d.asz == 8 ? a : d.asz == 4 ? a & 0xffffffffL : a & 0xffff;
                c.setReg(0, 1, false, c.mmu.read(c.linear(d.seg, a), 1));
            }
            case 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf -> X87.exec(c, d);
            case 0xe4, 0xe5, 0xe6, 0xe7, 0xec, 0xed, 0xee, 0xef -> SystemOps.inOut(c, d);
            case 0xf4 -> SystemOps.hlt(c);
            case 0xf5 -> {
                Flags.materialize(c);
                c.fAux ^= Cpu.CF;
            }
            case 0xf6, 0xf7 -> group3(c, d, op == 0xf6 ? 1 : d.osz);
            case 0xf8, 0xf9 -> {
                Flags.materialize(c);
                Flags.put(c, Cpu.CF, op == 0xf9);
            }
            case 0xfa, 0xfb -> SystemOps.cliSti(c, op == 0xfb);
            case 0xfc -> c.rflagsRest &= ~Cpu.DF;
            case 0xfd -> c.rflagsRest |= Cpu.DF;
            case 0xfe -> {
                int r = d.reg & 7;
                if (r > 1) {
                    throw ud(c);
                }
                incDec(c, d, 1, r == 1);
            }
            case 0xff -> {
                int r = d.reg & 7;
                switch (r) {
                    case 0, 1 -> incDec(c, d, d.osz, r == 1);
                    case 6 -> c.push(d.osz64, readE(c, d, d.osz64));
                    case 7 -> throw ud(c);
                    default -> ControlOps.exec(c, d);
                }
            }
            default -> {
                if (op >= 0x100 && op < 0x200) {
                    TwoByteOps.exec(c, d);
                } else {
                    ControlOps.exec(c, d);
                }
            }
        }
    }

    /** The register number in the low opcode bits extended by REX.B (PUSH/POP/XCHG/MOV/BSWAP r). */
    static int regB(Insn d, int op) {
        return (op & 7) | (d.rm & 8);
    }

    private static void checkLock(Cpu c, Insn d) {
        int op = d.op;
        boolean lockable = d.mem && ((op < 0x38 && (op & 7) < 2) || (op >= 0x80 && op <= 0x83 && (d.reg & 7) != 7)
                || op == 0x86 || op == 0x87 || ((op == 0xf6 || op == 0xf7) && ((d.reg & 7) == 2 || (d.reg & 7) == 3))
                || ((op == 0xfe || op == 0xff) && (d.reg & 7) < 2) || op == 0x1ab || op == 0x1b3 || op == 0x1bb
                || (op == 0x1ba && (d.reg & 7) >= 5) || op == 0x1b0 || op == 0x1b1 || op == 0x1c0 || op == 0x1c1
                || (op == 0x1c7 && (d.reg & 7) == 1));
        if (!lockable) {
            throw ud(c);
        }
    }

    private static void aluGroup(Cpu c, Insn d, int aluOp, int form) {
        switch (form) {
            case 0, 1 -> {
                int size = form == 0 ? 1 : d.osz;
                aluToE(c, d, aluOp, size, c.getReg(d.reg, size, d.rex));
            }
            case 2, 3 -> {
                int size = form == 2 ? 1 : d.osz;
                long res = Alu.alu(c, aluOp, size, c.getReg(d.reg, size, d.rex), readE(c, d, size));
                if (aluOp != 7) {
                    c.setReg(d.reg, size, d.rex, res);
                }
            }
            case 4 -> {
                long res = Alu.alu(c, aluOp, 1, c.r[0] & 0xff, d.imm);
                if (aluOp != 7) {
                    c.setReg(0, 1, false, res);
                }
            }
            default -> {
                long res = Alu.alu(c, aluOp, d.osz, c.getReg(0, d.osz, false), d.imm);
                if (aluOp != 7) {
                    c.setReg(0, d.osz, false, res);
                }
            }
        }
    }

    /** An ALU operation with the E operand as destination; LOCKed memory forms are atomic (a CAS loop). */
    private static void aluToE(Cpu c, Insn d, int aluOp, int size, long src) {
        if (!d.mem) {
            long res = Alu.alu(c, aluOp, size, c.getReg(d.rm, size, d.rex), src);
            if (aluOp != 7) {
                c.setReg(d.rm, size, d.rex, res);
            }
            return;
        }
        long la = addr(c, d);
        if (d.lock) {
            // Flags inputs (CF for ADC/SBB) must be those before the first attempt.
            Flags.materialize(c);
            long savedFlags = c.fAux;
            while (true) {
                long old = c.mmu.read(la, size);
                Flags.setArith(c, savedFlags);
                long res = Alu.alu(c, aluOp, size, old, src);
                if (c.mmu.compareAndExchange(la, size, old, res) == old) {
                    return;
                }
            }
        }
        if (aluOp == 2 || aluOp == 3) {
            // ADC/SBB read CF: a write fault after the flags changed would restart with the wrong carry in.
            c.mmu.probeWrite(la, size);
        }
        long res = Alu.alu(c, aluOp, size, c.mmu.read(la, size), src);
        if (aluOp != 7) {
            c.mmu.write(la, size, res);
        }
    }

    private static void group1(Cpu c, Insn d, int size) {
        aluToE(c, d, d.reg & 7, size, d.imm);
    }

    private static void group2(Cpu c, Insn d, int op) {
        int size = (op & 1) == 0 ? 1 : d.osz;
        int count = op <= 0xc1 ? (int) d.imm : op <= 0xd1 ? 1 : (int) c.r[Cpu.RCX];
        count &= size == 8 ? 63 : 31;
        int sub = d.reg & 7;
        if (d.mem) {
            long la = addr(c, d);
            long v = c.mmu.read(la, size);
            if (count == 0) {
                return;
            }
            c.mmu.probeWrite(la, size);
            long res = Alu.shift(c, sub, size, v, count);
            c.mmu.write(la, size, res);
        } else {
            long v = c.getReg(d.rm, size, d.rex);
            if (count == 0) {
                if (size == 4) {
                    c.setReg(d.rm, 4, d.rex, v);
                }
                return;
            }
            c.setReg(d.rm, size, d.rex, Alu.shift(c, sub, size, v, count));
        }
    }

    private static void group3(Cpu c, Insn d, int size) {
        int sub = d.reg & 7;
        switch (sub) {
            case 0, 1 -> Flags.setLogic(c, size, readE(c, d, size) & d.imm & Flags.mask(size));
            case 2 -> rmw(c, d, size, 2);
            case 3 -> rmw(c, d, size, 3);
            default -> {
                long src = readE(c, d, size);
                long[] out = c.pair;
                if (sub < 6) {
                    boolean signed = sub == 5;
                    if (size == 1) {
                        Alu.mulWide(c, signed, 1, c.r[0] & 0xff, src, out);
                        c.setReg(0, 2, false, (out[1] << 8) | out[0]);
                    } else {
                        Alu.mulWide(c, signed, size, c.getReg(0, size, false), src, out);
                        c.setReg(0, size, false, out[0]);
                        c.setReg(2, size, false, out[1]);
                    }
                } else {
                    boolean signed = sub == 7;
                    if (size == 1) {
                        long ax = c.r[0] & 0xffff;
                        Alu.div(c, signed, 1, ax >>> 8, ax & 0xff, src, out);
                        c.setReg(0, 2, false, (out[1] << 8) | out[0]);
                    } else {
                        Alu.div(c, signed, size, c.getReg(2, size, false), c.getReg(0, size, false), src, out);
                        c.setReg(0, size, false, out[0]);
                        c.setReg(2, size, false, out[1]);
                    }
                }
            }
        }
    }

    /** NOT (kind 2) or NEG (kind 3) of the E operand, atomically when LOCKed. */
    private static void rmw(Cpu c, Insn d, int size, int kind) {
        if (!d.mem) {
            long v = c.getReg(d.rm, size, d.rex);
            c.setReg(d.rm, size, d.rex, kind == 2 ? ~v : Alu.neg(c, size, v));
            return;
        }
        long la = addr(c, d);
        while (true) {
            long old = c.mmu.read(la, size);
            long res = kind == 2 ? ~old & Flags.mask(size) : Alu.neg(c, size, old);
            if (!d.lock) {
                c.mmu.write(la, size, res);
                return;
            }
            if (c.mmu.compareAndExchange(la, size, old, res) == old) {
                return;
            }
        }
    }

    private static void incDec(Cpu c, Insn d, int size, boolean dec) {
        if (!d.mem) {
            long v = c.getReg(d.rm, size, d.rex);
            c.setReg(d.rm, size, d.rex, dec ? Alu.dec(c, size, v) : Alu.inc(c, size, v));
            return;
        }
        long la = addr(c, d);
        Flags.materialize(c);
        long saved = c.fAux;
        while (true) {
            long old = c.mmu.read(la, size);
            Flags.setArith(c, saved);
            long res = dec ? Alu.dec(c, size, old) : Alu.inc(c, size, old);
            if (!d.lock) {
                c.mmu.write(la, size, res);
                return;
            }
            if (c.mmu.compareAndExchange(la, size, old, res) == old) {
                return;
            }
        }
    }

    private static void xchg(Cpu c, Insn d, int size) {
        long rv = c.getReg(d.reg, size, d.rex);
        if (!d.mem) {
            long ev = c.getReg(d.rm, size, d.rex);
            c.setReg(d.rm, size, d.rex, rv);
            c.setReg(d.reg, size, d.rex, ev);
            return;
        }
        // XCHG with memory is always locked (SDM vol. 3A 9.1.2.1).
        long la = addr(c, d);
        while (true) {
            long old = c.mmu.read(la, size);
            if (c.mmu.compareAndExchange(la, size, old, rv) == old) {
                c.setReg(d.reg, size, d.rex, old);
                return;
            }
        }
    }

    private static void xchgAcc(Cpu c, Insn d, int n) {
        long a = c.getReg(0, d.osz, false);
        long b = c.getReg(n, d.osz, true);
        c.setReg(0, d.osz, false, b);
        c.setReg(n, d.osz, true, a);
    }

    private static void pusha(Cpu c, int size) {
        long sp = c.r[Cpu.RSP];
        long[] order = {c.r[0], c.r[1], c.r[2], c.r[3], sp, c.r[5], c.r[6], c.r[7]};
        for (long v : order) {
            c.push(size, v);
        }
    }

    private static void popa(Cpu c, int size) {
        for (int n = 7; n >= 0; n--) {
            long v = c.pop(size);
            if (n != Cpu.RSP) {
                c.setReg(n, size, false, v);
            }
        }
    }

    private static void enter(Cpu c, Insn d) {
        int size = d.osz64;
        int level = (int) d.imm2 & 31;
        int ss = c.stackSize();
        c.push(size, c.getReg(Cpu.RBP, size, false));
        long frame = c.r[Cpu.RSP];
        if (level > 0) {
            long bp = c.r[Cpu.RBP];
            for (int i = 1; i < level; i++) {
                bp -= size;
                long bpm = ss == 8 ? bp : ss == 4 ? bp & 0xffffffffL : bp & 0xffff;
                c.push(size, c.mmu.read(c.linear(Cpu.SS, bpm), size));
            }
            c.push(size, frame);
        }
        c.setReg(Cpu.RBP, size, false, frame);
        c.setSp(c.r[Cpu.RSP] - (d.imm & 0xffff), ss);
    }
}
