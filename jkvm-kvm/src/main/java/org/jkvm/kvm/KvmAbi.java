package org.jkvm.kvm;

/**
 * Sizes and field offsets of the KVM structures jkvm exchanges with the kernel, for x86_64
 * (include/uapi/linux/kvm.h, arch/x86/include/uapi/asm/kvm.h). {@code KvmAbiTest} compiles the kernel headers with
 * gcc and checks every value here against {@code sizeof}/{@code offsetof}.
 */
public final class KvmAbi {
    public static final int KVM_API_VERSION = 12;

    // Capabilities (KVM_CAP_*) jkvm checks.
    public static final int KVM_CAP_IRQCHIP = 0;
    public static final int KVM_CAP_HLT = 1;
    public static final int KVM_CAP_USER_MEMORY = 3;
    public static final int KVM_CAP_SET_TSS_ADDR = 4;
    public static final int KVM_CAP_EXT_CPUID = 7;
    public static final int KVM_CAP_NR_VCPUS = 9;
    public static final int KVM_CAP_MP_STATE = 14;
    public static final int KVM_CAP_PIT2 = 33;
    public static final int KVM_CAP_IOEVENTFD = 36;
    public static final int KVM_CAP_SET_IDENTITY_MAP_ADDR = 37;
    public static final int KVM_CAP_IRQFD = 32;
    public static final int KVM_CAP_TSC_DEADLINE_TIMER = 72;
    public static final int KVM_CAP_MAX_VCPUS = 66;
    public static final int KVM_CAP_IMMEDIATE_EXIT = 136;
    public static final int KVM_CAP_IRQ_ROUTING = 25;
    public static final int KVM_CAP_SIGNAL_MSI = 77;

    // Exit reasons (kvm_run.exit_reason).
    public static final int KVM_EXIT_UNKNOWN = 0;
    public static final int KVM_EXIT_EXCEPTION = 1;
    public static final int KVM_EXIT_IO = 2;
    public static final int KVM_EXIT_HLT = 5;
    public static final int KVM_EXIT_MMIO = 6;
    public static final int KVM_EXIT_IRQ_WINDOW_OPEN = 7;
    public static final int KVM_EXIT_SHUTDOWN = 8;
    public static final int KVM_EXIT_FAIL_ENTRY = 9;
    public static final int KVM_EXIT_INTR = 10;
    public static final int KVM_EXIT_INTERNAL_ERROR = 17;
    public static final int KVM_EXIT_SYSTEM_EVENT = 24;

    public static final int KVM_EXIT_IO_IN = 0;
    public static final int KVM_EXIT_IO_OUT = 1;
    public static final int KVM_SYSTEM_EVENT_SHUTDOWN = 1;
    public static final int KVM_SYSTEM_EVENT_RESET = 2;
    public static final int KVM_SYSTEM_EVENT_CRASH = 3;

    // struct kvm_run
    public static final long RUN_IMMEDIATE_EXIT = 1;
    public static final long RUN_EXIT_REASON = 8;
    public static final long RUN_IO_DIRECTION = 32;
    public static final long RUN_IO_SIZE = 33;
    public static final long RUN_IO_PORT = 34;
    public static final long RUN_IO_COUNT = 36;
    public static final long RUN_IO_DATA_OFFSET = 40;
    public static final long RUN_MMIO_PHYS_ADDR = 32;
    public static final long RUN_MMIO_DATA = 40;
    public static final long RUN_MMIO_LEN = 48;
    public static final long RUN_MMIO_IS_WRITE = 52;
    public static final long RUN_INTERNAL_SUBERROR = 32;
    public static final long RUN_INTERNAL_NDATA = 36;
    public static final long RUN_INTERNAL_DATA = 40;
    public static final long RUN_FAIL_ENTRY_REASON = 32;
    public static final long RUN_FAIL_ENTRY_CPU = 40;
    public static final long RUN_SYSTEM_EVENT_TYPE = 32;

