package org.jkvm.emu.cpu;

/**
 * System instructions (SDM vol. 3A ch. 2.8 "System instruction summary", vol. 2): PUSHF/POPF, CLI/STI, HLT, IN/OUT,
 * MOV to and from CR0/2/3/4/8 and DR0-7, LGDT/LIDT/SGDT/SIDT/SMSW/LMSW/INVLPG/SWAPGS, SLDT/STR/LLDT/LTR, CLTS,
 * WBINVD/INVD, CPUID, RDTSC, RDMSR/WRMSR, SYSCALL/SYSRET, fences and UD2, with the CPL and IOPL checks that make
 * them privileged.
 */
public final class SystemOps {
    private SystemOps() {}

    private static void requireCpl0(Cpu c) {
        if (c.cpl != 0) {
            throw c.fault(CpuFault.GP, 0);
        }
    }

    private static int iopl(Cpu c) {
        return (int) (c.rflagsRest >>> 12) & 3;
    }

    public static void exec(Cpu c, Insn d) {
        int op = d.op & 0xff;
        switch (op) {
            case 0x00 -> group6(c, d);
            case 0x01 -> group7(c, d);
            case 0x05 -> syscall(c);
            case 0x06 -> {
                requireCpl0(c);
                c.cr0 &= ~Cpu.CR0_TS;
            }
            case 0x07 -> sysret(c, d);
            case 0x08, 0x09 -> requireCpl0(c);
            case 0x20, 0x22 -> movCr(c, d, op == 0x22);
            case 0x21, 0x23 -> {
                requireCpl0(c);
                int n = d.reg & 7;
                if (op == 0x23) {
                    c.dr[n] = c.r[d.rm];
                } else {
                    c.r[d.rm] = c.dr[n] | (n == 6 ? 0xffff0ff0L : n == 7 ? 0x400 : 0);
                }
            }
            case 0x30 -> {
                requireCpl0(c);
                Msrs.write(c, (int) c.r[Cpu.RCX], (c.r[Cpu.RDX] << 32) | (c.r[0] & 0xffffffffL));
            }
            case 0x31 -> {
                if ((c.cr4 & (1 << 2)) != 0 && c.cpl != 0) {
                    throw c.fault(CpuFault.GP, 0);
                }
                long tsc = Msrs.tsc(c);
                c.r[0] = tsc & 0xffffffffL;
                c.r[Cpu.RDX] = tsc >>> 32;
            }
            case 0x32 -> {
                requireCpl0(c);
                long v = Msrs.read(c, (int) c.r[Cpu.RCX]);
                c.r[0] = v & 0xffffffffL;
                c.r[Cpu.RDX] = v >>> 32;
            }
            case 0xa2 -> {
                int[] out = c.cpuidOut;
                c.cpuid.lookup((int) c.r[0], (int) c.r[Cpu.RCX], out);
                c.r[0] = out[0] & 0xffffffffL;
                c.r[Cpu.RBX] = out[1] & 0xffffffffL;
                c.r[Cpu.RCX] = out[2] & 0xffffffffL;
                c.r[Cpu.RDX] = out[3] & 0xffffffffL;
            }
            case 0xae -> {
                // LFENCE/MFENCE/SFENCE (mod=3) and CLFLUSH (/7 memory): ordering is already sequential here.
                int sub = d.reg & 7;
                if (!(d.mem ? sub == 7 : sub >= 5)) {
                    throw c.fault(CpuFault.UD);
                }
                if (d.mem) {
                    c.mmu.read(Executor.addr(c, d), 1);
                }
            }
            default -> throw c.fault(CpuFault.UD);
        }
    }

    // ---- Flags ----

    public static void pushf(Cpu c, Insn d) {
        c.push(d.osz64, c.getRflags() & ~(Cpu.VM | Cpu.RF));
    }

    public static void popf(Cpu c, Insn d) {
        long v = c.pop(d.osz64);
        if (d.osz64 == 2) {
            v = (c.getRflags() & ~0xffffL) | (v & 0xffff);
        }
        writeFlags(c, v, c.cpl);
    }

