package org.jkvm.kvm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import org.jkvm.sys.Libc;

/** A KVM VM file descriptor (api.rst section 4: VM ioctls). */
public final class VmFd implements AutoCloseable {
    private final Kvm kvm;
    private final int fd;
    // KVM_IRQ_LINE is called from vCPU threads (device interrupts): one argument buffer per thread, no allocation.
    private final ThreadLocal<MemorySegment> irqLevel = ThreadLocal.withInitial(
            () -> Arena.ofAuto().allocate(KvmAbi.KVM_IRQ_LEVEL_SIZE, 4));

    VmFd(Kvm kvm, int fd) {
        this.kvm = kvm;
        this.fd = fd;
    }

    public int fd() {
        return fd;
    }

    public Kvm kvm() {
        return kvm;
    }

    /** KVM_SET_USER_MEMORY_REGION: guest-physical {@code gpa} of {@code sizeBytes} backed by host {@code hva}. */
    public void setUserMemoryRegion(int slot, int flags, long gpa, long sizeBytes, long hva) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment r = arena.allocate(KvmAbi.KVM_USERSPACE_MEMORY_REGION_SIZE, 8);
            r.set(ValueLayout.JAVA_INT, 0, slot);
            r.set(ValueLayout.JAVA_INT, 4, flags);
            r.set(ValueLayout.JAVA_LONG, 8, gpa);
            r.set(ValueLayout.JAVA_LONG, 16, sizeBytes);
            r.set(ValueLayout.JAVA_LONG, 24, hva);
            Libc.ioctl(fd, KvmIoctls.KVM_SET_USER_MEMORY_REGION, r, "KVM_SET_USER_MEMORY_REGION");
        }
    }

    /** KVM_SET_TSS_ADDR: three pages the Intel VMX real-mode emulation needs, outside RAM. */
    public void setTssAddr(long gpa) {
        Libc.ioctl(fd, KvmIoctls.KVM_SET_TSS_ADDR, gpa, "KVM_SET_TSS_ADDR");
    }

    /** KVM_SET_IDENTITY_MAP_ADDR: one page for VMX's real-mode identity map, outside RAM. */
    public void setIdentityMapAddr(long gpa) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = arena.allocate(ValueLayout.JAVA_LONG);
            a.set(ValueLayout.JAVA_LONG, 0, gpa);
            Libc.ioctl(fd, KvmIoctls.KVM_SET_IDENTITY_MAP_ADDR, a, "KVM_SET_IDENTITY_MAP_ADDR");
        }
    }

    /** KVM_CREATE_IRQCHIP: in-kernel PIC pair, IOAPIC and a LAPIC per vCPU. Must precede vCPU creation. */
    public void createIrqchip() {
        Libc.ioctl(fd, KvmIoctls.KVM_CREATE_IRQCHIP, 0, "KVM_CREATE_IRQCHIP");
    }

    /** KVM_CREATE_PIT2: in-kernel i8254 PIT, with a dummy port 0x61 speaker. */
    public void createPit2() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment c = arena.allocate(KvmAbi.KVM_PIT_CONFIG_SIZE, 4);
            c.set(ValueLayout.JAVA_INT, 0, KvmAbi.KVM_PIT_SPEAKER_DUMMY);
            Libc.ioctl(fd, KvmIoctls.KVM_CREATE_PIT2, c, "KVM_CREATE_PIT2");
        }
    }

    /** KVM_IRQ_LINE: drives GSI {@code gsi} of the in-kernel irqchip. Allocation-free. */
    public void irqLine(int gsi, boolean level) {
        MemorySegment a = irqLevel.get();
        a.set(ValueLayout.JAVA_INT, 0, gsi);
        a.set(ValueLayout.JAVA_INT, 4, level ? 1 : 0);
        Libc.ioctl(fd, KvmIoctls.KVM_IRQ_LINE, a.address(), "KVM_IRQ_LINE");
    }

    /**
     * KVM_IOEVENTFD: a guest write of {@code length} bytes (0 = any) to {@code addr} (a port when {@code pio}, else
     * MMIO) signals {@code eventfd} inside the kernel, with no exit to jkvm (api.rst 4.59). With {@code dataMatch}
     * non-null only writes of that value match.
     */
    public void ioeventfd(long addr, int length, boolean pio, Long dataMatch, int eventfd, boolean deassign) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment e = arena.allocate(KvmAbi.KVM_IOEVENTFD_SIZE, 8);
            int flags = (pio ? KvmAbi.KVM_IOEVENTFD_FLAG_PIO : 0)
                    | (dataMatch != null ? KvmAbi.KVM_IOEVENTFD_FLAG_DATAMATCH : 0)
                    | (deassign ? KvmAbi.KVM_IOEVENTFD_FLAG_DEASSIGN : 0);
            e.set(ValueLayout.JAVA_LONG, 0, dataMatch != null ? dataMatch : 0);
            e.set(ValueLayout.JAVA_LONG, 8, addr);
            e.set(ValueLayout.JAVA_INT, 16, length);
            e.set(ValueLayout.JAVA_INT, 20, eventfd);
            e.set(ValueLayout.JAVA_INT, 24, flags);
            Libc.ioctl(fd, KvmIoctls.KVM_IOEVENTFD, e, "KVM_IOEVENTFD");
        }
    }

    /**
     * KVM_IRQFD: a write to {@code eventfd} raises (edge) GSI {@code gsi} inside the kernel (api.rst 4.75); with
     * {@code deassign} the binding is removed.
     */
    public void irqfd(int eventfd, int gsi, boolean deassign) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment e = arena.allocate(KvmAbi.KVM_IRQFD_SIZE, 8);
            e.set(ValueLayout.JAVA_INT, 0, eventfd);
            e.set(ValueLayout.JAVA_INT, 4, gsi);
            e.set(ValueLayout.JAVA_INT, 8, deassign ? KvmAbi.KVM_IRQFD_FLAG_DEASSIGN : 0);
            Libc.ioctl(fd, KvmIoctls.KVM_IRQFD, e, "KVM_IRQFD");
        }
    }

    /** One GSI routing entry: to a pin of the PIC/IOAPIC, or an MSI message. */
    public sealed interface GsiRoute {
        int gsi();

        record Irqchip(int gsi, int irqchip, int pin) implements GsiRoute {}

        record Msi(int gsi, long address, int data) implements GsiRoute {}
    }

    /** KVM_SET_GSI_ROUTING: replaces the whole routing table (api.rst 4.52). */
    public void setGsiRouting(java.util.List<GsiRoute> routes) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment t = arena.allocate(KvmAbi.KVM_IRQ_ROUTING_HEADER_SIZE
                    + (long) routes.size() * KvmAbi.KVM_IRQ_ROUTING_ENTRY_SIZE, 8);
            t.set(ValueLayout.JAVA_INT, 0, routes.size());
            for (int i = 0; i < routes.size(); i++) {
                long o = KvmAbi.KVM_IRQ_ROUTING_HEADER_SIZE + (long) i * KvmAbi.KVM_IRQ_ROUTING_ENTRY_SIZE;
                GsiRoute r = routes.get(i);
                t.set(ValueLayout.JAVA_INT, o, r.gsi());
                switch (r) {
                    case GsiRoute.Irqchip c -> {
                        t.set(ValueLayout.JAVA_INT, o + 4, KvmAbi.KVM_IRQ_ROUTING_IRQCHIP);
                        t.set(ValueLayout.JAVA_INT, o + 16, c.irqchip());
                        t.set(ValueLayout.JAVA_INT, o + 20, c.pin());
                    }
                    case GsiRoute.Msi m -> {
                        t.set(ValueLayout.JAVA_INT, o + 4, KvmAbi.KVM_IRQ_ROUTING_MSI);
                        t.set(ValueLayout.JAVA_INT, o + 16, (int) m.address());
                        t.set(ValueLayout.JAVA_INT, o + 20, (int) (m.address() >>> 32));
                        t.set(ValueLayout.JAVA_INT, o + 24, m.data());
                    }
                }
            }
            Libc.ioctl(fd, KvmIoctls.KVM_SET_GSI_ROUTING, t, "KVM_SET_GSI_ROUTING");
        }
    }

    /**
     * KVM_SIGNAL_MSI: injects one MSI (api.rst 4.71). Returns true if it was delivered, false if the guest blocked
     * it (e.g. masked or no matching destination).
     */
    public boolean signalMsi(long address, int data) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(KvmAbi.KVM_MSI_SIZE, 8);
            m.set(ValueLayout.JAVA_INT, 0, (int) address);
            m.set(ValueLayout.JAVA_INT, 4, (int) (address >>> 32));
            m.set(ValueLayout.JAVA_INT, 8, data);
            return Libc.ioctl(fd, KvmIoctls.KVM_SIGNAL_MSI, m, "KVM_SIGNAL_MSI") > 0;
        }
    }

    /**
     * KVM_SIGNAL_MSI with a caller-owned {@code struct kvm_msi} of {@link KvmAbi#KVM_MSI_SIZE} bytes (address_lo,
     * address_hi, data at 0, 4, 8; the rest zero), so that a hot path allocates nothing. Returns true if delivered.
     */
    public boolean signalMsi(MemorySegment kvmMsi) {
        return Libc.ioctl(fd, KvmIoctls.KVM_SIGNAL_MSI, kvmMsi, "KVM_SIGNAL_MSI") > 0;
    }

    /** KVM_GET_IRQCHIP for one PIC ({@code chip} 0 master, 1 slave). */
    public org.jkvm.hypervisor.state.PicState getPic(int chip) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = arena.allocate(KvmAbi.KVM_IRQCHIP_SIZE, 8);
            b.set(ValueLayout.JAVA_INT, 0, chip);
            Libc.ioctl(fd, KvmIoctls.KVM_GET_IRQCHIP, b, "KVM_GET_IRQCHIP");
            return KvmStateStructs.decodePic(b);
        }
    }

    /** KVM_SET_IRQCHIP for one PIC. */
    public void setPic(int chip, org.jkvm.hypervisor.state.PicState pic) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = arena.allocate(KvmAbi.KVM_IRQCHIP_SIZE, 8);
            b.set(ValueLayout.JAVA_INT, 0, chip);
            KvmStateStructs.encodePic(pic, b);
            Libc.ioctl(fd, KvmIoctls.KVM_SET_IRQCHIP, b, "KVM_SET_IRQCHIP");
        }
    }

    /** KVM_GET_IRQCHIP for the IOAPIC. */
    public org.jkvm.hypervisor.state.IoApicState getIoApic() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = arena.allocate(KvmAbi.KVM_IRQCHIP_SIZE, 8);
            b.set(ValueLayout.JAVA_INT, 0, KvmAbi.KVM_IRQCHIP_IOAPIC);
            Libc.ioctl(fd, KvmIoctls.KVM_GET_IRQCHIP, b, "KVM_GET_IRQCHIP");
            return KvmStateStructs.decodeIoApic(b);
        }
    }

    /** KVM_SET_IRQCHIP for the IOAPIC. */
    public void setIoApic(org.jkvm.hypervisor.state.IoApicState ioapic) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = arena.allocate(KvmAbi.KVM_IRQCHIP_SIZE, 8);
            b.set(ValueLayout.JAVA_INT, 0, KvmAbi.KVM_IRQCHIP_IOAPIC);
            KvmStateStructs.encodeIoApic(ioapic, b);
            Libc.ioctl(fd, KvmIoctls.KVM_SET_IRQCHIP, b, "KVM_SET_IRQCHIP");
        }
    }

    /** KVM_GET_PIT2; load times become ages as of now (CLOCK_MONOTONIC, as the kernel's ktime). */
    public org.jkvm.hypervisor.state.PitState getPit2() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = arena.allocate(KvmAbi.KVM_PIT_STATE2_SIZE, 8);
            Libc.ioctl(fd, KvmIoctls.KVM_GET_PIT2, b, "KVM_GET_PIT2");
            return KvmStateStructs.decodePit(b, System.nanoTime());
        }
    }

    /** KVM_SET_PIT2. */
    public void setPit2(org.jkvm.hypervisor.state.PitState pit) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = arena.allocate(KvmAbi.KVM_PIT_STATE2_SIZE, 8);
            KvmStateStructs.encodePit(pit, b, System.nanoTime());
            Libc.ioctl(fd, KvmIoctls.KVM_SET_PIT2, b, "KVM_SET_PIT2");
        }
    }

    /** KVM_GET_CLOCK: the kvmclock value in nanoseconds. */
    public long getClock() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = arena.allocate(KvmAbi.KVM_CLOCK_DATA_SIZE, 8);
            Libc.ioctl(fd, KvmIoctls.KVM_GET_CLOCK, b, "KVM_GET_CLOCK");
            return b.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    /** KVM_SET_CLOCK: sets the kvmclock to {@code nanos} (no flags). */
    public void setClock(long nanos) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = arena.allocate(KvmAbi.KVM_CLOCK_DATA_SIZE, 8);
            b.set(ValueLayout.JAVA_LONG, 0, nanos);
            Libc.ioctl(fd, KvmIoctls.KVM_SET_CLOCK, b, "KVM_SET_CLOCK");
        }
    }

    /** KVM_CREATE_VCPU with vCPU id {@code id} (the initial APIC ID); maps its kvm_run. */
    public VcpuFd createVcpu(int id) {
        int vcpuFd = Libc.ioctl(fd, KvmIoctls.KVM_CREATE_VCPU, id, "KVM_CREATE_VCPU");
        return new VcpuFd(id, vcpuFd, kvm.vcpuMmapSize());
    }

    @Override
    public void close() {
        Libc.close(fd);
    }
}
