package org.jkvm.emu.cpu;

/**
 * The x86 instruction decoder (SDM vol. 2 ch. 2 "Instruction format", appendix A "Opcode map"): legacy prefixes, REX,
 * the one-byte, 0F, 0F 38 and 0F 3A maps, ModRM, SIB, displacements and immediates, in 16-, 32- and 64-bit modes.
 * It only parses: an encoding that is invalid in the current mode decodes to {@link Insn#OP_UD}; what each opcode does
 * is the executor's business.
 */
public final class Decoder {
    // Immediate kinds.
    private static final int NONE = 0, IB = 1, IW = 2, IZ = 3, IV = 4, IWIB = 5, AP = 6, MOFFS = 7, JB = 8, JZ = 9;

    private static final boolean[] MODRM1 = new boolean[256];
    private static final boolean[] MODRM2 = new boolean[256];
    private static final byte[] IMM1 = new byte[256];
    private static final byte[] IMM2 = new byte[256];

    static {
        for (int i = 0; i < 0x40; i++) {
            int lo = i & 7;
            if (lo < 4) {
                MODRM1[i] = true;
            } else if (lo == 4) {
                IMM1[i] = IB;
            } else if (lo == 5) {
                IMM1[i] = IZ;
            }
        }
        for (int op : new int[] {0x62, 0x63, 0x69, 0x6b, 0xc0, 0xc1, 0xc4, 0xc5, 0xc6, 0xc7, 0xd0, 0xd1, 0xd2,
                0xd3, 0xf6, 0xf7, 0xfe, 0xff}) {
            MODRM1[op] = true;
        }
        for (int op = 0x80; op <= 0x8f; op++) {
            MODRM1[op] = true;
        }
        for (int op = 0xd8; op <= 0xdf; op++) {
            MODRM1[op] = true;
        }
        IMM1[0x68] = IZ;
        IMM1[0x69] = IZ;
        IMM1[0x6a] = IB;
        IMM1[0x6b] = IB;
        for (int op = 0x70; op <= 0x7f; op++) {
            IMM1[op] = JB;
        }
        IMM1[0x80] = IB;
        IMM1[0x81] = IZ;
        IMM1[0x82] = IB;
        IMM1[0x83] = IB;
        IMM1[0x9a] = AP;
        for (int op = 0xa0; op <= 0xa3; op++) {
            IMM1[op] = MOFFS;
        }
        IMM1[0xa8] = IB;
        IMM1[0xa9] = IZ;
        for (int op = 0xb0; op <= 0xb7; op++) {
            IMM1[op] = IB;
        }
        for (int op = 0xb8; op <= 0xbf; op++) {
            IMM1[op] = IV;
        }
        IMM1[0xc0] = IB;
        IMM1[0xc1] = IB;
        IMM1[0xc2] = IW;
        IMM1[0xc6] = IB;
        IMM1[0xc7] = IZ;
        IMM1[0xc8] = IWIB;
        IMM1[0xca] = IW;
        IMM1[0xcd] = IB;
        IMM1[0xd4] = IB;
        IMM1[0xd5] = IB;
        for (int op = 0xe0; op <= 0xe3; op++) {
            IMM1[op] = JB;
        }
        for (int op = 0xe4; op <= 0xe7; op++) {
            IMM1[op] = IB;
        }
        IMM1[0xe8] = JZ;
        IMM1[0xe9] = JZ;
        IMM1[0xea] = AP;
        IMM1[0xeb] = JB;

        for (int i = 0; i < 256; i++) {
            MODRM2[i] = true;
        }
        for (int op : new int[] {0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0e, 0x30, 0x31, 0x32, 0x33, 0x34,
                0x35, 0x36, 0x37, 0x77, 0xa0, 0xa1, 0xa2, 0xa8, 0xa9, 0xaa}) {
            MODRM2[op] = false;
        }
        for (int op = 0x80; op <= 0x8f; op++) {
            MODRM2[op] = false;
            IMM2[op] = JZ;
        }
        for (int op = 0xc8; op <= 0xcf; op++) {
            MODRM2[op] = false;
        }
        for (int op : new int[] {0x70, 0x71, 0x72, 0x73, 0xa4, 0xac, 0xba, 0xc2, 0xc4, 0xc5, 0xc6}) {
            IMM2[op] = IB;
        }
    }

    private Decoder() {}

