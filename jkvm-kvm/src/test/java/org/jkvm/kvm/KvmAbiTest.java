package org.jkvm.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Checks every struct size, field offset and ioctl number jkvm uses against the kernel's own headers: a C program
 * that includes linux/kvm.h is compiled with gcc and prints them.
 */
class KvmAbiTest {
    private static final Map<String, Long> KERNEL = new HashMap<>();

    @BeforeAll
    static void compileHeaders() throws Exception {
        boolean haveGcc = Files.isExecutable(Path.of("/usr/bin/gcc"))
                && Files.exists(Path.of("/usr/include/linux/kvm.h"));
        if (!"true".equals(System.getenv("CI"))) {
            assumeTrue(haveGcc, "gcc or the kernel headers are missing");
        }
        Path dir = Files.createTempDirectory("jkvm-abi");
        String c = """
                #include <linux/kvm.h>
                #include <stddef.h>
                #include <stdio.h>
                #define P(n, v) printf("%s %llu\\n", n, (unsigned long long)(v))
                int main(void) {
                  P("KVM_GET_API_VERSION", KVM_GET_API_VERSION); P("KVM_CREATE_VM", KVM_CREATE_VM);
                  P("KVM_GET_MSR_INDEX_LIST", KVM_GET_MSR_INDEX_LIST); P("KVM_CHECK_EXTENSION", KVM_CHECK_EXTENSION);
                  P("KVM_GET_VCPU_MMAP_SIZE", KVM_GET_VCPU_MMAP_SIZE); P("KVM_GET_SUPPORTED_CPUID", KVM_GET_SUPPORTED_CPUID);
                  P("KVM_CREATE_VCPU", KVM_CREATE_VCPU); P("KVM_SET_USER_MEMORY_REGION", KVM_SET_USER_MEMORY_REGION);
                  P("KVM_SET_TSS_ADDR", KVM_SET_TSS_ADDR); P("KVM_SET_IDENTITY_MAP_ADDR", KVM_SET_IDENTITY_MAP_ADDR);
                  P("KVM_CREATE_IRQCHIP", KVM_CREATE_IRQCHIP); P("KVM_IRQ_LINE", KVM_IRQ_LINE); P("KVM_IRQFD", KVM_IRQFD);
                  P("KVM_CREATE_PIT2", KVM_CREATE_PIT2); P("KVM_IOEVENTFD", KVM_IOEVENTFD); P("KVM_RUN", KVM_RUN);
                  P("KVM_GET_REGS", KVM_GET_REGS); P("KVM_SET_REGS", KVM_SET_REGS); P("KVM_GET_SREGS", KVM_GET_SREGS);
                  P("KVM_SET_SREGS", KVM_SET_SREGS); P("KVM_GET_MSRS", KVM_GET_MSRS); P("KVM_SET_MSRS", KVM_SET_MSRS);
                  P("KVM_GET_FPU", KVM_GET_FPU); P("KVM_SET_FPU", KVM_SET_FPU); P("KVM_GET_LAPIC", KVM_GET_LAPIC);
                  P("KVM_SET_LAPIC", KVM_SET_LAPIC); P("KVM_SET_CPUID2", KVM_SET_CPUID2); P("KVM_GET_MP_STATE", KVM_GET_MP_STATE);
                  P("KVM_SET_MP_STATE", KVM_SET_MP_STATE); P("KVM_GET_TSC_KHZ", KVM_GET_TSC_KHZ);
                  P("KVM_SET_GSI_ROUTING", KVM_SET_GSI_ROUTING); P("KVM_SIGNAL_MSI", KVM_SIGNAL_MSI);
                  P("sizeof kvm_irq_routing", sizeof(struct kvm_irq_routing));
                  P("sizeof kvm_irq_routing_entry", sizeof(struct kvm_irq_routing_entry));
                  P("sizeof kvm_msi", sizeof(struct kvm_msi));
                  P("ioeventfd.addr", offsetof(struct kvm_ioeventfd, addr)); P("ioeventfd.len", offsetof(struct kvm_ioeventfd, len));
                  P("ioeventfd.fd", offsetof(struct kvm_ioeventfd, fd)); P("ioeventfd.flags", offsetof(struct kvm_ioeventfd, flags));
                  P("irqfd.gsi", offsetof(struct kvm_irqfd, gsi)); P("irqfd.flags", offsetof(struct kvm_irqfd, flags));
                  P("routing.u", offsetof(struct kvm_irq_routing_entry, u)); P("routing.type", offsetof(struct kvm_irq_routing_entry, type));
                  P("msi.data", offsetof(struct kvm_msi, data));
                  P("KVM_IOEVENTFD_FLAG_DATAMATCH", KVM_IOEVENTFD_FLAG_DATAMATCH); P("KVM_IOEVENTFD_FLAG_PIO", KVM_IOEVENTFD_FLAG_PIO);
                  P("KVM_IOEVENTFD_FLAG_DEASSIGN", KVM_IOEVENTFD_FLAG_DEASSIGN); P("KVM_IRQFD_FLAG_DEASSIGN", KVM_IRQFD_FLAG_DEASSIGN);
                  P("KVM_IRQ_ROUTING_IRQCHIP", KVM_IRQ_ROUTING_IRQCHIP); P("KVM_IRQ_ROUTING_MSI", KVM_IRQ_ROUTING_MSI);
                  P("KVM_IRQCHIP_IOAPIC", KVM_IRQCHIP_IOAPIC); P("KVM_CAP_IRQ_ROUTING", KVM_CAP_IRQ_ROUTING);
                  P("KVM_CAP_SIGNAL_MSI", KVM_CAP_SIGNAL_MSI);
                  P("sizeof kvm_regs", sizeof(struct kvm_regs)); P("sizeof kvm_segment", sizeof(struct kvm_segment));
                  P("sizeof kvm_dtable", sizeof(struct kvm_dtable)); P("sizeof kvm_sregs", sizeof(struct kvm_sregs));
                  P("sizeof kvm_fpu", sizeof(struct kvm_fpu)); P("sizeof kvm_msrs", sizeof(struct kvm_msrs));
                  P("sizeof kvm_msr_entry", sizeof(struct kvm_msr_entry)); P("sizeof kvm_cpuid2", sizeof(struct kvm_cpuid2));
                  P("sizeof kvm_cpuid_entry2", sizeof(struct kvm_cpuid_entry2));
                  P("sizeof kvm_userspace_memory_region", sizeof(struct kvm_userspace_memory_region));
                  P("sizeof kvm_irq_level", sizeof(struct kvm_irq_level)); P("sizeof kvm_pit_config", sizeof(struct kvm_pit_config));
                  P("sizeof kvm_ioeventfd", sizeof(struct kvm_ioeventfd)); P("sizeof kvm_irqfd", sizeof(struct kvm_irqfd));
                  P("sizeof kvm_lapic_state", sizeof(struct kvm_lapic_state));
                  P("run.immediate_exit", offsetof(struct kvm_run, immediate_exit)); P("run.exit_reason", offsetof(struct kvm_run, exit_reason));
                  P("run.io.direction", offsetof(struct kvm_run, io.direction)); P("run.io.size", offsetof(struct kvm_run, io.size));
                  P("run.io.port", offsetof(struct kvm_run, io.port)); P("run.io.count", offsetof(struct kvm_run, io.count));
                  P("run.io.data_offset", offsetof(struct kvm_run, io.data_offset));
                  P("run.mmio.phys_addr", offsetof(struct kvm_run, mmio.phys_addr)); P("run.mmio.data", offsetof(struct kvm_run, mmio.data));
                  P("run.mmio.len", offsetof(struct kvm_run, mmio.len)); P("run.mmio.is_write", offsetof(struct kvm_run, mmio.is_write));
                  P("run.internal.suberror", offsetof(struct kvm_run, internal.suberror));
                  P("run.internal.ndata", offsetof(struct kvm_run, internal.ndata)); P("run.internal.data", offsetof(struct kvm_run, internal.data));
                  P("run.fail_entry.reason", offsetof(struct kvm_run, fail_entry.hardware_entry_failure_reason));
                  P("run.fail_entry.cpu", offsetof(struct kvm_run, fail_entry.cpu));
                  P("run.system_event.type", offsetof(struct kvm_run, system_event.type));
                  P("sregs.cs", offsetof(struct kvm_sregs, cs)); P("sregs.gdt", offsetof(struct kvm_sregs, gdt));
                  P("sregs.idt", offsetof(struct kvm_sregs, idt)); P("sregs.cr0", offsetof(struct kvm_sregs, cr0));
                  P("sregs.interrupt_bitmap", offsetof(struct kvm_sregs, interrupt_bitmap));
                  P("fpu.fcw", offsetof(struct kvm_fpu, fcw)); P("fpu.fsw", offsetof(struct kvm_fpu, fsw));
                  P("fpu.ftwx", offsetof(struct kvm_fpu, ftwx)); P("fpu.last_opcode", offsetof(struct kvm_fpu, last_opcode));
                  P("fpu.last_ip", offsetof(struct kvm_fpu, last_ip)); P("fpu.last_dp", offsetof(struct kvm_fpu, last_dp));
                  P("fpu.xmm", offsetof(struct kvm_fpu, xmm)); P("fpu.mxcsr", offsetof(struct kvm_fpu, mxcsr));
                  P("KVM_CAP_IRQCHIP", KVM_CAP_IRQCHIP); P("KVM_CAP_USER_MEMORY", KVM_CAP_USER_MEMORY);
                  P("KVM_CAP_SET_TSS_ADDR", KVM_CAP_SET_TSS_ADDR); P("KVM_CAP_EXT_CPUID", KVM_CAP_EXT_CPUID);
                  P("KVM_CAP_NR_VCPUS", KVM_CAP_NR_VCPUS); P("KVM_CAP_MP_STATE", KVM_CAP_MP_STATE); P("KVM_CAP_PIT2", KVM_CAP_PIT2);
                  P("KVM_CAP_IOEVENTFD", KVM_CAP_IOEVENTFD); P("KVM_CAP_SET_IDENTITY_MAP_ADDR", KVM_CAP_SET_IDENTITY_MAP_ADDR);
                  P("KVM_CAP_IRQFD", KVM_CAP_IRQFD); P("KVM_CAP_TSC_DEADLINE_TIMER", KVM_CAP_TSC_DEADLINE_TIMER);
                  P("KVM_CAP_MAX_VCPUS", KVM_CAP_MAX_VCPUS); P("KVM_CAP_IMMEDIATE_EXIT", KVM_CAP_IMMEDIATE_EXIT);
                  P("KVM_EXIT_IO", KVM_EXIT_IO); P("KVM_EXIT_HLT", KVM_EXIT_HLT); P("KVM_EXIT_MMIO", KVM_EXIT_MMIO);
                  P("KVM_EXIT_SHUTDOWN", KVM_EXIT_SHUTDOWN); P("KVM_EXIT_FAIL_ENTRY", KVM_EXIT_FAIL_ENTRY);
                  P("KVM_EXIT_INTR", KVM_EXIT_INTR); P("KVM_EXIT_INTERNAL_ERROR", KVM_EXIT_INTERNAL_ERROR);
                  P("KVM_EXIT_SYSTEM_EVENT", KVM_EXIT_SYSTEM_EVENT);
                  P("KVM_GET_IRQCHIP", KVM_GET_IRQCHIP); P("KVM_SET_IRQCHIP", KVM_SET_IRQCHIP);
                  P("KVM_GET_CLOCK", KVM_GET_CLOCK); P("KVM_SET_CLOCK", KVM_SET_CLOCK);
                  P("KVM_GET_PIT2", KVM_GET_PIT2); P("KVM_SET_PIT2", KVM_SET_PIT2);
                  P("KVM_GET_VCPU_EVENTS", KVM_GET_VCPU_EVENTS); P("KVM_SET_VCPU_EVENTS", KVM_SET_VCPU_EVENTS);
                  P("KVM_GET_XSAVE", KVM_GET_XSAVE); P("KVM_SET_XSAVE", KVM_SET_XSAVE);
                  P("sizeof kvm_irqchip", sizeof(struct kvm_irqchip)); P("irqchip.chip", offsetof(struct kvm_irqchip, chip));
                  P("sizeof kvm_pic_state", sizeof(struct kvm_pic_state));
                  P("pic.elcr_mask", offsetof(struct kvm_pic_state, elcr_mask));
                  P("ioapic.ioregsel", offsetof(struct kvm_ioapic_state, ioregsel));
                  P("ioapic.irr", offsetof(struct kvm_ioapic_state, irr));
                  P("ioapic.redirtbl", offsetof(struct kvm_ioapic_state, redirtbl));
                  P("sizeof kvm_pit_state2", sizeof(struct kvm_pit_state2));
                  P("sizeof kvm_pit_channel_state", sizeof(struct kvm_pit_channel_state));
                  P("pitch.latched_count", offsetof(struct kvm_pit_channel_state, latched_count));
                  P("pitch.gate", offsetof(struct kvm_pit_channel_state, gate));
                  P("pitch.count_load_time", offsetof(struct kvm_pit_channel_state, count_load_time));
                  P("pit2.flags", offsetof(struct kvm_pit_state2, flags));
                  P("KVM_PIT_FLAGS_SPEAKER_DATA_ON", KVM_PIT_FLAGS_SPEAKER_DATA_ON);
                  P("sizeof kvm_clock_data", sizeof(struct kvm_clock_data));
                  P("sizeof kvm_vcpu_events", sizeof(struct kvm_vcpu_events));
                  P("events.interrupt", offsetof(struct kvm_vcpu_events, interrupt));
                  P("events.nmi", offsetof(struct kvm_vcpu_events, nmi));
                  P("events.sipi_vector", offsetof(struct kvm_vcpu_events, sipi_vector));
                  P("events.flags", offsetof(struct kvm_vcpu_events, flags));
                  P("KVM_VCPUEVENT_VALID_NMI_PENDING", KVM_VCPUEVENT_VALID_NMI_PENDING);
                  P("KVM_VCPUEVENT_VALID_SIPI_VECTOR", KVM_VCPUEVENT_VALID_SIPI_VECTOR);
                  P("KVM_VCPUEVENT_VALID_SHADOW", KVM_VCPUEVENT_VALID_SHADOW);
                  P("sizeof kvm_xsave", sizeof(struct kvm_xsave));
                  P("KVM_IRQCHIP_PIC_MASTER", KVM_IRQCHIP_PIC_MASTER); P("KVM_IRQCHIP_PIC_SLAVE", KVM_IRQCHIP_PIC_SLAVE);
                  return 0;
                }
                """;
        Files.writeString(dir.resolve("abi.c"), c);
        run(dir, "gcc", "-o", "abi", "abi.c");
        Process p = new ProcessBuilder(dir.resolve("abi").toString()).redirectErrorStream(true).start();
        for (String line : new String(p.getInputStream().readAllBytes()).split("\n")) {
            int sp = line.lastIndexOf(' ');
            KERNEL.put(line.substring(0, sp), Long.parseUnsignedLong(line.substring(sp + 1)));
        }
        assertThat(p.waitFor()).isZero();
    }

