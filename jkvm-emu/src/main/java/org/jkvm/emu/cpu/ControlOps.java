package org.jkvm.emu.cpu;

/**
 * Control transfers (SDM vol. 1 6.3 "Calling procedures using CALL and RET", vol. 3A 5.8 "Privilege level checking
 * when transferring program control", 6.12 "Exception and interrupt handling"): Jcc, JMP, CALL, RET near and far,
 * LOOP/JCXZ, INT n/INT3/INTO/INT1, IRET, and #UD for undefined encodings.
 */
public final class ControlOps {
    private ControlOps() {}

    public static void exec(Cpu c, Insn d) {
        int op = d.op;
        switch (op) {
            case 0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x7b, 0x7c, 0x7d, 0x7e, 0x7f -> {
                if (Flags.cond(c, op & 0xf)) {
                    jumpRel(c, d);
                }
            }
            case 0xe0, 0xe1, 0xe2 -> {
                long cnt = (c.getReg(Cpu.RCX, d.asz, false) - 1) & Flags.mask(d.asz);
                c.setReg(Cpu.RCX, d.asz, false, cnt);
                boolean take = cnt != 0 && (op == 0xe2 || (op == 0xe1) == Flags.zf(c));
                if (take) {
                    jumpRel(c, d);
                }
            }
            case 0xe3 -> {
                if (c.getReg(Cpu.RCX, d.asz, false) == 0) {
                    jumpRel(c, d);
                }
            }
            case 0xe8 -> {
                long target = target(c, d.osz64, c.rip + d.imm);
                c.push(d.osz64, c.rip);
                c.rip = target;
            }
            case 0xe9, 0xeb -> jumpRel(c, d);
            case 0xc2, 0xc3 -> {
                long target = c.peek(d.osz64, 0);
                c.setSp(c.r[Cpu.RSP] + d.osz64 + (op == 0xc2 ? d.imm : 0), c.stackSize());
                c.rip = target(c, d.osz64, target);
            }
            case 0xca, 0xcb -> FarTransfers.retFar(c, d.osz, op == 0xca ? (int) d.imm : 0);
            case 0xcc -> Interrupts.software(c, 3, true);
            case 0xcd -> Interrupts.software(c, (int) d.imm & 0xff, false);
            case 0xce -> {
                if (Flags.of(c)) {
                    Interrupts.software(c, 4, true);
                }
            }
            case 0xf1 -> Interrupts.software(c, 1, true);
            case 0xcf -> FarTransfers.iret(c, d.osz);
            case 0xea -> FarTransfers.jmpFar(c, (int) d.imm2, d.imm & Flags.mask(d.osz));
            case 0x9a -> FarTransfers.callFar(c, d.osz, (int) d.imm2, d.imm & Flags.mask(d.osz));
            case 0xff -> {
                int r = d.reg & 7;
                switch (r) {
                    case 2 -> {
                        long t = target(c, d.osz64, Executor.readE(c, d, d.osz64));
                        c.push(d.osz64, c.rip);
                        c.rip = t;
                    }
                    case 4 -> c.rip = target(c, d.osz64, Executor.readE(c, d, d.osz64));
                    default -> {
                        if (!d.mem) {
                            throw c.fault(CpuFault.UD);
                        }
                        long la = Executor.addr(c, d);
                        long off = c.mmu.read(la, d.osz);
                        int sel = (int) c.mmu.read(la + d.osz, 2);
                        if (r == 3) {
                            FarTransfers.callFar(c, d.osz, sel, off);
                        } else {
                            FarTransfers.jmpFar(c, sel, off);
                        }
                    }
                }
            }
            case Insn.OP_UD -> throw d.imm == 1 ? c.fault(CpuFault.GP, 0) : c.fault(CpuFault.UD);
            default -> throw c.fault(CpuFault.UD);
        }
    }

    /** A relative jump: RIP + displacement, truncated to the operand size outside 64-bit mode. */
    public static void jumpRel(Cpu c, Insn d) {
        c.rip = target(c, d.osz64, c.rip + d.imm);
    }

    /** Truncates a branch target to the operand size (SDM JMP: "IF OperandSize = 16 THEN EIP &= 0xFFFF"). */
    static long target(Cpu c, int size, long t) {
        if (c.long64) {
            if (size == 2) {
                return t & 0xffff;
            }
            return t;
        }
        return size == 2 ? t & 0xffff : t & 0xffffffffL;
    }
}
