package org.jkvm.vmm.snapshot;

import java.util.List;

import org.jkvm.hypervisor.CpuidEntry;
import org.jkvm.hypervisor.Fpu;
import org.jkvm.hypervisor.MpState;
import org.jkvm.hypervisor.MsrEntry;
import org.jkvm.hypervisor.Regs;
import org.jkvm.hypervisor.Sregs;
import org.jkvm.hypervisor.state.LapicState;
import org.jkvm.hypervisor.state.VcpuEvents;

/**
 * One vCPU, in KVM's structures' form whichever backend saved it: registers, segment/control registers, x87/SSE,
 * the XSAVE area (KVM only, null otherwise; restored only on KVM), MSRs in restore order, the local APIC page,
 * pending events, the multiprocessing state, the CPUID the guest saw and the TSC frequency in kHz.
 */
public record VcpuState(int index, Regs regs, Sregs sregs, Fpu fpu, byte[] xsave, List<MsrEntry> msrs,
                        LapicState lapic, VcpuEvents events, MpState mpState, List<CpuidEntry> cpuid, long tscKhz) {
    public VcpuState {
        if (index < 0 || index > 255) {
            throw new IllegalArgumentException("vCPU index " + index + " outside 0..255");
        }
        if (regs == null || sregs == null || fpu == null || msrs == null || lapic == null || events == null
                || mpState == null || cpuid == null) {
            throw new IllegalArgumentException("vCPU " + index + " state is incomplete");
        }
        if (xsave != null && xsave.length != 4096) {
            throw new IllegalArgumentException("vCPU " + index + " XSAVE area must be 4096 bytes");
        }
        if (msrs.size() > 256 || cpuid.size() > 256) {
            throw new IllegalArgumentException("vCPU " + index + " has too many MSRs or CPUID leaves");
        }
        xsave = xsave == null ? null : xsave.clone();
        msrs = List.copyOf(msrs);
        cpuid = List.copyOf(cpuid);
    }

    @Override
    public byte[] xsave() {
        return xsave == null ? null : xsave.clone();
    }
}
