package org.jkvm.hypervisor;

/** One CPUID leaf: struct kvm_cpuid_entry2. {@code flags} bit 0 means the leaf has sub-leaves (index matters). */
public record CpuidEntry(int function, int index, int flags, int eax, int ebx, int ecx, int edx) {
    public static final int FLAG_SIGNIFICANT_INDEX = 1;

    public CpuidEntry withRegs(int eax, int ebx, int ecx, int edx) {
        return new CpuidEntry(function, index, flags, eax, ebx, ecx, edx);
    }
}
