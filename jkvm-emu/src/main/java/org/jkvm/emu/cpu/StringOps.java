package org.jkvm.emu.cpu;

/**
 * String instructions MOVS, CMPS, STOS, LODS, SCAS, INS and OUTS with REP/REPE/REPNE (SDM vol. 1 7.3.9, vol. 2
 * "REP/REPE/REPZ/REPNE/REPNZ"). The address size selects rSI/rDI/rCX width; DF the direction. A repeated instruction
 * runs at most {@link #CHUNK} iterations per execution and then restarts itself, so a huge REP stays interruptible
 * and a fault mid-way leaves consistent registers, as on hardware.
 */
public final class StringOps {
    static final int CHUNK = 1 << 16;

    private StringOps() {}

    public static void exec(Cpu c, Insn d) {
        int op = d.op;
        int size = (op & 1) == 0 ? 1 : (op == 0x6d || op == 0x6f) ? (d.osz == 2 ? 2 : 4) : d.osz;
        int asz = d.asz;
        long amask = Flags.mask(asz);
        long step = c.df() ? -size : size;
        boolean rep = d.rep != 0;
        if (op == 0x6c || op == 0x6d || op == 0x6e || op == 0x6f) {
            SystemOps.checkIo(c);
        }
        long count = rep ? c.r[Cpu.RCX] & amask : 1;
        int n = 0;
        while (count != 0) {
            if (n == CHUNK) {
                // Yield: re-execute this instruction later with the updated registers.
                c.rip = c.insnRip;
                c.stop = Cpu.STOP_YIELD;
                return;
            }
            long si = c.r[Cpu.RSI] & amask;
            long di = c.r[Cpu.RDI] & amask;
            boolean stopZ = false;
            switch (op) {
                case 0xa4, 0xa5 -> {
                    long v = c.mmu.read(c.linear(d.seg, si), size);
                    c.mmu.write(c.linear(Cpu.ES, di), size, v);
                    adv(c, Cpu.RSI, asz, si + step);
                    adv(c, Cpu.RDI, asz, di + step);
                }
                case 0xa6, 0xa7 -> {
                    long a = c.mmu.read(c.linear(d.seg, si), size);
                    long b = c.mmu.read(c.linear(Cpu.ES, di), size);
                    Alu.alu(c, 7, size, a, b);
                    adv(c, Cpu.RSI, asz, si + step);
                    adv(c, Cpu.RDI, asz, di + step);
                    stopZ = true;
                }
                case 0xaa, 0xab -> {
                    c.mmu.write(c.linear(Cpu.ES, di), size, c.r[0]);
                    adv(c, Cpu.RDI, asz, di + step);
                }
                case 0xac, 0xad -> {
                    c.setReg(0, size, false, c.mmu.read(c.linear(d.seg, si), size));
                    adv(c, Cpu.RSI, asz, si + step);
                }
                case 0xae, 0xaf -> {
                    long b = c.mmu.read(c.linear(Cpu.ES, di), size);
                    Alu.alu(c, 7, size, c.getReg(0, size, false), b);
                    adv(c, Cpu.RDI, asz, di + step);
                    stopZ = true;
                }
                case 0x6c, 0x6d -> {
                    long la = c.linear(Cpu.ES, di);
                    c.mmu.probeWrite(la, size);
                    long v = c.io.pioRead((int) c.r[Cpu.RDX] & 0xffff, size);
                    c.mmu.write(la, size, v);
                    adv(c, Cpu.RDI, asz, di + step);
                }
                default -> {
                    long v = c.mmu.read(c.linear(d.seg, si), size);
                    c.io.pioWrite((int) c.r[Cpu.RDX] & 0xffff, size, (int) v);
                    adv(c, Cpu.RSI, asz, si + step);
                }
            }
            if (!rep) {
                return;
            }
            count = (count - 1) & amask;
            c.setReg(Cpu.RCX, asz, false, count);
            n++;
            if (stopZ && (d.rep == 0xf3) != Flags.zf(c)) {
                return;
            }
        }
    }

    private static void adv(Cpu c, int reg, int asz, long v) {
        c.setReg(reg, asz, false, v);
    }
}
