package org.jkvm.emu.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

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
        if (rep && step > 0 && (op == 0xa4 || op == 0xa5 || op == 0xaa || op == 0xab) && count != 0) {
            n = bulk(c, d, op <= 0xa5, size, asz, amask, count);
            count = c.r[Cpu.RCX] & amask;
        }
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

    /**
     * REP MOVS / REP STOS upwards (DF = 0) over RAM a page run at a time: each run of whole elements inside one
     * source and one destination page is translated once (source first, as the element loop would fault) and
     * copied or filled on the host segments, then RSI/RDI/RCX are advanced past it. Stops (leaving the rest to the
     * element loop) at an element that straddles a page, MMIO, an address-size wrap, overlapping MOVS ranges (the
     * element-by-element result differs from a block copy there), or {@link #CHUNK} elements. Returns the elements
     * done.
     */
    private static int bulk(Cpu c, Insn d, boolean movs, int size, int asz, long amask, long count) {
        Mmu mmu = c.mmu;
        boolean user = c.cpl == 3;
        int done = 0;
        while (count != 0 && done < CHUNK) {
            long di = c.r[Cpu.RDI] & amask;
            long dla = c.linear(Cpu.ES, di);
            long k = Math.min(Math.min(count, (0x1000 - (dla & 0xfff)) / size), CHUNK - done);
            long si = 0;
            long sla = 0;
            if (movs) {
                si = c.r[Cpu.RSI] & amask;
                sla = c.linear(d.seg, si);
                k = Math.min(k, (0x1000 - (sla & 0xfff)) / size);
            }
            long len = k * size;
            if (k == 0 || (asz != 8 && (di + len - 1 > amask || si + len - 1 > amask))) {
                break;
            }
            MemorySegment src = null;
            long srcOff = 0;
            if (movs) {
                long spa = mmu.translate(sla, Mmu.READ, user);
                int sreg = mmu.region(spa);
                if (sreg < 0 || spa - mmu.regionGpa(sreg) + len > mmu.regionSize(sreg)) {
                    break;
                }
                src = mmu.regionSegment(sreg);
                srcOff = spa - mmu.regionGpa(sreg);
            }
            long dpa = mmu.translate(dla, Mmu.WRITE, user);
            int dreg = mmu.region(dpa);
            if (dreg < 0 || dpa - mmu.regionGpa(dreg) + len > mmu.regionSize(dreg)) {
                break;
            }
            MemorySegment dst = mmu.regionSegment(dreg);
            long dstOff = dpa - mmu.regionGpa(dreg);
            if (movs) {
                if (src == dst && srcOff != dstOff && srcOff < dstOff + len && dstOff < srcOff + len) {
                    break;
                }
                MemorySegment.copy(src, srcOff, dst, dstOff, len);
                c.setReg(Cpu.RSI, asz, false, si + len);
            } else {
                long v = c.r[0];
                if (size == 1 || v == 0 || v == -1) {
                    dst.asSlice(dstOff, len).fill((byte) v);
                } else {
                    for (long o = 0; o < len; o += size) {
                        switch (size) {
                            case 2 -> dst.set(SHORT, dstOff + o, (short) v);
                            case 4 -> dst.set(INT, dstOff + o, (int) v);
                            default -> dst.set(LONG, dstOff + o, v);
                        }
                    }
                }
            }
            c.setReg(Cpu.RDI, asz, false, di + len);
            count = (count - k) & amask;
            c.setReg(Cpu.RCX, asz, false, count);
            done += (int) k;
        }
        return done;
    }

    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;

    private static void adv(Cpu c, int reg, int asz, long v) {
        c.setReg(reg, asz, false, v);
    }
}
