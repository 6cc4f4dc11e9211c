package org.jkvm.emu.cpu;

/**
 * One decoded instruction (SDM vol. 2 ch. 2 "Instruction format"): opcode, prefixes, ModRM/SIB operand, displacement
 * and immediates, decoded once when its block is built and then executed many times. Fields are plain and public
 * for the interpreter.
 */
public final class Insn {
    /** Opcode: 0x000-0x0ff one-byte map, 0x100-0x1ff the 0F map, 0x200-0x2ff 0F 38, 0x300-0x3ff 0F 3A. */
    public int op;
    /** Length in bytes. */
    public int len;
    /** Operand size 2, 4 or 8 (byte forms are told by the opcode). */
    public int osz;
    /** Operand size of instructions that default to 64 bits in 64-bit mode (push, pop, near branches). */
    public int osz64;
    /** Address size 2, 4 or 8. */
    public int asz;
    /** 0, 0xF2 or 0xF3: the last of the REPNE/REP prefixes. */
    public int rep;
    public boolean lock;
    /** An operand-size (66) prefix was present (SSE uses it as an opcode extension). */
    public boolean p66;
    /** Any REX prefix was present (selects SPL/BPL/SIL/DIL over AH..BH). */
    public boolean rex;
    /** The instruction has a memory operand (ModRM.mod != 3 or a moffs/string form). */
    public boolean mem;
    /** ModRM.reg with REX.R (for groups, the opcode extension 0-7 without REX.R is {@code reg & 7}). */
    public int reg;
    /** ModRM.rm with REX.B when the operand is a register. */
    public int rm;
    /** Memory operand: base register, -1 for none, {@link #RIP_BASE} for RIP-relative. */
    public int base;
    /** Memory operand: index register or -1. */
    public int index;
    public int scale;
    /** Effective segment (default or override). */
    public int seg;
    public long disp;
    public long imm;
    /** Second immediate (ENTER's nesting level, a far pointer's selector). */
    public long imm2;
    /** This instruction ends its block (control transfer, mode or TLB change, HLT, #UD). */
    public boolean ends;

    public static final int RIP_BASE = 16;
    /** Pseudo-opcode of an undefined or unimplemented encoding: executes as #UD. */
    public static final int OP_UD = 0xfff;
}
