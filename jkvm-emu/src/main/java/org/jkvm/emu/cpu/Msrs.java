package org.jkvm.emu.cpu;

/**
 * The model-specific registers this CPU model implements (SDM vol. 4 "Model-specific registers"): TSC, TSC_ADJUST, APIC
 * base, BIOS_SIGN_ID (microcode revision, always 0), ARCH_CAPABILITIES (read-only), TSC_DEADLINE, SYSENTER, PAT, MISC_ENABLE, MTRR
 * capability and default type, EFER, STAR/LSTAR/CSTAR/SFMASK, FS/GS/kernel-GS base and TSC_AUX. Any other index raises #GP(0), as on hardware. The TSC counts nanoseconds of host time (1 GHz).
 */
public final class Msrs {
    /** The x2APIC registers (SDM table 11-6), served by the local APIC in x2APIC mode. */
    public static final int X2APIC_FIRST = 0x800, X2APIC_LAST = 0x8ff;
    public static final int TSC = 0x10, APIC_BASE = 0x1b, TSC_ADJUST = 0x3b, BIOS_SIGN_ID = 0x8b, ARCH_CAPABILITIES = 0x10a,
            MTRRCAP = 0xfe, SYSENTER_CS = 0x174, TSC_DEADLINE = 0x6e0, SYSENTER_ESP = 0x175, SYSENTER_EIP = 0x176, MISC_ENABLE = 0x1a0, PAT = 0x277, MTRR_DEF_TYPE = 0x2ff,
            EFER = 0xc0000080, STAR = 0xc0000081, LSTAR = 0xc0000082, CSTAR = 0xc0000083, SFMASK = 0xc0000084,
            FS_BASE = 0xc0000100, GS_BASE = 0xc0000101, KERNEL_GS_BASE = 0xc0000102, TSC_AUX = 0xc0000103;

    /** Every MSR index {@link #read} accepts (for KVM_GET_MSR_INDEX_LIST-like listings and state transfer). */
    public static final int[] INDICES = {TSC, APIC_BASE, TSC_ADJUST, BIOS_SIGN_ID, ARCH_CAPABILITIES, MTRRCAP, SYSENTER_CS,
            SYSENTER_ESP, SYSENTER_EIP, TSC_DEADLINE, MISC_ENABLE, PAT, MTRR_DEF_TYPE, EFER, STAR, LSTAR, CSTAR, SFMASK, FS_BASE, GS_BASE, KERNEL_GS_BASE,
            TSC_AUX};

    /**
     * The value of IA32_ARCH_CAPABILITIES, read-only (SDM vol. 4 table 2-2; Linux msr-index.h): RDCL_NO, SSB_NO,
     * MDS_NO, PSCHANGE_MC_NO, TAA_NO, SBDR_SSDP_NO, FBSDP_NO, PSDP_NO, BHI_NO, PBRSB_NO, GDS_NO, RFDS_NO, ITS_NO: the
     * interpreter never speculates, so none of those attacks applies.
     */
    public static final long ARCH_CAPABILITIES_VALUE = 1L | 1L << 4 | 1L << 5 | 1L << 6 | 1L << 8 | 1L << 13
            | 1L << 14 | 1L << 15 | 1L << 20 | 1L << 24 | 1L << 26 | 1L << 27 | 1L << 62;

    private Msrs() {}

    public static long tsc(Cpu c) {
        return System.nanoTime() + c.tscOffset;
    }

    /** True if {@code index} is an MSR of this model. */
    public static boolean known(int index) {
        for (int i : INDICES) {
            if (i == index) {
                return true;
            }
        }
        return false;
    }