    private static void run(Path dir, String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
    }

    private static void check(String name, long value) {
        assertThat(KERNEL).containsKey(name);
        assertThat(value).as(name).isEqualTo(KERNEL.get(name));
    }

    /** What snapshots use: the state ioctls and the layouts KvmStateStructs and VmFd/VcpuFd encode. */
    @Test
    void snapshotIoctlsAndStructsMatchTheKernel() {
        check("KVM_GET_IRQCHIP", KvmIoctls.KVM_GET_IRQCHIP);
        check("KVM_SET_IRQCHIP", KvmIoctls.KVM_SET_IRQCHIP);
        check("KVM_GET_CLOCK", KvmIoctls.KVM_GET_CLOCK);
        check("KVM_SET_CLOCK", KvmIoctls.KVM_SET_CLOCK);
        check("KVM_GET_PIT2", KvmIoctls.KVM_GET_PIT2);
        check("KVM_SET_PIT2", KvmIoctls.KVM_SET_PIT2);
        check("KVM_GET_VCPU_EVENTS", KvmIoctls.KVM_GET_VCPU_EVENTS);
        check("KVM_SET_VCPU_EVENTS", KvmIoctls.KVM_SET_VCPU_EVENTS);
        check("KVM_GET_XSAVE", KvmIoctls.KVM_GET_XSAVE);
        check("KVM_SET_XSAVE", KvmIoctls.KVM_SET_XSAVE);
        check("sizeof kvm_irqchip", KvmAbi.KVM_IRQCHIP_SIZE);
        check("irqchip.chip", KvmStateStructs.CHIP);
        check("sizeof kvm_pic_state", 16);
        check("pic.elcr_mask", 15);
        check("ioapic.ioregsel", 8);
        check("ioapic.irr", 16);
        check("ioapic.redirtbl", 24);
        check("sizeof kvm_pit_state2", KvmAbi.KVM_PIT_STATE2_SIZE);
        check("sizeof kvm_pit_channel_state", KvmAbi.KVM_PIT_CHANNEL_STATE_SIZE);
        check("pitch.latched_count", 4);
        check("pitch.gate", 15);
        check("pitch.count_load_time", 16);
        check("pit2.flags", 72);
        check("KVM_PIT_FLAGS_SPEAKER_DATA_ON", KvmAbi.KVM_PIT_FLAGS_SPEAKER_DATA_ON);
        check("sizeof kvm_clock_data", KvmAbi.KVM_CLOCK_DATA_SIZE);
        check("sizeof kvm_vcpu_events", KvmAbi.KVM_VCPU_EVENTS_SIZE);
        check("events.interrupt", 8);
        check("events.nmi", 12);
        check("events.sipi_vector", 16);
        check("events.flags", 20);
        check("KVM_VCPUEVENT_VALID_NMI_PENDING", KvmAbi.KVM_VCPUEVENT_VALID_NMI_PENDING);
        check("KVM_VCPUEVENT_VALID_SIPI_VECTOR", KvmAbi.KVM_VCPUEVENT_VALID_SIPI_VECTOR);
        check("KVM_VCPUEVENT_VALID_SHADOW", KvmAbi.KVM_VCPUEVENT_VALID_SHADOW);
        check("sizeof kvm_xsave", KvmAbi.KVM_XSAVE_SIZE);
        check("KVM_IRQCHIP_PIC_MASTER", KvmAbi.KVM_IRQCHIP_PIC_MASTER);
        check("KVM_IRQCHIP_PIC_SLAVE", KvmAbi.KVM_IRQCHIP_PIC_SLAVE);
    }

