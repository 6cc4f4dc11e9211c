package org.jkvm.emu;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.jkvm.hypervisor.Regs;
import org.jkvm.hypervisor.VcpuExit;
import org.jkvm.sys.NativeCode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Differential tests: generated register-form instructions with seeded random inputs run on the host CPU (through
 * {@link NativeCode}) and on the emulator in 64-bit mode; all registers but RSP and the flags the SDM defines for the
 * instruction must match. Each group prints its case count.
 */
class DifferentialTest {
    static final long CF = 1, PF = 4, AF = 16, ZF = 64, SF = 128, OF = 2048;
    static final long ALL = CF | PF | AF | ZF | SF | OF;
    static final int[] REGS = {0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    static final int[] SIZES = {1, 2, 4, 8};

    static NativeCode nat;
    static TestMachine emu;
    static Arena arena;
    static MemorySegment block;
    static int total;

    final Random rnd = new Random(0x5eed);
    final List<String> failures = new ArrayList<>();
    int cases;

    @BeforeAll
    static void setUp() {
        nat = new NativeCode();
        emu = TestMachine.longMode();
        arena = Arena.ofConfined();
        block = arena.allocate(NativeCode.BLOCK_BYTES, 16);
    }

    @AfterAll
    static void tearDown() {
        System.out.println("differential cases in total: " + total);
        nat.close();
        emu.close();
        arena.close();
    }

    // ---- Encoding ----

    /** Encodes opcode bytes with ModRM (mod=3) for size, reg and rm; then the immediate of immBytes. */
    static byte[] rr(int size, int[] opcode, int reg, int rm, long imm, int immBytes) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        if (size == 2) {
            b.write(0x66);
        }
        int rex = (size == 8 ? 8 : 0) | (reg >= 8 ? 4 : 0) | (rm >= 8 ? 1 : 0);
        boolean byteHigh = size == 1 && ((reg & 7) >= 4 || (rm & 7) >= 4);
        if (rex != 0 || (byteHigh && (reg >= 8 || rm >= 8))) {
            b.write(0x40 | rex);
        }
        for (int o : opcode) {
            b.write(o);
        }
        b.write(0xc0 | ((reg & 7) << 3) | (rm & 7));
        for (int i = 0; i < immBytes; i++) {
            b.write((int) (imm >>> (8 * i)));
        }
        return b.toByteArray();
    }

    int reg() {
        return REGS[rnd.nextInt(REGS.length)];
    }

    /** A random value biased towards edge cases. */
    long value() {
        switch (rnd.nextInt(8)) {
            case 0:
                return 0;
            case 1:
                return -1;
            case 2:
                return rnd.nextInt(4) - 2;
            case 3:
                return 1L << rnd.nextInt(64);
            case 4:
                return (1L << rnd.nextInt(64)) - 1;
            case 5:
                return 0x80L << (8 * rnd.nextInt(8));
            default:
                return rnd.nextLong();
        }
    }

    // ---- Running ----