    /**
     * Writes RFLAGS as POPF/IRET do at privilege {@code cpl}: IOPL only at CPL 0, IF only at CPL <= IOPL; VM, VIF
     * and VIP are never set here.
     */
    public static void writeFlags(Cpu c, long v, int cpl) {
        long mask = Cpu.WRITABLE_FLAGS;
        if (cpl > 0) {
            mask &= ~Cpu.IOPL;
        }
        if (cpl > iopl(c) && (c.cr0 & Cpu.CR0_PE) != 0) {
            mask &= ~Cpu.IF;
        }
        long cur = c.getRflags();
        c.setRflags((cur & ~mask) | (v & mask));
    }

    public static void cliSti(Cpu c, boolean sti) {
        if ((c.cr0 & Cpu.CR0_PE) != 0 && c.cpl > iopl(c)) {
            throw c.fault(CpuFault.GP, 0);
        }
        if (sti) {
            if ((c.rflagsRest & Cpu.IF) == 0) {
                c.interruptShadow = true;
                c.shadowBlockStarted = false;
            }
            c.rflagsRest |= Cpu.IF;
        } else {
            c.rflagsRest &= ~Cpu.IF;
        }
    }

    public static void hlt(Cpu c) {
        requireCpl0(c);
        c.stop = Cpu.STOP_HLT;
    }

    /** IN/OUT with an immediate or DX port; at CPL > IOPL #GP (the TSS I/O bitmap is not consulted). */
    public static void inOut(Cpu c, Insn d) {
        checkIo(c);
        int op = d.op;
        int size = (op & 1) == 0 ? 1 : d.osz == 2 ? 2 : 4;
        int port = op < 0xe8 ? (int) d.imm & 0xff : (int) c.r[Cpu.RDX] & 0xffff;
        if ((op & 2) == 0) {
            long v = c.io.pioRead(port, size) & Flags.mask(size);
            c.setReg(0, size, false, v);
        } else {
            c.io.pioWrite(port, size, (int) c.r[0] & (int) Flags.mask(size));
        }
    }

    static void checkIo(Cpu c) {
        if ((c.cr0 & Cpu.CR0_PE) != 0 && (c.cpl > iopl(c) || (c.rflagsRest & Cpu.VM) != 0)) {
            throw c.fault(CpuFault.GP, 0);
        }
    }

    // ---- Control registers (SDM vol. 3A 2.5, MOV CRn) ----

    private static void movCr(Cpu c, Insn d, boolean toCr) {
        requireCpl0(c);
        int n = d.reg;
        int r = d.rm;
        if (!toCr) {
            long v = switch (n) {
                case 0 -> c.cr0;
                case 2 -> c.cr2;
                case 3 -> c.cr3;
                case 4 -> c.cr4;
                case 8 -> c.cr8;
                default -> throw c.fault(CpuFault.UD);
            };
            c.r[r] = c.long64 ? v : v & 0xffffffffL;
            return;
        }
        long v = c.long64 ? c.r[r] : c.r[r] & 0xffffffffL;
        switch (n) {
            case 0 -> writeCr0(c, v);
            case 2 -> c.cr2 = v;
            case 3 -> {
                c.cr3 = v;
                c.mmu.flushNonGlobal();
            }
            case 4 -> {
                long allowed = 0x1 | 0x2 | 0x4 | 0x8 | Cpu.CR4_PSE | Cpu.CR4_PAE | 0x40 | Cpu.CR4_PGE | 0x100
                        | Cpu.CR4_OSFXSR | Cpu.CR4_OSXMMEXCPT;
                if ((v & ~allowed) != 0 || ((c.efer & Cpu.EFER_LMA) != 0 && (v & Cpu.CR4_PAE) == 0)) {
                    throw c.fault(CpuFault.GP, 0);
                }
                c.cr4 = v;
                c.mmu.flushAll();
            }
            case 8 -> c.cr8 = v & 0xf;
            default -> throw c.fault(CpuFault.UD);
        }
    }

