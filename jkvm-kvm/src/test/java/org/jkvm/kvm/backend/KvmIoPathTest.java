package org.jkvm.kvm.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.jkvm.hypervisor.IoHandler;
import org.jkvm.hypervisor.Regs;
import org.jkvm.hypervisor.Segment;
import org.jkvm.hypervisor.Sregs;
import org.jkvm.hypervisor.Vcpu;
import org.jkvm.hypervisor.VcpuExit;
import org.jkvm.hypervisor.VmOptions;
import org.jkvm.kvm.KvmAbi;
import org.jkvm.kvm.VmFd;
import org.jkvm.memory.GuestMemory;
import org.jkvm.memory.MmapGuestMemory;
import org.jkvm.memory.PcMemoryLayout;
import org.jkvm.sys.Errno;
import org.jkvm.sys.Libc;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The in-kernel I/O paths virtio devices will use, proven with tiny guests: ioeventfd (a guest write signals an
 * eventfd with no exit to jkvm) and irqfd (an eventfd write raises an interrupt the guest takes through the
 * in-kernel PIC), plus GSI routing and MSI injection.
 */
class KvmIoPathTest {
    private KvmHypervisor hv;
    private KvmVm vm;
    private GuestMemory mem;
    private Vcpu vcpu;
    private final List<String> events = new ArrayList<>();
    private Runnable onReady = () -> { };

    private final IoHandler io = new IoHandler() {
        @Override
        public int pioRead(int port, int size) {
            return 0xff;
        }

        @Override
        public void pioWrite(int port, int size, int value) {
            events.add(String.format("out %x=%x", port, value));
            if (port == 0xf4) {
                vcpu.kick();
            } else if (port == 0xf6) {
                onReady.run();
            }
        }

        @Override
        public long mmioRead(long gpa, int size) {
            return 0;
        }

        @Override
        public void mmioWrite(long gpa, int size, long value) {
            events.add(String.format("mmio %x=%x", gpa, value));
        }
    };

    @BeforeEach
    void setUp() {
        if (!"true".equals(System.getenv("CI"))) {
            assumeTrue(Files.exists(Path.of("/dev/kvm")), "no /dev/kvm");
        }
        hv = KvmHypervisor.open();
        vm = (KvmVm) hv.createVm(new VmOptions(1));
        mem = MmapGuestMemory.create(PcMemoryLayout.of(64L << 20));
        vm.setMemory(mem);
        vcpu = vm.createVcpu(0);
        Sregs s = vcpu.getSregs();
        vcpu.setSregs(s.withSegments(Segment.real(0, 0xb), Segment.real(0, 3), Segment.real(0, 3),
                Segment.real(0, 3), Segment.real(0, 3), Segment.real(0, 3)));
        vcpu.setRegs(new Regs(0, 0, 0, 0, 0, 0, 0x7000, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x1000, 2));
    }

    @AfterEach
    void tearDown() {
        if (vcpu != null) {
            vcpu.close();
            vm.close();
            mem.close();
            hv.close();
        }
    }

    private static long readCounter(int eventfd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = arena.allocate(8);
            long n = Libc.readRaw(eventfd, b, 8);
            return n == -Errno.EAGAIN ? 0 : b.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    private static void signal(int eventfd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = arena.allocate(8);
            b.set(ValueLayout.JAVA_LONG, 0, 1);
            Libc.write(eventfd, b, 8);
        }
    }