    /**
     * Runs {@code code} on both CPUs with {@code in} (16 registers) and random input flags; compares registers
     * (except those in {@code ignoreRegs}, a bit mask) and the flags in {@code flagMask}.
     */
    void check(String what, byte[] code, long[] in, long flagMask, int ignoreRegs) {
        long flagsIn = (rnd.nextLong() & ALL) | 2;
        for (int i = 0; i < 16; i++) {
            block.set(ValueLayout.JAVA_LONG, 8L * i, in[i]);
        }
        block.set(ValueLayout.JAVA_LONG, NativeCode.RFLAGS_OFFSET, flagsIn);
        nat.run(code, block);
        long[] nout = new long[17];
        for (int i = 0; i < 16; i++) {
            nout[i] = block.get(ValueLayout.JAVA_LONG, 8L * i);
        }
        nout[16] = block.get(ValueLayout.JAVA_LONG, NativeCode.RFLAGS_OFFSET);

        byte[] withHlt = new byte[code.length + 1];
        System.arraycopy(code, 0, withHlt, 0, code.length);
        withHlt[code.length] = (byte) 0xf4;
        emu.load(TestMachine.CODE, withHlt);
        emu.cpu.setRegs(new Regs(in[0], in[3], in[1], in[2], in[6], in[7], 0x8ff0, in[5], in[8], in[9], in[10],
                in[11], in[12], in[13], in[14], in[15], TestMachine.CODE, flagsIn));
        VcpuExit exit = emu.run();
        Regs g = emu.cpu.getRegs();
        long[] eout = {g.rax(), g.rcx(), g.rdx(), g.rbx(), g.rsp(), g.rbp(), g.rsi(), g.rdi(), g.r8(), g.r9(),
                g.r10(), g.r11(), g.r12(), g.r13(), g.r14(), g.r15(), g.rflags()};
        cases++;
        StringBuilder diff = new StringBuilder();
        if (exit != VcpuExit.HLT || g.rip() != TestMachine.CODE + code.length + 1) {
            diff.append(" exit=").append(exit).append(" rip=").append(Long.toHexString(g.rip())).append(' ')
                    .append(emu.cpu.lastExitDetail());
        }
        for (int i = 0; i < 16; i++) {
            if (i != 4 && (ignoreRegs & (1 << i)) == 0 && nout[i] != eout[i]) {
                diff.append(" r").append(i).append(" native=").append(Long.toHexString(nout[i])).append(" emu=")
                        .append(Long.toHexString(eout[i]));
            }
        }
        if (((nout[16] ^ eout[16]) & flagMask) != 0) {
            diff.append(" flags native=").append(Long.toHexString(nout[16] & flagMask)).append(" emu=")
                    .append(Long.toHexString(eout[16] & flagMask));
        }
        if (!diff.isEmpty() && failures.size() < 12) {
            StringBuilder hex = new StringBuilder();
            for (byte x : code) {
                hex.append(String.format("%02x ", x));
            }
            StringBuilder ins = new StringBuilder();
            for (int i = 0; i < 16; i++) {
                ins.append(" r").append(i).append('=').append(Long.toHexString(in[i]));
            }
            failures.add(what + " [" + hex.toString().trim() + "] flagsIn=" + Long.toHexString(flagsIn) + diff
                    + "\n    in:" + ins);
        }
    }

    long[] inputs() {
        long[] in = new long[16];
        for (int i = 0; i < 16; i++) {
            in[i] = value();
        }
        return in;
    }

    void finish(String group) {
        total += cases;
        System.out.println("differential " + group + ": " + cases + " cases");
        assertThat(failures).as(group).isEmpty();
    }

    // ---- Groups ----

    @Test
    void aluRegisterForms() {
        for (int n = 0; n < 4000; n++) {
            int op = rnd.nextInt(8);
            int size = SIZES[rnd.nextInt(4)];
            int form = rnd.nextInt(2); // Ev,Gv or Gv,Ev
            int opc = (op << 3) | (form << 1) | (size == 1 ? 0 : 1);
            check("alu " + op + " size " + size, rr(size, new int[] {opc}, reg(), reg(), 0, 0), inputs(),
                    op == 1 || op == 4 || op == 6 ? ALL & ~AF : ALL, 0);
        }
        finish("alu");
    }

    @Test
    void aluImmediates() {
        for (int n = 0; n < 3000; n++) {
            int op = rnd.nextInt(8);
            int size = SIZES[rnd.nextInt(4)];
            long imm = value();
            int kind = rnd.nextInt(3);
            byte[] code;
            if (size == 1) {
                code = rr(1, new int[] {0x80}, op, reg(), imm, 1);
            } else if (kind == 0) {
                code = rr(size, new int[] {0x83}, op, reg(), imm, 1);
            } else if (kind == 1) {
                code = rr(size, new int[] {0x81}, op, reg(), imm, size == 2 ? 2 : 4);
            } else {
                // accumulator form: op eAX, Iz (no ModRM)
                byte[] t = rr(size, new int[] {0x05 | (op << 3)}, 0, 0, imm, size == 2 ? 2 : 4);
                code = new byte[t.length - 1];
                int p = 0;
                for (int i = 0; i < t.length; i++) {
                    if (i != t.length - 1 - (size == 2 ? 2 : 4)) {
                        code[p++] = t[i];
                    }
                }
            }
            check("alu-imm " + op + " size " + size, code, inputs(), op == 1 || op == 4 || op == 6 ? ALL & ~AF : ALL,
                    0);
        }
        finish("alu-imm");
    }

