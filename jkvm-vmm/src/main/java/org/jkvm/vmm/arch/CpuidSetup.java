package org.jkvm.vmm.arch;

import java.util.ArrayList;
import java.util.List;

import org.jkvm.hypervisor.CpuidEntry;

/**
 * Adjusts the backend's supported CPUID leaves for one vCPU of an N-vCPU VM with one socket of N single-threaded
 * cores: APIC IDs (leaf 1 EBX[31:24], leaf 0xB/0x1F EDX), the topology (leaf 0xB/0x1F levels, leaf 4 core counts,
 * AMD leaf 0x80000008), HTT and the hypervisor bit. Intel SDM vol. 2A, CPUID; the KVM paravirtual leaves
 * (0x40000000 on, Documentation/virt/kvm/x86/cpuid.rst) pass through as the backend reports them.
 */
public final class CpuidSetup {
    private static final int LEAF1_ECX_HYPERVISOR = 1 << 31;
    private static final int LEAF1_EDX_HTT = 1 << 28;
    private static final int LEVEL_TYPE_SMT = 1;
    private static final int LEVEL_TYPE_CORE = 2;

    private CpuidSetup() {}

    public static List<CpuidEntry> forVcpu(List<CpuidEntry> supported, int apicId, int vcpuCount) {
        int coreBits = 32 - Integer.numberOfLeadingZeros(Math.max(vcpuCount - 1, 0));
        List<CpuidEntry> out = new ArrayList<>(supported.size() + 3);
        boolean has1f = false;
        for (CpuidEntry e : supported) {
            switch (e.function()) {
                case 0x1 -> {
                    int logical = Math.min(vcpuCount, 255);
                    int ebx = (e.ebx() & 0xffff) | (logical << 16) | ((apicId & 0xff) << 24);
                    int edx = vcpuCount > 1 ? e.edx() | LEAF1_EDX_HTT : e.edx() & ~LEAF1_EDX_HTT;
                    out.add(e.withRegs(e.eax(), ebx, e.ecx() | LEAF1_ECX_HYPERVISOR, edx));
                }
                case 0x4 -> {
                    if ((e.eax() & 0x1f) == 0) {
                        out.add(e); // no more caches
                    } else {
                        int level = (e.eax() >>> 5) & 0x7;
                        int sharing = level >= 3 ? vcpuCount - 1 : 0;
                        int cores = Math.min(vcpuCount - 1, 63);
                        int eax = (e.eax() & 0x3fff) | ((sharing & 0xfff) << 14) | (cores << 26);
                        out.add(e.withRegs(eax, e.ebx(), e.ecx(), e.edx()));
                    }
                }
                case 0xb -> { } // regenerated below
                case 0x1f -> has1f = true;
                case 0x80000008 -> out.add(e.withRegs(e.eax(), e.ebx(),
                        (e.ecx() & ~0xff) | Math.min(vcpuCount - 1, 255), e.edx()));
                default -> out.add(e);
            }
        }
        out.addAll(topology(0xb, apicId, vcpuCount, coreBits));
        if (has1f) {
            out.addAll(topology(0x1f, apicId, vcpuCount, coreBits));
        }
        return out;
    }

    /** Extended topology leaf (0xB or 0x1F): SMT level (1 thread per core), core level (N cores), terminator. */
    private static List<CpuidEntry> topology(int leaf, int apicId, int vcpuCount, int coreBits) {
        int flags = CpuidEntry.FLAG_SIGNIFICANT_INDEX;
        return List.of(
                new CpuidEntry(leaf, 0, flags, 0, 1, (LEVEL_TYPE_SMT << 8), apicId),
                new CpuidEntry(leaf, 1, flags, coreBits, vcpuCount, (LEVEL_TYPE_CORE << 8) | 1, apicId),
                new CpuidEntry(leaf, 2, flags, 0, 0, 2, apicId));
    }
}