    @Test
    void ioctlNumbersMatchTheKernel() {
        check("KVM_GET_API_VERSION", KvmIoctls.KVM_GET_API_VERSION);
        check("KVM_CREATE_VM", KvmIoctls.KVM_CREATE_VM);
        check("KVM_GET_MSR_INDEX_LIST", KvmIoctls.KVM_GET_MSR_INDEX_LIST);
        check("KVM_CHECK_EXTENSION", KvmIoctls.KVM_CHECK_EXTENSION);
        check("KVM_GET_VCPU_MMAP_SIZE", KvmIoctls.KVM_GET_VCPU_MMAP_SIZE);
        check("KVM_GET_SUPPORTED_CPUID", KvmIoctls.KVM_GET_SUPPORTED_CPUID);
        check("KVM_CREATE_VCPU", KvmIoctls.KVM_CREATE_VCPU);
        check("KVM_SET_USER_MEMORY_REGION", KvmIoctls.KVM_SET_USER_MEMORY_REGION);
        check("KVM_SET_TSS_ADDR", KvmIoctls.KVM_SET_TSS_ADDR);
        check("KVM_SET_IDENTITY_MAP_ADDR", KvmIoctls.KVM_SET_IDENTITY_MAP_ADDR);
        check("KVM_CREATE_IRQCHIP", KvmIoctls.KVM_CREATE_IRQCHIP);
        check("KVM_IRQ_LINE", KvmIoctls.KVM_IRQ_LINE);
        check("KVM_IRQFD", KvmIoctls.KVM_IRQFD);
        check("KVM_CREATE_PIT2", KvmIoctls.KVM_CREATE_PIT2);
        check("KVM_IOEVENTFD", KvmIoctls.KVM_IOEVENTFD);
        check("KVM_RUN", KvmIoctls.KVM_RUN);
        check("KVM_GET_REGS", KvmIoctls.KVM_GET_REGS);
        check("KVM_SET_REGS", KvmIoctls.KVM_SET_REGS);
        check("KVM_GET_SREGS", KvmIoctls.KVM_GET_SREGS);
        check("KVM_SET_SREGS", KvmIoctls.KVM_SET_SREGS);
        check("KVM_GET_MSRS", KvmIoctls.KVM_GET_MSRS);
        check("KVM_SET_MSRS", KvmIoctls.KVM_SET_MSRS);
        check("KVM_GET_FPU", KvmIoctls.KVM_GET_FPU);
        check("KVM_SET_FPU", KvmIoctls.KVM_SET_FPU);
        check("KVM_GET_LAPIC", KvmIoctls.KVM_GET_LAPIC);
        check("KVM_SET_LAPIC", KvmIoctls.KVM_SET_LAPIC);
        check("KVM_SET_CPUID2", KvmIoctls.KVM_SET_CPUID2);
        check("KVM_GET_MP_STATE", KvmIoctls.KVM_GET_MP_STATE);
        check("KVM_SET_MP_STATE", KvmIoctls.KVM_SET_MP_STATE);
        check("KVM_GET_TSC_KHZ", KvmIoctls.KVM_GET_TSC_KHZ);
    }