    @Test
    void unaryIncDecNegNot() {
        for (int n = 0; n < 2000; n++) {
            int size = SIZES[rnd.nextInt(4)];
            int kind = rnd.nextInt(4);
            int[] opc = kind < 2 ? new int[] {size == 1 ? 0xfe : 0xff} : new int[] {size == 1 ? 0xf6 : 0xf7};
            int sub = kind < 2 ? kind : kind; // 0 INC, 1 DEC, 2 NOT, 3 NEG
            check("unary " + kind, rr(size, opc, sub, reg(), 0, 0), inputs(), ALL, 0);
        }
        finish("unary");
    }

    @Test
    void shiftsAndRotates() {
        for (int n = 0; n < 5000; n++) {
            int size = SIZES[rnd.nextInt(4)];
            int sub = rnd.nextInt(8);
            int form = rnd.nextInt(3);
            long[] in = inputs();
            int count;
            byte[] code;
            int rm = reg();
            if (form == 0) {
                count = 1;
                code = rr(size, new int[] {size == 1 ? 0xd0 : 0xd1}, sub, rm, 0, 0);
            } else if (form == 1) {
                count = rnd.nextInt(70);
                code = rr(size, new int[] {size == 1 ? 0xc0 : 0xc1}, sub, rm, count, 1);
            } else {
                count = rnd.nextInt(256);
                in[1] = (in[1] & ~0xffL) | count;
                code = rr(size, new int[] {size == 1 ? 0xd2 : 0xd3}, sub, rm, 0, 0);
            }
            int masked = count & (size == 8 ? 63 : 31);
            long mask;
            if (masked == 0) {
                mask = ALL;
            } else if (sub < 4) {
                mask = CF | (masked == 1 ? OF : 0);
                if (sub >= 2 && size < 4) {
                    // RCL/RCR of 8/16-bit operands rotate modulo 9/17.
                    mask = CF | ((masked % (size == 1 ? 9 : 17)) == 1 ? OF : 0);
                }
            } else {
                mask = SF | ZF | PF | CF | (masked == 1 ? OF : 0);
                if (masked >= size * 8 && sub != 7) {
                    mask &= ~CF;
                }
            }
            check("shift " + sub + " size " + size + " count " + count, code, in, mask, 0);
        }
        finish("shift");
    }

    @Test
    void doubleShifts() {
        for (int n = 0; n < 2000; n++) {
            int size = SIZES[1 + rnd.nextInt(3)];
            boolean right = rnd.nextBoolean();
            boolean byCl = rnd.nextBoolean();
            long[] in = inputs();
            int count = rnd.nextInt(64);
            byte[] code;
            if (byCl) {
                in[1] = (in[1] & ~0xffL) | count;
                code = rr(size, new int[] {0x0f, right ? 0xad : 0xa5}, reg(), reg(), 0, 0);
            } else {
                code = rr(size, new int[] {0x0f, right ? 0xac : 0xa4}, reg(), reg(), count, 1);
            }
            int masked = count & (size == 8 ? 63 : 31);
            if (size == 2 && masked > 16) {
                continue;
            }
            long mask = masked == 0 ? ALL : (SF | ZF | PF | CF | (masked == 1 ? OF : 0));
            check("shxd size " + size + " count " + count, code, in, mask, 0);
        }
        finish("shld/shrd");
    }

