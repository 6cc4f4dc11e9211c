package org.jkvm.emu.cpu;

/**
 * The general-purpose instructions of the 0F opcode map (SDM vol. 2 appendix A table A-3): CMOVcc, SETcc, Jcc rel32,
 * BT/BTS/BTR/BTC, SHLD/SHRD, IMUL r,r/m, CMPXCHG, CMPXCHG8B/16B, XADD, MOVZX/MOVSX, BSF/BSR, BSWAP and the hint NOPs.
 * System instructions of the map go to {@link SystemOps}.
 */
public final class TwoByteOps {
    private TwoByteOps() {}

    public static void exec(Cpu c, Insn d) {
        int op = d.op & 0xff;
        if (d.op >= 0x200) {
            throw c.fault(CpuFault.UD);
        }
        switch (op) {
            case 0x0d, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f -> {
                // Prefetch and hint NOPs (0F 1F /0 is the multi-byte NOP).
            }
            case 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f -> {
                long v = Executor.readE(c, d, d.osz);
                if (Flags.cond(c, op & 0xf)) {
                    c.setReg(d.reg, d.osz, d.rex, v);
                } else if (d.osz == 4) {
                    c.setReg(d.reg, 4, d.rex, c.r[d.reg]);
                }
            }
            case 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f -> {
                if (Flags.cond(c, op & 0xf)) {
                    ControlOps.jumpRel(c, d);
                }
            }
            case 0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f ->
                    Executor.writeE(c, d, 1, Flags.cond(c, op & 0xf) ? 1 : 0);
            case 0xa0, 0xa8 -> c.push(d.osz64, c.segSel[op == 0xa0 ? Cpu.FS : Cpu.GS]);
            case 0xa1, 0xa9 -> {
                int sel = (int) c.peek(d.osz64, 0) & 0xffff;
                Segments.loadData(c, op == 0xa1 ? Cpu.FS : Cpu.GS, sel);
                c.pop(d.osz64);
            }
            case 0xa3, 0xab, 0xb3, 0xbb -> bitTest(c, d, (op >>> 3) & 3, c.getReg(d.reg, d.osz, d.rex), false);
            case 0xba -> {
                int sub = d.reg & 7;
                if (sub < 4) {
                    throw c.fault(CpuFault.UD);
                }
                bitTest(c, d, sub & 3, d.imm & 0xff, true);
            }
            case 0xa4, 0xa5, 0xac, 0xad -> {
                int count = (int) ((op & 1) == 0 ? d.imm : c.r[Cpu.RCX]) & (d.osz == 8 ? 63 : 31);
                long src = c.getReg(d.reg, d.osz, d.rex);
                if (d.mem) {
                    long la = Executor.addr(c, d);
                    long v = c.mmu.read(la, d.osz);
                    if (count != 0) {
                        c.mmu.probeWrite(la, d.osz);
                        c.mmu.write(la, d.osz, Alu.shiftDouble(c, op < 0xa8, d.osz, v, src, count));
                    }
                } else {
                    long v = c.getReg(d.rm, d.osz, d.rex);
                    c.setReg(d.rm, d.osz, d.rex, count == 0 ? v : Alu.shiftDouble(c, op < 0xa8, d.osz, v, src, count));
                }
            }
            case 0xaf -> c.setReg(d.reg, d.osz, d.rex,
                    Alu.imulTrunc(c, d.osz, c.getReg(d.reg, d.osz, d.rex), Executor.readE(c, d, d.osz)));
            case 0xb0, 0xb1 -> cmpxchg(c, d, op == 0xb0 ? 1 : d.osz);
            case 0xb6, 0xb7 -> c.setReg(d.reg, d.osz, d.rex, Executor.readE(c, d, op == 0xb6 ? 1 : 2));
            case 0xbe -> c.setReg(d.reg, d.osz, d.rex, (byte) Executor.readE(c, d, 1));
            case 0xbf -> c.setReg(d.reg, d.osz, d.rex, (short) Executor.readE(c, d, 2));
            case 0xbc, 0xbd -> {
                // F3 0F BC/BD (TZCNT/LZCNT) execute as BSF/BSR: this CPU model has no BMI1/ABM.
                long v = Executor.readE(c, d, d.osz);
                int idx = Alu.bitScan(c, op == 0xbc, d.osz, v);
                if (idx >= 0) {
                    c.setReg(d.reg, d.osz, d.rex, idx);
                } else if (d.osz == 4) {
                    c.setReg(d.reg, 4, d.rex, c.r[d.reg]);
                }
            }
            case 0xc0, 0xc1 -> xadd(c, d, op == 0xc0 ? 1 : d.osz);
            case 0xc7 -> group9(c, d);
            case 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f,
                    0xae, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6 -> Sse.exec(c, d);
            case 0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f,
                    0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f,
                    0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x7e, 0x7f -> Sse.exec(c, d);
            case 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf -> {
                int n = Executor.regB(d, op);
                if (d.osz == 8) {
                    c.r[n] = Long.reverseBytes(c.r[n]);
                } else if (d.osz == 4) {
                    c.setReg(n, 4, true, Integer.reverseBytes((int) c.r[n]) & 0xffffffffL);
                } else {
                    c.setReg(n, 2, true, 0); // BSWAP r16 is undefined; real CPUs give 0
                }
            }
            default -> {
                if (op >= 0xd0) {
                    Sse.exec(c, d);
                } else {
                    SystemOps.exec(c, d);
                }
            }
        }
    }