    @Test
    void ioeventfdCompletesPortWritesInTheKernel() {
        int any = Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
        int seven = Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
        try {
            VmFd fd = vm.fd();
            fd.ioeventfd(0x510, 2, true, null, any, false);
            fd.ioeventfd(0x512, 2, true, 7L, seven, false);
            mem.write(0x1000, new byte[] {
                (byte) 0xba, 0x10, 0x05, (byte) 0xb8, 0x01, 0x00, (byte) 0xef, (byte) 0xef, // out 0x510, ax twice
                (byte) 0xba, 0x12, 0x05, (byte) 0xb8, 0x05, 0x00, (byte) 0xef,             // out 0x512, 5: no match
                (byte) 0xb8, 0x07, 0x00, (byte) 0xef,                                       // out 0x512, 7: match
                (byte) 0xba, (byte) 0xf4, 0x00, (byte) 0xee,                                // out 0xf4, al
                (byte) 0xeb, (byte) 0xfe});
            assertThat(vcpu.run(io)).isEqualTo(VcpuExit.INTERRUPTED);
            assertThat(events).containsExactly("out 512=5", "out f4=7");
            assertThat(readCounter(any)).isEqualTo(2);
            assertThat(readCounter(seven)).isEqualTo(1);
            fd.ioeventfd(0x510, 2, true, null, any, true);
        } finally {
            Libc.close(any);
            Libc.close(seven);
        }
    }

    @Test
    void irqfdRaisesAnInterruptTheGuestTakesThroughThePic() {
        int irq = Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
        try {
            vm.fd().irqfd(irq, 4, false);
            onReady = () -> signal(irq); // the guest is ready: raise IRQ 4 through the eventfd
            byte[] code = {
                (byte) 0xb0, 0x11, (byte) 0xe6, 0x20,       // ICW1: edge, cascade, ICW4
                (byte) 0xb0, 0x08, (byte) 0xe6, 0x21,       // ICW2: vectors 8-15
                (byte) 0xb0, 0x04, (byte) 0xe6, 0x21,       // ICW3: slave on IRQ2
                (byte) 0xb0, 0x01, (byte) 0xe6, 0x21,       // ICW4: 8086 mode
                (byte) 0xb0, (byte) 0xef, (byte) 0xe6, 0x21, // mask all but IRQ4
                (byte) 0xfb,                                // sti
                (byte) 0xe6, (byte) 0xf6,                   // out 0xf6, al: ready
                (byte) 0xf4,                                // hlt: wakes on the interrupt
                (byte) 0xeb, (byte) 0xfd,                   // jmp hlt
            };
            byte[] handler = {
                (byte) 0xb0, 'I', (byte) 0xe6, (byte) 0xf5, // out 0xf5, 'I'
                (byte) 0xb0, 0x20, (byte) 0xe6, 0x20,       // EOI
                (byte) 0xe6, (byte) 0xf4,                   // out 0xf4: done
                (byte) 0xcf,                                // iret
            };
            mem.write(0x1000, code);
            mem.write(0x1100, handler);
            mem.writeInt(0x0c * 4, 0x1100);                 // IVT[vector 0x0C (IRQ4)] = 0000:1100
            assertThat(vcpu.run(io)).isEqualTo(VcpuExit.INTERRUPTED);
            assertThat(events).containsExactly("out f6=ef", "out f5=49", "out f4=20");
        } finally {
            Libc.close(irq);
        }
    }