    @Test
    void multiplyAndDivide() {
        for (int n = 0; n < 4000; n++) {
            int size = SIZES[rnd.nextInt(4)];
            int kind = rnd.nextInt(6);
            long[] in = inputs();
            int rm = reg();
            if (kind < 2) {
                check("mul " + kind + " size " + size, rr(size, new int[] {size == 1 ? 0xf6 : 0xf7}, 4 + kind, rm, 0,
                        0), in, CF | OF, 0);
            } else if (kind < 4) {
                boolean signed = kind == 3;
                if (rm == 0 || (rm == 2 && size > 1)) {
                    continue;
                }
                if (divFaults(signed, size, in, rm)) {
                    continue;
                }
                check("div " + kind + " size " + size, rr(size, new int[] {size == 1 ? 0xf6 : 0xf7}, 6 + kind - 2,
                        rm, 0, 0), in, 0, 0);
            } else if (size > 1) {
                if (kind == 4) {
                    check("imul2 size " + size, rr(size, new int[] {0x0f, 0xaf}, reg(), rm, 0, 0), in, CF | OF, 0);
                } else {
                    boolean b8 = rnd.nextBoolean();
                    check("imul3 size " + size, rr(size, new int[] {b8 ? 0x6b : 0x69}, reg(), rm, value(),
                            b8 ? 1 : size == 2 ? 2 : 4), in, CF | OF, 0);
                }
            }
        }
        finish("mul/div");
    }

    /** True if DIV/IDIV of the inputs would raise #DE (so it must not run natively). */
    static boolean divFaults(boolean signed, int size, long[] in, int rm) {
        int bits = size * 8;
        BigInteger m = BigInteger.ONE.shiftLeft(bits).subtract(BigInteger.ONE);
        long divisorRaw = size == 1 && rm >= 4 && rm < 8 ? in[rm - 4] >>> 8 : in[rm];
        BigInteger divisor = BigInteger.valueOf(divisorRaw).and(m);
        BigInteger dividend;
        if (size == 1) {
            dividend = BigInteger.valueOf(in[0] & 0xffff);
        } else {
            dividend = BigInteger.valueOf(in[2]).and(m).shiftLeft(bits).or(BigInteger.valueOf(in[0]).and(m));
        }
        if (divisor.signum() == 0) {
            return true;
        }
        if (signed) {
            if (divisor.testBit(bits - 1)) {
                divisor = divisor.subtract(BigInteger.ONE.shiftLeft(bits));
            }
            if (dividend.testBit(2 * bits - 1)) {
                dividend = dividend.subtract(BigInteger.ONE.shiftLeft(2 * bits));
            }
            BigInteger q = dividend.divide(divisor);
            return q.bitLength() > bits - 1;
        }
        return dividend.divide(divisor).bitLength() > bits;
    }

    @Test
    void bitInstructions() {
        for (int n = 0; n < 3000; n++) {
            int size = SIZES[1 + rnd.nextInt(3)];
            int kind = rnd.nextInt(4);
            long[] in = inputs();
            int r1 = reg(), r2 = reg();
            byte[] code;
            long mask = CF;
            int ignore = 0;
            switch (kind) {
                case 0 -> code = rr(size, new int[] {0x0f, 0xa3 | (rnd.nextInt(4) << 3)}, r1, r2, 0, 0);
                case 1 -> code = rr(size, new int[] {0x0f, 0xba}, 4 + rnd.nextInt(4), r2, rnd.nextInt(256), 1);
                case 2 -> {
                    boolean fwd = rnd.nextBoolean();
                    code = rr(size, new int[] {0x0f, fwd ? 0xbc : 0xbd}, r1, r2, 0, 0);
                    mask = ZF;
                    if ((in[r2] & (size == 8 ? -1L : (1L << (size * 8)) - 1)) == 0) {
                        ignore = 1 << r1;
                    }
                }
                default -> {
                    int r = reg();
                    code = size == 2 ? new byte[] {0x0f, (byte) (0xc8 | (r & 7))}
                            : rr(size, new int[] {0x0f, 0xc8 | (r & 7)}, 0, r, 0, 0);
                    // BSWAP has no ModRM: rebuild without it.
                    byte[] t = new byte[code.length - 1];
                    System.arraycopy(code, 0, t, 0, t.length);
                    code = size == 2 ? code : t;
                    mask = ALL;
                    if (size == 2) {
                        continue;
                    }
                }
            }
            check("bit " + kind + " size " + size, code, in, mask, ignore);
        }
        finish("bit");
    }