    /** MOV to CR0, with EFER.LMA following CR0.PG and EFER.LME (SDM vol. 3A 10.8.5 "Initializing IA-32e mode"). */
    public static void writeCr0(Cpu c, long v) {
        v |= Cpu.CR0_ET;
        if ((v >>> 32) != 0 || ((v & Cpu.CR0_PG) != 0 && (v & Cpu.CR0_PE) == 0)
                || ((v & Cpu.CR0_NW) != 0 && (v & Cpu.CR0_CD) == 0)) {
            throw c.fault(CpuFault.GP, 0);
        }
        boolean pgOn = (v & Cpu.CR0_PG) != 0 && (c.cr0 & Cpu.CR0_PG) == 0;
        boolean pgOff = (v & Cpu.CR0_PG) == 0 && (c.cr0 & Cpu.CR0_PG) != 0;
        if (pgOn && (c.efer & Cpu.EFER_LME) != 0) {
            if ((c.cr4 & Cpu.CR4_PAE) == 0) {
                throw c.fault(CpuFault.GP, 0);
            }
            c.efer |= Cpu.EFER_LMA;
        }
        if (pgOff) {
            if (c.long64) {
                throw c.fault(CpuFault.GP, 0);
            }
            c.efer &= ~Cpu.EFER_LMA;
        }
        c.cr0 = v;
        c.mmu.flushAll();
        c.recomputeMode();
    }

    // ---- Descriptor tables (group 6 and 7) ----

    /**
     * VERR/VERW (SDM vol. 2B): ZF=1 when the segment {@code sel} names is readable (writable) at the current
     * privilege. A selector beyond the table or a null one clears ZF instead of faulting. Linux executes VERW on every
     * return to user mode as its MDS buffer clear.
     */
    private static void verify(Cpu c, int sel, boolean write) {
        boolean ok = false;
        if ((sel & 0xfffc) != 0) {
            long limit = (sel & 4) != 0 ? ((c.ldtAr & Cpu.AR_UNUSABLE) != 0 || c.ldtSel == 0 ? -1 : c.ldtLimit)
                    : c.gdtLimit & 0xffffL;
            if ((sel & 0xfff8) + 7 <= limit) {
                int ar = Segments.descAr(Segments.readDescriptor(c, sel));
                boolean s = (ar & 0x10) != 0;
                boolean code = (ar & 8) != 0;
                boolean conforming = code && (ar & 4) != 0;
                int dpl = (ar >>> 5) & 3;
                boolean privOk = conforming || (dpl >= c.cpl && dpl >= (sel & 3));
                if (s && privOk) {
                    ok = write ? !code && (ar & 2) != 0 : !code || (ar & 2) != 0;
                }
            }
        }
        Flags.materialize(c);
        Flags.put(c, Cpu.ZF, ok);
    }

    private static void group6(Cpu c, Insn d) {
        if (!Segments.protectedMode(c)) {
            throw c.fault(CpuFault.UD);
        }
        int sub = d.reg & 7;
        switch (sub) {
            case 0 -> storeSel(c, d, c.ldtSel);
            case 1 -> storeSel(c, d, c.trSel);
            case 2 -> {
                requireCpl0(c);
                Segments.lldt(c, (int) Executor.readE(c, d, 2));
            }
            case 3 -> {
                requireCpl0(c);
                Segments.ltr(c, (int) Executor.readE(c, d, 2));
            }
            case 4, 5 -> verify(c, (int) Executor.readE(c, d, 2) & 0xffff, sub == 5);
            default -> throw c.fault(CpuFault.UD);
        }
    }

    private static void storeSel(Cpu c, Insn d, int sel) {
        if (d.mem) {
            c.mmu.write(Executor.addr(c, d), 2, sel);
        } else {
            c.setReg(d.rm, d.osz, d.rex, sel);
        }
    }

