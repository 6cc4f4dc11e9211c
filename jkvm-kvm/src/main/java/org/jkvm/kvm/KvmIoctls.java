package org.jkvm.kvm;

import static org.jkvm.sys.Ioctl.io;
import static org.jkvm.sys.Ioctl.ior;
import static org.jkvm.sys.Ioctl.iow;
import static org.jkvm.sys.Ioctl.iowr;

/**
 * KVM ioctl request numbers under the kernel's names (include/uapi/linux/kvm.h; Documentation/virt/kvm/api.rst
 * section 4 documents each). Sizes come from {@link KvmAbi}; {@code KvmAbiTest} checks all of them against the
 * kernel headers compiled by gcc.
 */
public final class KvmIoctls {
    private static final int KVMIO = 0xAE;

    // System ioctls (on /dev/kvm).
    public static final long KVM_GET_API_VERSION = io(KVMIO, 0x00);
    public static final long KVM_CREATE_VM = io(KVMIO, 0x01);
    public static final long KVM_GET_MSR_INDEX_LIST = iowr(KVMIO, 0x02, 4);
    public static final long KVM_CHECK_EXTENSION = io(KVMIO, 0x03);
    public static final long KVM_GET_VCPU_MMAP_SIZE = io(KVMIO, 0x04);
    public static final long KVM_GET_SUPPORTED_CPUID = iowr(KVMIO, 0x05, KvmAbi.KVM_CPUID2_HEADER_SIZE);

    // VM ioctls.
    public static final long KVM_CREATE_VCPU = io(KVMIO, 0x41);
    public static final long KVM_SET_USER_MEMORY_REGION = iow(KVMIO, 0x46, KvmAbi.KVM_USERSPACE_MEMORY_REGION_SIZE);
    public static final long KVM_SET_TSS_ADDR = io(KVMIO, 0x47);
    public static final long KVM_SET_IDENTITY_MAP_ADDR = iow(KVMIO, 0x48, 8);
    public static final long KVM_CREATE_IRQCHIP = io(KVMIO, 0x60);
    public static final long KVM_IRQ_LINE = iow(KVMIO, 0x61, KvmAbi.KVM_IRQ_LEVEL_SIZE);
    public static final long KVM_IRQFD = iow(KVMIO, 0x76, KvmAbi.KVM_IRQFD_SIZE);
    public static final long KVM_CREATE_PIT2 = iow(KVMIO, 0x77, KvmAbi.KVM_PIT_CONFIG_SIZE);
    public static final long KVM_IOEVENTFD = iow(KVMIO, 0x79, KvmAbi.KVM_IOEVENTFD_SIZE);
    public static final long KVM_SET_GSI_ROUTING = iow(KVMIO, 0x6a, KvmAbi.KVM_IRQ_ROUTING_HEADER_SIZE);
    public static final long KVM_SIGNAL_MSI = iow(KVMIO, 0xa5, KvmAbi.KVM_MSI_SIZE);

    public static final long KVM_GET_IRQCHIP = iowr(KVMIO, 0x62, KvmAbi.KVM_IRQCHIP_SIZE);
    public static final long KVM_SET_IRQCHIP = ior(KVMIO, 0x63, KvmAbi.KVM_IRQCHIP_SIZE);
    public static final long KVM_SET_CLOCK = iow(KVMIO, 0x7b, KvmAbi.KVM_CLOCK_DATA_SIZE);
    public static final long KVM_GET_CLOCK = ior(KVMIO, 0x7c, KvmAbi.KVM_CLOCK_DATA_SIZE);
    public static final long KVM_GET_PIT2 = ior(KVMIO, 0x9f, KvmAbi.KVM_PIT_STATE2_SIZE);
    public static final long KVM_SET_PIT2 = iow(KVMIO, 0xa0, KvmAbi.KVM_PIT_STATE2_SIZE);

    // vCPU ioctls.
    public static final long KVM_RUN = io(KVMIO, 0x80);
    public static final long KVM_GET_REGS = ior(KVMIO, 0x81, KvmAbi.KVM_REGS_SIZE);
    public static final long KVM_SET_REGS = iow(KVMIO, 0x82, KvmAbi.KVM_REGS_SIZE);
    public static final long KVM_GET_SREGS = ior(KVMIO, 0x83, KvmAbi.KVM_SREGS_SIZE);
    public static final long KVM_SET_SREGS = iow(KVMIO, 0x84, KvmAbi.KVM_SREGS_SIZE);
    public static final long KVM_GET_MSRS = iowr(KVMIO, 0x88, KvmAbi.KVM_MSRS_HEADER_SIZE);
    public static final long KVM_SET_MSRS = iow(KVMIO, 0x89, KvmAbi.KVM_MSRS_HEADER_SIZE);
    public static final long KVM_GET_FPU = ior(KVMIO, 0x8c, KvmAbi.KVM_FPU_SIZE);
    public static final long KVM_SET_FPU = iow(KVMIO, 0x8d, KvmAbi.KVM_FPU_SIZE);
    public static final long KVM_GET_LAPIC = ior(KVMIO, 0x8e, KvmAbi.KVM_LAPIC_STATE_SIZE);
    public static final long KVM_SET_LAPIC = iow(KVMIO, 0x8f, KvmAbi.KVM_LAPIC_STATE_SIZE);
    public static final long KVM_SET_CPUID2 = iow(KVMIO, 0x90, KvmAbi.KVM_CPUID2_HEADER_SIZE);
    public static final long KVM_GET_MP_STATE = ior(KVMIO, 0x98, 4);
    public static final long KVM_SET_MP_STATE = iow(KVMIO, 0x99, 4);
    public static final long KVM_GET_VCPU_EVENTS = ior(KVMIO, 0x9f, KvmAbi.KVM_VCPU_EVENTS_SIZE);
    public static final long KVM_SET_VCPU_EVENTS = iow(KVMIO, 0xa0, KvmAbi.KVM_VCPU_EVENTS_SIZE);
    public static final long KVM_GET_XSAVE = ior(KVMIO, 0xa4, KvmAbi.KVM_XSAVE_SIZE);
    public static final long KVM_SET_XSAVE = iow(KVMIO, 0xa5, KvmAbi.KVM_XSAVE_SIZE);
    public static final long KVM_GET_TSC_KHZ = io(KVMIO, 0xa3);

    private KvmIoctls() {}
}