    /**
     * Decodes the instruction at {@code buf[pos]} in decode {@code mode} ({@link Cpu#MODE16} ...). Returns its
     * length, or -1 when it runs past {@code limit} (the caller supplies more bytes and retries); an instruction
     * longer than 15 bytes decodes as {@link Insn#OP_UD} with length 15 (the executor raises #GP for it).
     */
    public static int decode(byte[] buf, int pos, int limit, int mode, Insn d) {
        int start = pos;
        boolean m64 = mode == Cpu.MODE64;
        boolean p66 = false, p67 = false;
        int rep = 0, seg = -1, rexBits = 0;
        boolean lock = false, rex = false;
        int b;
        // Legacy prefixes, then an optional REX, which counts only immediately before the opcode (SDM 2.2.1).
        while (true) {
            if (pos >= limit) {
                return -1;
            }
            if (pos - start >= 14) {
                return tooLong(d);
            }
            b = buf[pos++] & 0xff;
            int s = -1;
            switch (b) {
                case 0x66 -> p66 = true;
                case 0x67 -> p67 = true;
                case 0xf2, 0xf3 -> rep = b;
                case 0xf0 -> lock = true;
                case 0x26 -> seg = Cpu.ES;
                case 0x2e -> seg = Cpu.CS;
                case 0x36 -> seg = Cpu.SS;
                case 0x3e -> seg = Cpu.DS;
                case 0x64 -> seg = Cpu.FS;
                case 0x65 -> seg = Cpu.GS;
                default -> s = b;
            }
            if (s < 0) {
                rex = false;
                rexBits = 0;
                continue;
            }
            if (m64 && (b & 0xf0) == 0x40) {
                rex = true;
                rexBits = b & 0xf;
                continue;
            }
            break;
        }
        int op = b;
        boolean hasModrm;
        int immKind;
        if (op == 0x0f) {
            if (pos >= limit) {
                return -1;
            }
            op = buf[pos++] & 0xff;
            if (op == 0x38 || op == 0x3a) {
                if (pos >= limit) {
                    return -1;
                }
                int map = op == 0x38 ? 0x200 : 0x300;
                op = map | (buf[pos++] & 0xff);
                hasModrm = true;
                immKind = map == 0x300 ? IB : NONE;
            } else {
                hasModrm = MODRM2[op];
                immKind = IMM2[op];
                op |= 0x100;
            }
        } else {
            hasModrm = MODRM1[op];
            immKind = IMM1[op];
        }

        boolean w = (rexBits & 8) != 0;
        d.op = op;
        d.rex = rex;
        d.lock = lock;
        d.rep = rep;
        d.p66 = p66;
        d.osz = m64 ? (w ? 8 : p66 ? 2 : 4) : (mode == Cpu.MODE32) != p66 ? 4 : 2;
        d.osz64 = m64 ? (p66 ? 2 : 8) : d.osz;
        d.asz = m64 ? (p67 ? 4 : 8) : (mode == Cpu.MODE32) != p67 ? 4 : 2;
        d.mem = false;
        d.reg = 0;
        d.rm = 0;
        d.base = -1;
        d.index = -1;
        d.scale = 0;
        d.disp = 0;
        d.imm = 0;
        d.imm2 = 0;
        d.seg = seg >= 0 ? seg : Cpu.DS;

        if (hasModrm) {
            if (pos >= limit) {
                return -1;
            }
            int modrm = buf[pos++] & 0xff;
            int mod = modrm >>> 6;
            d.reg = ((modrm >>> 3) & 7) | ((rexBits & 4) << 1);
            int rm = modrm & 7;
            if (mod == 3) {
                d.rm = rm | ((rexBits & 1) << 3);
            } else {
                d.mem = true;
                if (d.asz == 2) {
                    pos = modrm16(buf, pos, limit, mod, rm, d);
                } else {
                    pos = modrm32(buf, pos, limit, mod, rm, rexBits, m64, d);
                }
                if (pos < 0) {
                    return -1;
                }
                if (seg < 0 && (d.base == Cpu.RSP || d.base == Cpu.RBP)) {
                    d.seg = Cpu.SS;
                }
            }
        } else {
            // Opcodes that name a register in their low bits take REX.B through rm.
            d.rm = (rexBits & 1) << 3;
            if (op >= 0xa0 && op <= 0xa3) {
                d.mem = true;
            }
        }
        if (op == 0xf6 || op == 0xf7) {
            immKind = (d.reg & 7) < 2 ? (op == 0xf6 ? IB : IZ) : NONE;
        }
        int osz = d.osz;
        switch (immKind) {
            case IB, JB -> {
                if (pos + 1 > limit) {
                    return -1;
                }
                d.imm = buf[pos++];
            }
            case IW -> {
                if (pos + 2 > limit) {
                    return -1;
                }
                d.imm = le(buf, pos, 2);
                pos += 2;
            }
            case IZ -> {
                int n = osz == 2 ? 2 : 4;
                if (pos + n > limit) {
                    return -1;
                }
                d.imm = n == 2 ? (short) le(buf, pos, 2) : (int) le(buf, pos, 4);
                pos += n;
            }
            case JZ -> {
                int n = m64 ? 4 : osz == 2 ? 2 : 4;
                if (pos + n > limit) {
                    return -1;
                }
                d.imm = n == 2 ? (short) le(buf, pos, 2) : (int) le(buf, pos, 4);
                pos += n;
            }
            case IV -> {
                if (pos + osz > limit) {
                    return -1;
                }
                d.imm = le(buf, pos, osz);
                pos += osz;
            }
            case IWIB -> {
                if (pos + 3 > limit) {
                    return -1;
                }
                d.imm = le(buf, pos, 2);
                d.imm2 = buf[pos + 2] & 0xff;
                pos += 3;
            }
            case AP -> {
                int n = osz == 2 ? 2 : 4;
                if (pos + n + 2 > limit) {
                    return -1;
                }
                d.imm = le(buf, pos, n);
                d.imm2 = le(buf, pos + n, 2);
                pos += n + 2;
            }
            case MOFFS -> {
                int n = d.asz;
                if (pos + n > limit) {
                    return -1;
                }
                d.disp = le(buf, pos, n);
                pos += n;
            }
            default -> {
            }
        }
        int len = pos - start;
        if (len > 15) {
            return tooLong(d);
        }
        d.len = len;
        d.ends = false;
        classify(d, m64);
        return len;
    }