    @Test
    void ioPathAbiMatchesTheKernel() {
        check("KVM_SET_GSI_ROUTING", KvmIoctls.KVM_SET_GSI_ROUTING);
        check("KVM_SIGNAL_MSI", KvmIoctls.KVM_SIGNAL_MSI);
        check("sizeof kvm_irq_routing", KvmAbi.KVM_IRQ_ROUTING_HEADER_SIZE);
        check("sizeof kvm_irq_routing_entry", KvmAbi.KVM_IRQ_ROUTING_ENTRY_SIZE);
        check("sizeof kvm_msi", KvmAbi.KVM_MSI_SIZE);
        check("ioeventfd.addr", 8);
        check("ioeventfd.len", 16);
        check("ioeventfd.fd", 20);
        check("ioeventfd.flags", 24);
        check("irqfd.gsi", 4);
        check("irqfd.flags", 8);
        check("routing.type", 4);
        check("routing.u", 16);
        check("msi.data", 8);
        check("KVM_IOEVENTFD_FLAG_DATAMATCH", KvmAbi.KVM_IOEVENTFD_FLAG_DATAMATCH);
        check("KVM_IOEVENTFD_FLAG_PIO", KvmAbi.KVM_IOEVENTFD_FLAG_PIO);
        check("KVM_IOEVENTFD_FLAG_DEASSIGN", KvmAbi.KVM_IOEVENTFD_FLAG_DEASSIGN);
        check("KVM_IRQFD_FLAG_DEASSIGN", KvmAbi.KVM_IRQFD_FLAG_DEASSIGN);
        check("KVM_IRQ_ROUTING_IRQCHIP", KvmAbi.KVM_IRQ_ROUTING_IRQCHIP);
        check("KVM_IRQ_ROUTING_MSI", KvmAbi.KVM_IRQ_ROUTING_MSI);
        check("KVM_IRQCHIP_IOAPIC", KvmAbi.KVM_IRQCHIP_IOAPIC);
        check("KVM_CAP_IRQ_ROUTING", KvmAbi.KVM_CAP_IRQ_ROUTING);
        check("KVM_CAP_SIGNAL_MSI", KvmAbi.KVM_CAP_SIGNAL_MSI);
    }

