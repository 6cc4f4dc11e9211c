package org.jkvm.emu.cpu;

import java.util.List;

import org.jkvm.hypervisor.CpuidEntry;

/**
 * The CPUID leaves a vCPU reports (SDM vol. 2A CPUID): set by the VMM through {@code Vcpu.setCpuid}, initially the
 * emulator's own model. A leaf above the highest basic or extended leaf reads as the highest basic leaf, as on Intel
 * processors; an unknown leaf inside the range reads as zeros.
 */
public final class CpuidTable {
    private volatile CpuidEntry[] entries;

    public CpuidTable(List<CpuidEntry> initial) {
        set(initial);
    }

    public void set(List<CpuidEntry> list) {
        entries = list.toArray(new CpuidEntry[0]);
    }

    public List<CpuidEntry> entries() {
        return List.of(entries);
    }

    /** Fills {@code out} with EAX, EBX, ECX, EDX for leaf {@code function}, sub-leaf {@code index}. */
    public void lookup(int function, int index, int[] out) {
        CpuidEntry[] e = entries;
        int maxBasic = 0;
        int maxExt = 0x80000000;
        for (CpuidEntry x : e) {
            if (x.function() == 0) {
                maxBasic = x.eax();
            } else if (x.function() == 0x80000000) {
                maxExt = x.eax();
            }
        }
        if (Integer.compareUnsigned(function, 0x80000000) >= 0 ? Integer.compareUnsigned(function, maxExt) > 0
                : Integer.compareUnsigned(function, maxBasic) > 0) {
            if (Integer.compareUnsigned(function, 0x40000000) < 0
                    || Integer.compareUnsigned(function, 0x80000000) >= 0) {
                function = maxBasic;
            }
        }
        for (CpuidEntry x : e) {
            if (x.function() == function
                    && ((x.flags() & CpuidEntry.FLAG_SIGNIFICANT_INDEX) == 0 || x.index() == index)) {
                out[0] = x.eax();
                out[1] = x.ebx();
                out[2] = x.ecx();
                out[3] = x.edx();
                return;
            }
        }
        out[0] = out[1] = out[2] = out[3] = 0;
    }
}
