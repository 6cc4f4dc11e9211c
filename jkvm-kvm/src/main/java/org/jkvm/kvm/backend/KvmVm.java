package org.jkvm.kvm.backend;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.jkvm.hypervisor.Vcpu;
import org.jkvm.hypervisor.state.IrqchipState;
import org.jkvm.hypervisor.state.PitState;
import org.jkvm.kvm.KvmAbi;
import org.jkvm.hypervisor.Vm;
import org.jkvm.kvm.VcpuFd;
import org.jkvm.kvm.VmFd;
import org.jkvm.memory.GuestMemory;
import org.jkvm.memory.MemoryRegion;

/**
 * A VM on KVM. Creation sets up what an x86 guest needs before its first vCPU: the VMX real-mode TSS and identity
 * map pages (in the MMIO hole, just below the BIOS area, as QEMU places them), the in-kernel irqchip and PIT.
 */
final class KvmVm implements Vm {
    /** Three pages for KVM_SET_TSS_ADDR, then one for the identity map, below 4 GiB and outside RAM. */
    static final long TSS_GPA = 0xfffb_d000L;
    static final long IDENTITY_MAP_GPA = 0xfffb_c000L;

    private final VmFd vm;
    /** The PC's GSIs 0-23 (always installed) and the MSI routes added with {@link #setMsiRoute}. */
    private final java.util.List<VmFd.GsiRoute> pcRoutes = pcGsiRouting();
    private final java.util.Map<Integer, VmFd.GsiRoute.Msi> msiRoutes = new java.util.TreeMap<>();
    private int nextMsiGsi = FIRST_MSI_GSI;
    /** One struct kvm_msi reused by every {@link #signalMsi} (serialised on it). */
    private final MemorySegment msi = Arena.ofAuto().allocate(KvmAbi.KVM_MSI_SIZE, 8);

    KvmVm(VmFd vm) {
        this.vm = vm;
        try {
            vm.setIdentityMapAddr(IDENTITY_MAP_GPA);
            vm.setTssAddr(TSS_GPA);
            vm.createIrqchip();
            vm.setGsiRouting(pcRoutes);
            vm.createPit2();
        } catch (RuntimeException e) {
            vm.close();
            throw e;
        }
    }

    /**
     * The PC's GSI routing, which the MADT describes: GSIs 0-15 to the 8259A inputs of the same number (no route for
     * the cascade, 2), and to the IOAPIC pins of the same number, except that GSI 0 (the PIT) arrives on IOAPIC pin 2
     * (the "ISA IRQ 0 -> GSI 2" source override). KVM's default table sends GSI 0 to pin 0, where no PC guest looks
     * for its timer.
     */
    static java.util.List<VmFd.GsiRoute> pcGsiRouting() {
        java.util.List<VmFd.GsiRoute> routes = new java.util.ArrayList<>();
        for (int gsi = 0; gsi < 16; gsi++) {
            if (gsi != 2) {
                routes.add(new VmFd.GsiRoute.Irqchip(gsi, gsi < 8 ? KvmAbi.KVM_IRQCHIP_PIC_MASTER
                        : KvmAbi.KVM_IRQCHIP_PIC_SLAVE, gsi % 8));
            }
        }
        for (int gsi = 0; gsi < 24; gsi++) {
            if (gsi != 2) {
                routes.add(new VmFd.GsiRoute.Irqchip(gsi, KvmAbi.KVM_IRQCHIP_IOAPIC, gsi == 0 ? 2 : gsi));
            }
        }
        return routes;
    }

    VmFd fd() {
        return vm;
    }

    @Override
    public void setMemory(GuestMemory memory) {
        for (MemoryRegion r : memory.regions()) {
            vm.setUserMemoryRegion(r.slot(), 0, r.gpa(), r.sizeBytes(), r.hva());
        }
    }

    @Override
    public Vcpu createVcpu(int index) {
        VcpuFd vcpu = vm.createVcpu(index);
        try {
            setLocalInterruptPins(vcpu);
        } catch (RuntimeException e) {
            vcpu.close();
            throw e;
        }
        return new KvmVcpu(vcpu);
    }