    @Test
    void structSizesMatchTheKernel() {
        check("sizeof kvm_regs", KvmAbi.KVM_REGS_SIZE);
        check("sizeof kvm_segment", KvmAbi.KVM_SEGMENT_SIZE);
        check("sizeof kvm_dtable", KvmAbi.KVM_DTABLE_SIZE);
        check("sizeof kvm_sregs", KvmAbi.KVM_SREGS_SIZE);
        check("sizeof kvm_fpu", KvmAbi.KVM_FPU_SIZE);
        check("sizeof kvm_msrs", KvmAbi.KVM_MSRS_HEADER_SIZE);
        check("sizeof kvm_msr_entry", KvmAbi.KVM_MSR_ENTRY_SIZE);
        check("sizeof kvm_cpuid2", KvmAbi.KVM_CPUID2_HEADER_SIZE);
        check("sizeof kvm_cpuid_entry2", KvmAbi.KVM_CPUID_ENTRY2_SIZE);
        check("sizeof kvm_userspace_memory_region", KvmAbi.KVM_USERSPACE_MEMORY_REGION_SIZE);
        check("sizeof kvm_irq_level", KvmAbi.KVM_IRQ_LEVEL_SIZE);
        check("sizeof kvm_pit_config", KvmAbi.KVM_PIT_CONFIG_SIZE);
        check("sizeof kvm_ioeventfd", KvmAbi.KVM_IOEVENTFD_SIZE);
        check("sizeof kvm_irqfd", KvmAbi.KVM_IRQFD_SIZE);
        check("sizeof kvm_lapic_state", KvmAbi.KVM_LAPIC_STATE_SIZE);
    }