    /** BT (kind 0), BTS (1), BTR (2), BTC (3). A register bit offset can address memory beyond the operand. */
    private static void bitTest(Cpu c, Insn d, int kind, long offset, boolean immediate) {
        int size = d.osz;
        int bits = size * 8;
        if (!d.mem) {
            int bit = (int) (offset & (bits - 1));
            long v = c.getReg(d.rm, size, d.rex);
            setCf(c, ((v >>> bit) & 1) != 0);
            if (kind != 0) {
                c.setReg(d.rm, size, d.rex, modify(kind, v, bit));
            }
            return;
        }
        long la = Executor.addr(c, d);
        int bit;
        if (immediate) {
            bit = (int) (offset & (bits - 1));
        } else {
            // Sign-extended bit offset at the operand size (SDM BT "bit base / bit offset").
            long so = size == 8 ? offset : size == 4 ? (long) (int) offset : (long) (short) offset;
            long byteDisp = (so >> (size == 8 ? 6 : size == 4 ? 5 : 4)) * size;
            la = c.long64 ? la + byteDisp : (la + byteDisp) & 0xffffffffL;
            bit = (int) (so & (bits - 1));
        }
        while (true) {
            long v = c.mmu.read(la, size);
            setCf(c, ((v >>> bit) & 1) != 0);
            if (kind == 0) {
                return;
            }
            long nv = modify(kind, v, bit);
            if (!d.lock) {
                c.mmu.write(la, size, nv);
                return;
            }
            if (c.mmu.compareAndExchange(la, size, v, nv) == v) {
                return;
            }
        }
    }

    private static long modify(int kind, long v, int bit) {
        return switch (kind) {
            case 1 -> v | (1L << bit);
            case 2 -> v & ~(1L << bit);
            default -> v ^ (1L << bit);
        };
    }

    /** BT* set CF; OF, SF, AF and PF are undefined (left unchanged here), ZF is unchanged. */
    private static void setCf(Cpu c, boolean cf) {
        Flags.materialize(c);
        Flags.put(c, Cpu.CF, cf);
    }

    private static void cmpxchg(Cpu c, Insn d, int size) {
        long acc = c.getReg(0, size, false);
        long src = c.getReg(d.reg, size, d.rex);
        if (!d.mem) {
            long dst = c.getReg(d.rm, size, d.rex);
            Alu.alu(c, 7, size, acc, dst);
            if (dst == acc) {
                c.setReg(d.rm, size, d.rex, src);
            } else {
                c.setReg(0, size, false, dst);
            }
            return;
        }
        long la = Executor.addr(c, d);
        long found;
        if (d.lock) {
            found = c.mmu.compareAndExchange(la, size, acc, src);
        } else {
            found = c.mmu.read(la, size);
            c.mmu.probeWrite(la, size);
            c.mmu.write(la, size, found == acc ? src : found);
        }
        Alu.alu(c, 7, size, acc, found);
        if (found != acc) {
            c.setReg(0, size, false, found);
        }
    }

    private static void xadd(Cpu c, Insn d, int size) {
        long src = c.getReg(d.reg, size, d.rex);
        if (!d.mem) {
            long dst = c.getReg(d.rm, size, d.rex);
            long sum = Alu.alu(c, 0, size, dst, src);
            c.setReg(d.reg, size, d.rex, dst);
            c.setReg(d.rm, size, d.rex, sum);
            return;
        }
        long la = Executor.addr(c, d);
        while (true) {
            long dst = c.mmu.read(la, size);
            long sum = Alu.alu(c, 0, size, dst, src);
            if (!d.lock) {
                c.mmu.write(la, size, sum);
            } else if (c.mmu.compareAndExchange(la, size, dst, sum) != dst) {
                continue;
            }
            c.setReg(d.reg, size, d.rex, dst);
            return;
        }
    }

    /** Group 9: CMPXCHG8B / CMPXCHG16B (SDM vol. 2A). */
    private static void group9(Cpu c, Insn d) {
        if ((d.reg & 7) != 1 || !d.mem) {
            throw c.fault(CpuFault.UD);
        }
        long la = Executor.addr(c, d);
        Flags.materialize(c);
        if (d.osz != 8) {
            long expect = (c.r[Cpu.RDX] << 32) | (c.r[0] & 0xffffffffL);
            long update = (c.r[Cpu.RBX] & 0xffffffffL) | (c.r[Cpu.RCX] << 32);
            long found = c.mmu.compareAndExchange(la, 8, expect, update);
            if (found == expect) {
                Flags.put(c, Cpu.ZF, true);
            } else {
                Flags.put(c, Cpu.ZF, false);
                c.r[0] = found & 0xffffffffL;
                c.r[Cpu.RDX] = found >>> 32;
            }
            return;
        }
        if ((la & 15) != 0) {
            throw c.fault(CpuFault.GP, 0);
        }
        // CMPXCHG16B: no 16-byte host atomic through FFM; serialize on the VM monitor.
        synchronized (c.lockMonitor) {
            long lo = c.mmu.read(la, 8);
            long hi = c.mmu.read(la + 8, 8);
            c.mmu.probeWrite(la, 16);
            if (lo == c.r[0] && hi == c.r[Cpu.RDX]) {
                c.mmu.write(la, 8, c.r[Cpu.RBX]);
                c.mmu.write(la + 8, 8, c.r[Cpu.RCX]);
                Flags.put(c, Cpu.ZF, true);
            } else {
                c.mmu.write(la, 8, lo);
                c.mmu.write(la + 8, 8, hi);
                c.r[0] = lo;
                c.r[Cpu.RDX] = hi;
                Flags.put(c, Cpu.ZF, false);
            }
        }
    }
}