    /**
     * Programs LVT LINT0 as ExtINT (the 8259's output, "virtual wire" mode) and LINT1 as NMI, as PC firmware does
     * before handing over; Linux relies on it to use the PIC before it switches to the IOAPIC.
     */
    private static void setLocalInterruptPins(VcpuFd vcpu) {
        byte[] lapic = vcpu.getLapic();
        ByteBuffer regs = ByteBuffer.wrap(lapic).order(ByteOrder.LITTLE_ENDIAN);
        regs.putInt(APIC_LVT_LINT0, (regs.getInt(APIC_LVT_LINT0) & ~APIC_LVT_MODE_MASK) | APIC_MODE_EXTINT);
        regs.putInt(APIC_LVT_LINT1, (regs.getInt(APIC_LVT_LINT1) & ~APIC_LVT_MODE_MASK) | APIC_MODE_NMI);
        vcpu.setLapic(lapic);
    }

    private static final int APIC_LVT_LINT0 = 0x350;
    private static final int APIC_LVT_LINT1 = 0x360;
    private static final int APIC_LVT_MODE_MASK = 0x700;
    private static final int APIC_MODE_NMI = 0x400;
    private static final int APIC_MODE_EXTINT = 0x700;

    @Override
    public void setIrqLine(int gsi, boolean level) {
        vm.irqLine(gsi, level);
    }

    @Override
    public void signalMsi(long address, int data) {
        synchronized (msi) {
            msi.set(ValueLayout.JAVA_INT, 0, (int) address);
            msi.set(ValueLayout.JAVA_INT, 4, (int) (address >>> 32));
            msi.set(ValueLayout.JAVA_INT, 8, data);
            vm.signalMsi(msi);
        }
    }

    /** GSIs above the IOAPIC's 24 inputs carry MSI routes. */
    static final int FIRST_MSI_GSI = 24;
    /** KVM_MAX_IRQ_ROUTES (include/linux/kvm_host.h on x86): the routing table's size limit. */
    static final int MAX_ROUTES = 4096;

    @Override
    public boolean supportsMsiRoutes() {
        return true;
    }

    @Override
    public synchronized int allocateMsiGsi() {
        if (pcRoutes.size() + msiRoutes.size() >= MAX_ROUTES || nextMsiGsi >= MAX_ROUTES) {
            throw new IllegalStateException("KVM's GSI routing table is full");
        }
        return nextMsiGsi++;
    }

    /** Adds or replaces the MSI route of {@code gsi}: KVM_SET_GSI_ROUTING with the whole table (api.rst 4.52). */
    @Override
    public synchronized void setMsiRoute(int gsi, long address, int data) {
        if (gsi < FIRST_MSI_GSI || gsi >= nextMsiGsi) {
            throw new IllegalArgumentException("GSI " + gsi + " was not allocated for MSI");
        }
        msiRoutes.put(gsi, new VmFd.GsiRoute.Msi(gsi, address, data));
        java.util.List<VmFd.GsiRoute> all = new java.util.ArrayList<>(pcRoutes);
        all.addAll(msiRoutes.values());
        vm.setGsiRouting(all);
    }

    @Override
    public void irqfd(int eventFd, int gsi, boolean assign) {
        vm.irqfd(eventFd, gsi, !assign);
    }

    @Override
    public boolean ioEventFd(long gpa, int length, int eventFd, boolean assign) {
        vm.ioeventfd(gpa, length, false, null, eventFd, !assign);
        return true;
    }

    @Override
    public IrqchipState getIrqchip() {
        return new IrqchipState(vm.getPic(KvmAbi.KVM_IRQCHIP_PIC_MASTER), vm.getPic(KvmAbi.KVM_IRQCHIP_PIC_SLAVE),
                vm.getIoApic());
    }

    @Override
    public void setIrqchip(IrqchipState state) {
        vm.setPic(KvmAbi.KVM_IRQCHIP_PIC_MASTER, state.master());
        vm.setPic(KvmAbi.KVM_IRQCHIP_PIC_SLAVE, state.slave());
        vm.setIoApic(state.ioapic());
    }

    @Override
    public PitState getPit() {
        return vm.getPit2();
    }

    @Override
    public void setPit(PitState state) {
        vm.setPit2(state);
    }

    @Override
    public long getClockNanos() {
        return vm.getClock();
    }

    @Override
    public void setClockNanos(long nanos) {
        vm.setClock(nanos);
    }

    @Override
    public void close() {
        vm.close();
    }
}
