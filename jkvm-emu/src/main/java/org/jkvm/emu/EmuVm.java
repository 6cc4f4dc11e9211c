package org.jkvm.emu;

import java.util.ArrayList;
import java.util.List;

import org.jkvm.emu.apic.ApicBus;
import org.jkvm.emu.apic.LocalApic;
import org.jkvm.emu.cpu.TscSync;
import org.jkvm.hypervisor.ExtIntSource;
import org.jkvm.hypervisor.HypervisorException;
import org.jkvm.hypervisor.Vcpu;
import org.jkvm.hypervisor.Vm;
import org.jkvm.hypervisor.VmOptions;
import org.jkvm.memory.GuestMemory;
import org.jkvm.memory.MemoryRegion;

/**
 * A VM on the software CPU: guest RAM (read directly through the regions' host segments), its vCPUs and their local
 * APICs on one {@link ApicBus} (IPIs, and the timer thread). The PIC and IOAPIC are the VMM's
 * ({@link Irqchip#VMM}): their messages arrive through {@link #deliverApicMessage}, and level-triggered EOIs go back
 * through {@link #setEoiListener}.
 */
public final class EmuVm implements Vm {
    private final VmOptions options;
    /** The monitor LOCKed accesses fall back to when no single host atomic covers them (split locks, MMIO). */
    private final Object lockMonitor = new Object();
    private final TscSync tscSync = new TscSync();
    private final List<EmuVcpu> vcpus = new ArrayList<>();
    private final ApicBus apicBus = new ApicBus();
    private List<MemoryRegion> regions = List.of();
    private ExtIntSource extInt;
    private volatile LocalApic bspApic;

    EmuVm(VmOptions options) {
        this.options = options;
    }

    @Override
    public synchronized void setMemory(GuestMemory memory) {
        regions = List.copyOf(memory.regions());
        for (EmuVcpu v : vcpus) {
            v.setRegions(regions);
        }
    }

    @Override
    public synchronized Vcpu createVcpu(int index) {
        if (index < 0 || index >= options.vcpuCount()) {
            throw new HypervisorException("vCPU index " + index + " outside 0.." + (options.vcpuCount() - 1));
        }
        for (EmuVcpu v : vcpus) {
            if (v.index() == index) {
                throw new HypervisorException("vCPU " + index + " already exists");
            }
        }
        EmuVcpu v = new EmuVcpu(index, regions, lockMonitor, apicBus);
        v.shareTsc(tscSync);
        if (index == 0) {
            v.localApic().connectExtInt(extInt);
            bspApic = v.localApic();
        }
        vcpus.add(v);
        return v;
    }

    /** The local APICs' message bus: where an IOAPIC (or MSI) delivers interrupts. */
    public ApicBus apicBus() {
        return apicBus;
    }

    @Override
    public Irqchip irqchip() {
        return Irqchip.VMM;
    }

    @Override
    public void setIrqLine(int gsi, boolean level) {
        throw new UnsupportedOperationException("the emu backend has no interrupt controller of its own: the VMM's"
                + " IOAPIC delivers through deliverApicMessage");
    }

    @Override
    public void deliverApicMessage(int destination, boolean logical, int vector, int deliveryMode, boolean level,
                                   boolean levelTriggered) {
        apicBus.deliver(destination, logical, vector, deliveryMode, level, levelTriggered);
    }

    @Override
    public void setEoiListener(java.util.function.IntConsumer listener) {
        apicBus.setEoiListener(listener);
    }

    @Override
    public synchronized Runnable connectExtInt(ExtIntSource pic) {
        extInt = pic;
        for (EmuVcpu v : vcpus) {
            if (v.index() == 0) {
                v.localApic().connectExtInt(pic);
            }
        }
        return this::extIntRaised;
    }

    private void extIntRaised() {
        LocalApic bsp = bspApic;
        if (bsp != null) {
            bsp.extIntRaised();
        }
    }

    @Override
    public void close() {
        apicBus.close();
    }
}
