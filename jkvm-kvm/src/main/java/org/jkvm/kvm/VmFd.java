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