    public static long read(Cpu c, int index) {
        return switch (index) {
            case TSC -> tsc(c);
            case APIC_BASE -> c.apicBase;
            case TSC_ADJUST -> c.tscAdjust;
            case BIOS_SIGN_ID -> 0; // microcode revision: none loaded
            case ARCH_CAPABILITIES -> ARCH_CAPABILITIES_VALUE;
            case MTRRCAP -> 0;
            case TSC_DEADLINE -> c.apic != null ? c.apic.tscDeadline() : 0;
            case SYSENTER_CS -> c.sysenterCs;
            case SYSENTER_ESP -> c.sysenterEsp;
            case SYSENTER_EIP -> c.sysenterEip;
            case MISC_ENABLE -> c.miscEnable;
            case PAT -> c.pat;
            case MTRR_DEF_TYPE -> c.mtrrDefType;
            case EFER -> c.efer;
            case STAR -> c.star;
            case LSTAR -> c.lstar;
            case CSTAR -> c.cstar;
            case SFMASK -> c.sfmask;
            case FS_BASE -> c.segBase[Cpu.FS];
            case GS_BASE -> c.segBase[Cpu.GS];
            case KERNEL_GS_BASE -> c.kernelGsBase;
            case TSC_AUX -> c.tscAux;
            default -> {
                if (c.apic != null && index >= X2APIC_FIRST && index <= X2APIC_LAST) {
                    yield c.apic.x2apicRead(index);
                }
                throw c.fault(CpuFault.GP, 0);
            }
        };
    }

    /** WRMSR; a non-canonical base or a reserved EFER bit raises #GP(0). */
    public static void write(Cpu c, int index, long v) {
        switch (index) {
            case TSC -> {
                long before = c.tscOffset;
                c.tscOffset = c.tscSync.offsetForWrite(v);
                c.tscAdjust += c.tscOffset - before; // SDM 18.17.3: a TSC write moves TSC_ADJUST along
            }
            case TSC_ADJUST -> {
                c.tscOffset += v - c.tscAdjust;
                c.tscAdjust = v;
            }
            case APIC_BASE -> {
                if (c.apic != null) {
                    c.apic.writeApicBase(v);
                } else {
                    c.apicBase = v & 0xffffff900L;
                }
            }
            case BIOS_SIGN_ID -> { } // writing 0 before CPUID(1) latches the revision; there is none
            case TSC_DEADLINE -> {
                if (c.apic != null) {
                    c.apic.setTscDeadline(v);
                }
            }
            case SYSENTER_CS -> c.sysenterCs = v & 0xffff;
            case SYSENTER_ESP -> c.sysenterEsp = canonical(c, v);
            case SYSENTER_EIP -> c.sysenterEip = canonical(c, v);
            case MISC_ENABLE -> c.miscEnable = v;
            case PAT -> c.pat = v;
            case MTRR_DEF_TYPE -> c.mtrrDefType = v & 0xcff;
            case EFER -> {
                long allowed = Cpu.EFER_SCE | Cpu.EFER_LME | Cpu.EFER_NXE;
                if ((v & ~(allowed | Cpu.EFER_LMA)) != 0) {
                    throw c.fault(CpuFault.GP, 0);
                }
                // LMA is read-only; LME cannot change while paging is on.
                boolean paging = (c.cr0 & Cpu.CR0_PG) != 0;
                if (paging && ((v ^ c.efer) & Cpu.EFER_LME) != 0) {
                    throw c.fault(CpuFault.GP, 0);
                }
                c.efer = (v & allowed) | (c.efer & Cpu.EFER_LMA);
                c.mmu.flushAll();
            }
            case STAR -> c.star = v;
            case LSTAR -> c.lstar = canonical(c, v);
            case CSTAR -> c.cstar = canonical(c, v);
            case SFMASK -> c.sfmask = v & 0xffffffffL;
            case FS_BASE -> {
                c.segBase[Cpu.FS] = canonical(c, v);
                c.recomputeMode();
            }
            case GS_BASE -> {
                c.segBase[Cpu.GS] = canonical(c, v);
                c.recomputeMode();
            }
            case KERNEL_GS_BASE -> c.kernelGsBase = canonical(c, v);
            case TSC_AUX -> c.tscAux = v & 0xffffffffL;
            default -> {
                if (c.apic != null && index >= X2APIC_FIRST && index <= X2APIC_LAST) {
                    c.apic.x2apicWrite(index, v);
                } else {
                    throw c.fault(CpuFault.GP, 0);
                }
            }
        }
    }

    private static long canonical(Cpu c, long v) {
        if ((v >> 47) != 0 && (v >> 47) != -1) {
            throw c.fault(CpuFault.GP, 0);
        }
        return v;
    }
}