    @Test
    void fieldOffsetsMatchTheKernel() {
        check("run.immediate_exit", KvmAbi.RUN_IMMEDIATE_EXIT);
        check("run.exit_reason", KvmAbi.RUN_EXIT_REASON);
        check("run.io.direction", KvmAbi.RUN_IO_DIRECTION);
        check("run.io.size", KvmAbi.RUN_IO_SIZE);
        check("run.io.port", KvmAbi.RUN_IO_PORT);
        check("run.io.count", KvmAbi.RUN_IO_COUNT);
        check("run.io.data_offset", KvmAbi.RUN_IO_DATA_OFFSET);
        check("run.mmio.phys_addr", KvmAbi.RUN_MMIO_PHYS_ADDR);
        check("run.mmio.data", KvmAbi.RUN_MMIO_DATA);
        check("run.mmio.len", KvmAbi.RUN_MMIO_LEN);
        check("run.mmio.is_write", KvmAbi.RUN_MMIO_IS_WRITE);
        check("run.internal.suberror", KvmAbi.RUN_INTERNAL_SUBERROR);
        check("run.internal.ndata", KvmAbi.RUN_INTERNAL_NDATA);
        check("run.internal.data", KvmAbi.RUN_INTERNAL_DATA);
        check("run.fail_entry.reason", KvmAbi.RUN_FAIL_ENTRY_REASON);
        check("run.fail_entry.cpu", KvmAbi.RUN_FAIL_ENTRY_CPU);
        check("run.system_event.type", KvmAbi.RUN_SYSTEM_EVENT_TYPE);
        check("sregs.cs", KvmAbi.SREGS_CS);
        check("sregs.gdt", KvmAbi.SREGS_GDT);
        check("sregs.idt", KvmAbi.SREGS_IDT);
        check("sregs.cr0", KvmAbi.SREGS_CR0);
        check("sregs.interrupt_bitmap", KvmAbi.SREGS_INTERRUPT_BITMAP);
        check("fpu.fcw", KvmAbi.FPU_FCW);
        check("fpu.fsw", KvmAbi.FPU_FSW);
        check("fpu.ftwx", KvmAbi.FPU_FTWX);
        check("fpu.last_opcode", KvmAbi.FPU_LAST_OPCODE);
        check("fpu.last_ip", KvmAbi.FPU_LAST_IP);
        check("fpu.last_dp", KvmAbi.FPU_LAST_DP);
        check("fpu.xmm", KvmAbi.FPU_XMM);
        check("fpu.mxcsr", KvmAbi.FPU_MXCSR);
    }