    private static int tooLong(Insn d) {
        d.op = Insn.OP_UD;
        d.len = 15;
        d.imm = 1;
        d.ends = true;
        return 15;
    }

    /** Marks block terminators and encodings invalid in the current mode. */
    private static void classify(Insn d, boolean m64) {
        int op = d.op;
        if (m64) {
            switch (op) {
                case 0x06, 0x07, 0x0e, 0x16, 0x17, 0x1e, 0x1f, 0x27, 0x2f, 0x37, 0x3f, 0x60, 0x61, 0x62, 0x82, 0x9a,
                        0xc4, 0xc5, 0xce, 0xd4, 0xd5, 0xd6, 0xea -> {
                    d.op = Insn.OP_UD;
                    d.ends = true;
                    return;
                }
                default -> {
                }
            }
        }
        switch (op) {
            case 0x9a, 0xc2, 0xc3, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xe0, 0xe1, 0xe2, 0xe3, 0xe8, 0xe9, 0xea, 0xeb,
                    0xf4, 0x8e, 0xfa, 0xfb, 0x17, 0x9d, 0xf1,
                    0x100, 0x101, 0x105, 0x106, 0x107, 0x108, 0x109, 0x10b, 0x120, 0x121, 0x122, 0x123, 0x130, 0x134,
                    0x135, 0x1aa, Insn.OP_UD -> d.ends = true;
            case 0xff -> {
                int r = d.reg & 7;
                d.ends = r >= 2 && r <= 5;
            }
            default -> d.ends = (op >= 0x70 && op <= 0x7f) || (op >= 0x180 && op <= 0x18f);
        }
    }

    private static int modrm16(byte[] buf, int pos, int limit, int mod, int rm, Insn d) {
        switch (rm) {
            case 0 -> { d.base = Cpu.RBX; d.index = Cpu.RSI; }
            case 1 -> { d.base = Cpu.RBX; d.index = Cpu.RDI; }
            case 2 -> { d.base = Cpu.RBP; d.index = Cpu.RSI; }
            case 3 -> { d.base = Cpu.RBP; d.index = Cpu.RDI; }
            case 4 -> d.base = Cpu.RSI;
            case 5 -> d.base = Cpu.RDI;
            case 6 -> d.base = mod == 0 ? -1 : Cpu.RBP;
            default -> d.base = Cpu.RBX;
        }
        if (mod == 1) {
            if (pos + 1 > limit) {
                return -1;
            }
            d.disp = buf[pos++];
        } else if (mod == 2 || (mod == 0 && rm == 6)) {
            if (pos + 2 > limit) {
                return -1;
            }
            d.disp = (short) le(buf, pos, 2);
            pos += 2;
        }
        return pos;
    }

    private static int modrm32(byte[] buf, int pos, int limit, int mod, int rm, int rexBits, boolean m64, Insn d) {
        if (rm == 4) {
            if (pos >= limit) {
                return -1;
            }
            int sib = buf[pos++] & 0xff;
            d.scale = sib >>> 6;
            int idx = ((sib >>> 3) & 7) | ((rexBits & 2) << 2);
            d.index = idx == 4 ? -1 : idx;
            int base = sib & 7;
            if (base == 5 && mod == 0) {
                d.base = -1;
                if (pos + 4 > limit) {
                    return -1;
                }
                d.disp = (int) le(buf, pos, 4);
                return pos + 4;
            }
            d.base = base | ((rexBits & 1) << 3);
        } else if (rm == 5 && mod == 0) {
            d.base = m64 ? Insn.RIP_BASE : -1;
            if (pos + 4 > limit) {
                return -1;
            }
            d.disp = (int) le(buf, pos, 4);
            return pos + 4;
        } else {
            d.base = rm | ((rexBits & 1) << 3);
        }
        if (mod == 1) {
            if (pos + 1 > limit) {
                return -1;
            }
            d.disp = buf[pos++];
        } else if (mod == 2) {
            if (pos + 4 > limit) {
                return -1;
            }
            d.disp = (int) le(buf, pos, 4);
            pos += 4;
        }
        return pos;
    }

    private static long le(byte[] buf, int pos, int n) {
        long v = 0;
        for (int i = 0; i < n; i++) {
            v |= (buf[pos + i] & 0xffL) << (8 * i);
        }
        return v;
    }
}
