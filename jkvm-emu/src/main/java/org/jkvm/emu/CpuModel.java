package org.jkvm.emu;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.jkvm.hypervisor.CpuidEntry;

/**
 * The CPU jkvm's emulator presents through CPUID (SDM vol. 2A CPUID, tables 3-8 to 3-20): vendor "GenuineIntel",
 * family 6, model 2, stepping 0 (a model number no real Intel part uses, so no guest applies model-specific quirks),
 * brand "jkvm emu x86-64". Only what the emulator implements is advertised:
 * <ul>
 *   <li>leaf 1 EDX: FPU, PSE, TSC, MSR, PAE, CX8, APIC, PGE, CMOV, PAT, CLFSH, MMX, FXSR, SSE, SSE2 (with SYSCALL,
 *   the x86-64 baseline ISA level that glibc 2.36 and later check before running a program);
 *   ECX: CX16, x2APIC, TSC-deadline timer, hypervisor</li>
 *   <li>leaf 7 EBX: TSC_ADJUST (MSR 0x3b). With the invariant TSC it tells Linux the TSC needs no clocksource
 *   watchdog: it is host time, and a watchdog checking it against the PM timer misfires when the host delays the
 *   emulator's timers</li>
 *   <li>leaf 7 EDX: ARCH_CAPABILITIES, whose MSR (0x10a, {@link org.jkvm.emu.cpu.Msrs#ARCH_CAPABILITIES_VALUE})
 *   reports the CPU immune to Meltdown, L1TF, MDS, TAA, SSB, MMIO stale data, GDS, RFDS, BHI and ITS: true of an
 *   interpreter that never speculates, and it spares the guest page-table isolation and buffer clearing, which
 *   cost an emulator a TLB flush per kernel entry</li>
 *   <li>leaf 0x15: core crystal clock 1 GHz and TSC/crystal ratio 1/1; leaf 0x16: 1000 MHz. The TSC and the
 *   local APIC timer both count host nanoseconds, so Linux takes both frequencies from CPUID instead of
 *   calibrating them against the PIT ({@code X86_FEATURE_TSC_KNOWN_FREQ})</li>
 *   <li>leaf 0x80000001 EDX: SYSCALL, NX, Page1GB, LM; ECX: LAHF-SAHF in 64-bit mode</li>
 *   <li>leaf 0x80000007 EDX: invariant TSC</li>
 *   <li>leaf 0x80000008: 40 physical and 48 linear address bits</li>
 * </ul>
 * Leaves 2 to 6 and 8 to 0x14 read as zeros (no cache descriptors, no MONITOR, no power management); the VMM
 * adds the topology leaf 0xB per vCPU.
 * Not advertised because not implemented yet: SSE3 and later, SEP
 * (SYSENTER), MTRR, MCE/MCA, RDTSCP, XSAVE, AVX, BMI, POPCNT. Leaf 1 EBX[31:24] (initial APIC ID) is 0; the VMM sets it per vCPU as on KVM.
 */
public final class CpuModel {
    public static final String VENDOR = "GenuineIntel";
    public static final int FAMILY = 6, MODEL = 2, STEPPING = 0;
    public static final String BRAND = "jkvm emu x86-64";

    public static final int LEAF1_EDX = 1 | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 8) | (1 << 9)
            | (1 << 13) | (1 << 15) | (1 << 16) | (1 << 19) | (1 << 23) | (1 << 24) | (1 << 25) | (1 << 26);
    public static final int LEAF1_ECX = (1 << 13) | (1 << 21) | (1 << 24) | (1 << 31);
    public static final int EXT1_EDX = (1 << 11) | (1 << 20) | (1 << 26) | (1 << 29);
    public static final int EXT1_ECX = 1;
    public static final int MAX_BASIC_LEAF = 0x16;
    public static final int LEAF7_EBX = 1 << 1;
    public static final int LEAF7_EDX = 1 << 29;
    /** The frequency of the TSC and of the local APIC timer's input clock: both count host nanoseconds. */
    public static final long TSC_HZ = 1_000_000_000L;

    private CpuModel() {}

    public static List<CpuidEntry> cpuid() {
        List<CpuidEntry> l = new ArrayList<>();
        byte[] v = VENDOR.getBytes(StandardCharsets.US_ASCII);
        l.add(new CpuidEntry(0, 0, 0, MAX_BASIC_LEAF, le(v, 0), le(v, 8), le(v, 4)));
        int signature = (STEPPING) | (MODEL << 4) | (FAMILY << 8);
        l.add(new CpuidEntry(1, 0, 0, signature, (8 << 8) | (1 << 16), LEAF1_ECX, LEAF1_EDX));
        l.add(new CpuidEntry(7, 0, CpuidEntry.FLAG_SIGNIFICANT_INDEX, 0, LEAF7_EBX, 0, LEAF7_EDX));
        l.add(new CpuidEntry(0x15, 0, 0, 1, 1, (int) TSC_HZ, 0));
        int mhz = (int) (TSC_HZ / 1_000_000);
        l.add(new CpuidEntry(0x16, 0, 0, mhz, mhz, mhz, 0));
        l.add(new CpuidEntry(0x80000000, 0, 0, 0x80000008, 0, 0, 0));
        l.add(new CpuidEntry(0x80000001, 0, 0, 0, 0, EXT1_ECX, EXT1_EDX));
        l.add(new CpuidEntry(0x80000007, 0, 0, 0, 0, 0, 1 << 8));
        byte[] brand = new byte[48];
        byte[] b = BRAND.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(b, 0, brand, 0, b.length);
        for (int i = 0; i < 3; i++) {
            int o = i * 16;
            l.add(new CpuidEntry(0x80000002 + i, 0, 0, le(brand, o), le(brand, o + 4), le(brand, o + 8),
                    le(brand, o + 12)));
        }
        l.add(new CpuidEntry(0x80000008, 0, 0, 0x3028, 0, 0, 0));
        return List.copyOf(l);
    }

    private static int le(byte[] b, int o) {
        return (b[o] & 0xff) | (b[o + 1] & 0xff) << 8 | (b[o + 2] & 0xff) << 16 | (b[o + 3] & 0xff) << 24;
    }
}