    @Test
    void constantsMatchTheKernel() {
        check("KVM_CAP_IRQCHIP", KvmAbi.KVM_CAP_IRQCHIP);
        check("KVM_CAP_USER_MEMORY", KvmAbi.KVM_CAP_USER_MEMORY);
        check("KVM_CAP_SET_TSS_ADDR", KvmAbi.KVM_CAP_SET_TSS_ADDR);
        check("KVM_CAP_EXT_CPUID", KvmAbi.KVM_CAP_EXT_CPUID);
        check("KVM_CAP_NR_VCPUS", KvmAbi.KVM_CAP_NR_VCPUS);
        check("KVM_CAP_MP_STATE", KvmAbi.KVM_CAP_MP_STATE);
        check("KVM_CAP_PIT2", KvmAbi.KVM_CAP_PIT2);
        check("KVM_CAP_IOEVENTFD", KvmAbi.KVM_CAP_IOEVENTFD);
        check("KVM_CAP_SET_IDENTITY_MAP_ADDR", KvmAbi.KVM_CAP_SET_IDENTITY_MAP_ADDR);
        check("KVM_CAP_IRQFD", KvmAbi.KVM_CAP_IRQFD);
        check("KVM_CAP_TSC_DEADLINE_TIMER", KvmAbi.KVM_CAP_TSC_DEADLINE_TIMER);
        check("KVM_CAP_MAX_VCPUS", KvmAbi.KVM_CAP_MAX_VCPUS);
        check("KVM_CAP_IMMEDIATE_EXIT", KvmAbi.KVM_CAP_IMMEDIATE_EXIT);
        check("KVM_EXIT_IO", KvmAbi.KVM_EXIT_IO);
        check("KVM_EXIT_HLT", KvmAbi.KVM_EXIT_HLT);
        check("KVM_EXIT_MMIO", KvmAbi.KVM_EXIT_MMIO);
        check("KVM_EXIT_SHUTDOWN", KvmAbi.KVM_EXIT_SHUTDOWN);
        check("KVM_EXIT_FAIL_ENTRY", KvmAbi.KVM_EXIT_FAIL_ENTRY);
        check("KVM_EXIT_INTR", KvmAbi.KVM_EXIT_INTR);
        check("KVM_EXIT_INTERNAL_ERROR", KvmAbi.KVM_EXIT_INTERNAL_ERROR);
        check("KVM_EXIT_SYSTEM_EVENT", KvmAbi.KVM_EXIT_SYSTEM_EVENT);
    }
}