    // struct sizes
    /** struct kvm_irqchip: chip_id, pad, a 512-byte union (kvm_pic_state or kvm_ioapic_state). */
    public static final int KVM_IRQCHIP_SIZE = 520;
    /** struct kvm_pit_state2: three 24-byte kvm_pit_channel_state, flags, 9 reserved words. */
    public static final int KVM_PIT_STATE2_SIZE = 112;
    public static final int KVM_PIT_CHANNEL_STATE_SIZE = 24;
    public static final int KVM_PIT_FLAGS_SPEAKER_DATA_ON = 2;
    /** struct kvm_clock_data: clock, flags, pad0, realtime, host_tsc, pad[4]. */
    public static final int KVM_CLOCK_DATA_SIZE = 48;
    /** struct kvm_vcpu_events (exception, interrupt, nmi, sipi_vector, flags, smi, triple_fault, payload). */
    public static final int KVM_VCPU_EVENTS_SIZE = 64;
    public static final int KVM_VCPUEVENT_VALID_NMI_PENDING = 1;
    public static final int KVM_VCPUEVENT_VALID_SIPI_VECTOR = 2;
    public static final int KVM_VCPUEVENT_VALID_SHADOW = 4;
    /** struct kvm_xsave: the 4 KiB legacy XSAVE region. */
    public static final int KVM_XSAVE_SIZE = 4096;
    public static final int KVM_REGS_SIZE = 144;
    public static final int KVM_SEGMENT_SIZE = 24;
    public static final int KVM_DTABLE_SIZE = 16;
    public static final int KVM_SREGS_SIZE = 312;
    public static final int KVM_FPU_SIZE = 416;
    public static final int KVM_MSRS_HEADER_SIZE = 8;
    public static final int KVM_MSR_ENTRY_SIZE = 16;
    public static final int KVM_CPUID2_HEADER_SIZE = 8;
    public static final int KVM_CPUID_ENTRY2_SIZE = 40;
    public static final int KVM_USERSPACE_MEMORY_REGION_SIZE = 32;
    public static final int KVM_IRQ_LEVEL_SIZE = 8;
    public static final int KVM_PIT_CONFIG_SIZE = 64;
    public static final int KVM_IOEVENTFD_SIZE = 64;
    public static final int KVM_IRQFD_SIZE = 32;
    public static final int KVM_LAPIC_STATE_SIZE = 1024;
    public static final int KVM_IRQ_ROUTING_HEADER_SIZE = 8;
    public static final int KVM_IRQ_ROUTING_ENTRY_SIZE = 48;
    public static final int KVM_MSI_SIZE = 32;

    // struct kvm_ioeventfd flags
    public static final int KVM_IOEVENTFD_FLAG_DATAMATCH = 1;
    public static final int KVM_IOEVENTFD_FLAG_PIO = 1 << 1;
    public static final int KVM_IOEVENTFD_FLAG_DEASSIGN = 1 << 2;
    // struct kvm_irqfd flags
    public static final int KVM_IRQFD_FLAG_DEASSIGN = 1;
    // struct kvm_irq_routing_entry types
    public static final int KVM_IRQ_ROUTING_IRQCHIP = 1;
    public static final int KVM_IRQ_ROUTING_MSI = 2;
    public static final int KVM_IRQCHIP_PIC_MASTER = 0;
    public static final int KVM_IRQCHIP_PIC_SLAVE = 1;
    public static final int KVM_IRQCHIP_IOAPIC = 2;

    // struct kvm_sregs offsets
    public static final long SREGS_CS = 0;
    public static final long SREGS_GDT = 192;
    public static final long SREGS_IDT = 208;
    public static final long SREGS_CR0 = 224;
    public static final long SREGS_INTERRUPT_BITMAP = 280;
    // struct kvm_fpu offsets
    public static final long FPU_FCW = 128;
    public static final long FPU_FSW = 130;
    public static final long FPU_FTWX = 132;
    public static final long FPU_LAST_OPCODE = 134;
    public static final long FPU_LAST_IP = 136;
    public static final long FPU_LAST_DP = 144;
    public static final long FPU_XMM = 152;
    public static final long FPU_MXCSR = 408;

    public static final int KVM_PIT_SPEAKER_DUMMY = 1;

    private KvmAbi() {}
}