    @Test
    void conditionsSetccCmovJcc() {
        for (int n = 0; n < 3000; n++) {
            int cc = rnd.nextInt(16);
            long[] in = inputs();
            int kind = rnd.nextInt(3);
            // Set flags with a CMP of two random registers first, then use them.
            byte[] cmp = rr(8, new int[] {0x39}, reg(), reg(), 0, 0);
            byte[] use;
            if (kind == 0) {
                use = rr(1, new int[] {0x0f, 0x90 | cc}, 0, reg(), 0, 0);
            } else if (kind == 1) {
                use = rr(SIZES[1 + rnd.nextInt(3)], new int[] {0x0f, 0x40 | cc}, reg(), reg(), 0, 0);
            } else {
                // jcc over "inc rax" (48 ff c0)
                use = new byte[] {(byte) (0x70 | cc), 3, 0x48, (byte) 0xff, (byte) 0xc0};
            }
            byte[] code = new byte[cmp.length + use.length];
            System.arraycopy(cmp, 0, code, 0, cmp.length);
            System.arraycopy(use, 0, code, cmp.length, use.length);
            check("cc " + cc + " kind " + kind, code, in, ALL, 0);
        }
        finish("setcc/cmovcc/jcc");
    }

    @Test
    void movesAndConversions() {
        int[][] ops = {{0x0f, 0xb6}, {0x0f, 0xb7}, {0x0f, 0xbe}, {0x0f, 0xbf}, {0x63}, {0x89}, {0x8b}, {0x87},
                {0x0f, 0xc1}, {0x0f, 0xb1}, {0x85}};
        for (int n = 0; n < 3000; n++) {
            long[] in = inputs();
            int pick = rnd.nextInt(ops.length + 3);
            if (pick >= ops.length) {
                // CBW/CWDE/CDQE (98), CWD/CDQ/CQO (99), LAHF; SAHF
                int size = SIZES[1 + rnd.nextInt(3)];
                int k = pick - ops.length;
                byte[] code = k == 2 ? new byte[] {(byte) 0x9f, (byte) 0x9e} : k == 0
                        ? (size == 2 ? new byte[] {0x66, (byte) 0x98} : size == 4 ? new byte[] {(byte) 0x98}
                        : new byte[] {0x48, (byte) 0x98})
                        : (size == 2 ? new byte[] {0x66, (byte) 0x99} : size == 4 ? new byte[] {(byte) 0x99}
                        : new byte[] {0x48, (byte) 0x99});
                check("convert " + k, code, in, ALL, 0);
                continue;
            }
            int[] op = ops[pick];
            int size = SIZES[1 + rnd.nextInt(3)];
            if (op[0] == 0x63) {
                size = rnd.nextBoolean() ? 8 : 4;
            }
            if ((op.length == 2 && (op[1] == 0xb7 || op[1] == 0xbf)) && size == 2) {
                size = 4;
            }
            check("move " + Integer.toHexString(op[op.length - 1]) + " size " + size,
                    rr(size, op, reg(), reg(), 0, 0), in, ALL & ~AF, 0);
        }
        finish("moves");
    }

    @Test
    void leaAddressing() {
        for (int n = 0; n < 2000; n++) {
            long[] in = inputs();
            int size = SIZES[1 + rnd.nextInt(3)];
            int dst = reg(), base = reg(), index = reg();
            int scale = rnd.nextInt(4);
            int disp = rnd.nextInt();
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            boolean a32 = rnd.nextInt(4) == 0;
            if (size == 2) {
                b.write(0x66);
            }
            if (a32) {
                b.write(0x67);
            }
            b.write(0x40 | (size == 8 ? 8 : 0) | (dst >= 8 ? 4 : 0) | (index >= 8 ? 2 : 0) | (base >= 8 ? 1 : 0));
            b.write(0x8d);
            b.write(0x84 | ((dst & 7) << 3)); // mod=10 rm=100 (SIB, disp32)
            b.write((scale << 6) | ((index & 7) << 3) | (base & 7));
            for (int i = 0; i < 4; i++) {
                b.write(disp >>> (8 * i));
            }
            check("lea", b.toByteArray(), in, ALL, 0);
        }
        finish("lea");
    }
}