    private static void group7(Cpu c, Insn d) {
        int sub = d.reg & 7;
        if (!d.mem) {
            int rm = d.rm & 7;
            if (sub == 7 && rm == 0 && c.long64) {
                requireCpl0(c);
                long t = c.segBase[Cpu.GS];
                c.segBase[Cpu.GS] = c.kernelGsBase;
                c.kernelGsBase = t;
                c.recomputeMode();
                return;
            }
            if (sub == 4) {
                c.setReg(d.rm, d.osz, d.rex, c.cr0 & 0xffff);
                return;
            }
            if (sub == 6) {
                lmsw(c, c.r[d.rm]);
                return;
            }
            throw c.fault(CpuFault.UD);
        }
        long la = Executor.addr(c, d);
        switch (sub) {
            case 0, 1 -> {
                long base = sub == 0 ? c.gdtBase : c.idtBase;
                int limit = sub == 0 ? c.gdtLimit : c.idtLimit;
                c.mmu.probeWrite(la, c.long64 ? 10 : 6);
                c.mmu.write(la, 2, limit);
                if (c.long64) {
                    c.mmu.write(la + 2, 8, base);
                } else {
                    c.mmu.write(la + 2, 4, base);
                }
            }
            case 2, 3 -> {
                requireCpl0(c);
                int limit = (int) c.mmu.read(la, 2);
                long base = c.long64 ? c.mmu.read(la + 2, 8) : c.mmu.read(la + 2, 4);
                if (!c.long64 && d.osz == 2) {
                    base &= 0xffffff;
                }
                if (sub == 2) {
                    c.gdtBase = base;
                    c.gdtLimit = limit;
                } else {
                    c.idtBase = base;
                    c.idtLimit = limit;
                }
            }
            case 4 -> c.mmu.write(la, 2, c.cr0 & 0xffff);
            case 6 -> lmsw(c, c.mmu.read(la, 2));
            case 7 -> {
                requireCpl0(c);
                c.mmu.flushPage(la);
            }
            default -> throw c.fault(CpuFault.UD);
        }
    }

    private static void lmsw(Cpu c, long v) {
        requireCpl0(c);
        // LMSW changes PE, MP, EM, TS and cannot clear PE.
        long nv = (c.cr0 & ~0xeL) | (v & 0xf) | (c.cr0 & 1);
        writeCr0(c, nv);
    }

    // ---- SYSCALL / SYSRET (SDM vol. 2B) ----

    private static void syscall(Cpu c) {
        if ((c.efer & Cpu.EFER_SCE) == 0 || !c.long64) {
            throw c.fault(CpuFault.UD);
        }
        c.r[Cpu.RCX] = c.rip;
        c.r[11] = c.getRflags() & ~Cpu.RF;
        int sel = (int) (c.star >>> 32) & 0xfffc;
        c.segSel[Cpu.CS] = sel;
        c.segBase[Cpu.CS] = 0;
        c.segLimit[Cpu.CS] = 0xffffffffL;
        c.segAr[Cpu.CS] = 0xa09b;
        c.segSel[Cpu.SS] = sel + 8;
        c.segBase[Cpu.SS] = 0;
        c.segLimit[Cpu.SS] = 0xffffffffL;
        c.segAr[Cpu.SS] = 0xc093;
        c.setRflags(c.getRflags() & ~c.sfmask & ~Cpu.RF);
        c.rip = c.lstar;
        c.recomputeMode();
    }

    private static void sysret(Cpu c, Insn d) {
        if ((c.efer & Cpu.EFER_SCE) == 0 || !c.long64) {
            throw c.fault(CpuFault.UD);
        }
        requireCpl0(c);
        int base = (int) (c.star >>> 48) & 0xffff;
        boolean to64 = d.osz == 8;
        if (to64 && (c.r[Cpu.RCX] >> 47) != 0 && (c.r[Cpu.RCX] >> 47) != -1) {
            throw c.fault(CpuFault.GP, 0);
        }
        c.segSel[Cpu.CS] = (to64 ? base + 16 : base) | 3;
        c.segBase[Cpu.CS] = 0;
        c.segLimit[Cpu.CS] = 0xffffffffL;
        c.segAr[Cpu.CS] = to64 ? 0xa0fb : 0xc0fb;
        c.segSel[Cpu.SS] = (base + 8) | 3;
        c.segAr[Cpu.SS] = 0xc0f3;
        c.setRflags((c.r[11] & Cpu.WRITABLE_FLAGS & ~Cpu.RF) | 2);
        c.rip = to64 ? c.r[Cpu.RCX] : c.r[Cpu.RCX] & 0xffffffffL;
        c.recomputeMode();
    }
}