    @Test
    void gsiRoutingAndMsiInjectionAreAccepted() {
        assertThat(hv.kvm().checkExtension(KvmAbi.KVM_CAP_IRQ_ROUTING)).isPositive();
        List<VmFd.GsiRoute> routes = new ArrayList<>();
        for (int pin = 0; pin < 24; pin++) {
            if (pin < 16 && pin != 2) {
                routes.add(new VmFd.GsiRoute.Irqchip(pin, pin < 8 ? KvmAbi.KVM_IRQCHIP_PIC_MASTER
                        : KvmAbi.KVM_IRQCHIP_PIC_SLAVE, pin % 8));
            }
            routes.add(new VmFd.GsiRoute.Irqchip(pin, KvmAbi.KVM_IRQCHIP_IOAPIC, pin));
        }
        routes.add(new VmFd.GsiRoute.Msi(24, 0xfee0_0000L, 0x41));
        vm.fd().setGsiRouting(routes);
        int msi = Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
        try {
            vm.fd().irqfd(msi, 24, false);
            vm.fd().irqfd(msi, 24, true);
        } finally {
            Libc.close(msi);
        }
        // The guest's LAPIC is software-disabled at reset, so the MSI is not delivered; the call itself succeeds.
        assertThat(vm.fd().signalMsi(0xfee0_0000L, 0x41)).isFalse();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> vm.fd().setGsiRouting(
                List.of(new VmFd.GsiRoute.Irqchip(0, 7, 0)))).hasMessageContaining("KVM_SET_GSI_ROUTING");
    }

    @Test
    void vmLevelMmioIoeventfdAndMsiAsTheVirtioTransportUsesThem() {
        int notify = Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
        try {
            // a virtio notify address in the 64-bit PCI window, 2-byte writes
            assertThat(vm.ioEventFd(0x1_0000_3000L, 2, notify, true)).isTrue();
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> vm.ioEventFd(0x1_0000_3000L, 2, notify, true))
                    .hasMessageContaining("KVM_IOEVENTFD"); // the same registration twice: EEXIST
            assertThat(vm.ioEventFd(0x1_0000_3000L, 2, notify, false)).isTrue();
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> vm.ioEventFd(0x1_0000_3000L, 2, notify, false))
                    .hasMessageContaining("KVM_IOEVENTFD"); // nothing left to deassign
        } finally {
            Libc.close(notify);
        }
        // the reused struct kvm_msi: accepted every time (the reset LAPIC is disabled, so nothing is delivered)
        for (int i = 0; i < 3; i++) {
            vm.signalMsi(0xfee0_0000L, 0x41 + i);
        }
    }

    @Test
    void irqfdOnAnMsiRouteInterruptsThroughTheLocalApic() {
        // software-enable the local APIC (SVR bit 8), as the guest's OS would
        byte[] lapic = ((KvmVcpu) vcpu).fd().getLapic();
        java.nio.ByteBuffer regs = java.nio.ByteBuffer.wrap(lapic).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        regs.putInt(0xf0, 0x1ff);
        ((KvmVcpu) vcpu).fd().setLapic(lapic);
        int msi = Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
        try {
            assertThat(vm.supportsMsiRoutes()).isTrue();
            int gsi = vm.allocateMsiGsi();
            assertThat(gsi).isGreaterThanOrEqualTo(24);
            vm.setMsiRoute(gsi, 0xfee0_0000L, 0x30); // first a different vector: the route is replaced below
            vm.setMsiRoute(gsi, 0xfee0_0000L, 0x41); // APIC 0, fixed, vector 0x41
            vm.irqfd(msi, gsi, true);
            onReady = () -> signal(msi);
            byte[] code = {
                (byte) 0xfb,                                // sti
                (byte) 0xe6, (byte) 0xf6,                   // out 0xf6, al: ready
                (byte) 0xf4,                                // hlt: wakes on the MSI
                (byte) 0xeb, (byte) 0xfd,                   // jmp hlt
            };
            byte[] handler = {
                (byte) 0xb0, 'M', (byte) 0xe6, (byte) 0xf5, // out 0xf5, 'M'
                (byte) 0xe6, (byte) 0xf4,                   // out 0xf4: done
                (byte) 0xcf,                                // iret
            };
            mem.write(0x1000, code);
            mem.write(0x1100, handler);
            mem.writeInt(0x30 * 4, 0x1200);                 // the old vector would print nothing
            mem.writeInt(0x41 * 4, 0x1100);                 // IVT[0x41] = 0000:1100
            assertThat(vcpu.run(io)).isEqualTo(VcpuExit.INTERRUPTED);
            assertThat(events).containsExactly("out f6=0", "out f5=4d", "out f4=4d");
            vm.irqfd(msi, gsi, false);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> vm.setMsiRoute(gsi + 1, 0xfee0_0000L, 0x41))
                    .isInstanceOf(IllegalArgumentException.class);
        } finally {
            Libc.close(msi);
        }
    }
}
