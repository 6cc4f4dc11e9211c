package org.jkvm.emu;

import java.util.List;

import org.jkvm.hypervisor.CpuidEntry;
import org.jkvm.hypervisor.Hypervisor;
import org.jkvm.hypervisor.Vm;
import org.jkvm.hypervisor.VmOptions;

/**
 * The {@code emu} backend: jkvm's x86-64 software CPU, for hosts without hardware virtualization. Needs nothing from
 * the host beyond memory; see docs/emu.md for the CPU model and what is implemented.
 */
public final class EmuHypervisor implements Hypervisor {
    public EmuHypervisor() {}

    @Override
    public String name() {
        return "emu";
    }

    /** The emulator's CPU model ({@link CpuModel}). */
    @Override
    public List<CpuidEntry> supportedCpuid() {
        return CpuModel.cpuid();
    }

    @Override
    public Vm createVm(VmOptions options) {
        return new EmuVm(options);
    }

    @Override
    public void close() {}
}
