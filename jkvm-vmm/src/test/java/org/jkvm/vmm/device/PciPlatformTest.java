package org.jkvm.vmm.device;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.jkvm.block.DiskConfig;
import org.jkvm.devices.IoBus;
import org.jkvm.hypervisor.Vcpu;
import org.jkvm.hypervisor.Vm;
import org.jkvm.memory.GuestMemory;
import org.jkvm.memory.MmapGuestMemory;
import org.jkvm.memory.PcMemoryLayout;
import org.jkvm.virtio.MockDriver;
import org.jkvm.virtio.MockDriver.Buf;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The PCI platform as the guest sees it through the port and MMIO buses, with a real disk image and the I/O
 * thread: configuration through 0xCF8/0xCFC and ECAM, the virtio-blk function's BAR, MSI-X programming, a read
 * request made available and notified by an MMIO write, completed on the I/O thread and signalled as an MSI decoded
 * for the local APICs (the software CPU's path).
 */
class PciPlatformTest {
    /** The VM double: jkvm's own irqchip; records APIC messages. */
    static final class RecordingVm implements Vm {
        final LinkedBlockingQueue<String> messages = new LinkedBlockingQueue<>();

        @Override
        public void setMemory(GuestMemory memory) {
        }

        @Override
        public Vcpu createVcpu(int index) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Irqchip irqchip() {
            return Irqchip.VMM;
        }

        @Override
        public void setIrqLine(int gsi, boolean level) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void deliverApicMessage(int destination, boolean logical, int vector, int deliveryMode,
                                       boolean level, boolean levelTriggered) {
            messages.add("dest " + destination + (logical ? " logical" : "") + " vector 0x"
                    + Integer.toHexString(vector) + " mode " + deliveryMode + (levelTriggered ? " level" : ""));
        }

        @Override
        public Runnable connectExtInt(org.jkvm.hypervisor.ExtIntSource pic) {
            return () -> { };
        }

        @Override
        public void setEoiListener(java.util.function.IntConsumer listener) {
        }

        @Override
        public void close() {
        }
    }

    @TempDir
    Path dir;
    final RecordingVm vm = new RecordingVm();
    final PcMemoryLayout layout = PcMemoryLayout.of(64 * PcMemoryLayout.MIB);
    final MmapGuestMemory memory = MmapGuestMemory.create(layout);
    final IoBus pio = new IoBus();
    final IoBus mmio = new IoBus();
    PciPlatform platform;

    @AfterEach
    void close() {
        if (platform != null) {
            platform.close();
        }
        memory.close();
    }

    private long config(int slot, int reg, int size) {
        pio.write(0xcf8, 4, 0x8000_0000L | (slot << 11) | (reg & 0xfc));
        return pio.read(0xcfc + (reg & 3), size);
    }

    private void setConfig(int slot, int reg, int size, long value) {
        pio.write(0xcf8, 4, 0x8000_0000L | (slot << 11) | (reg & 0xfc));
        pio.write(0xcfc + (reg & 3), size, value);
    }

    @Test
    void readRequestCompletesOnTheIoThreadWithAnMsi() throws Exception {
        Path image = dir.resolve("disk.img");
        byte[] content = new byte[1 << 20];
        new Random(7).nextBytes(content);
        Files.write(image, content);
        platform = new PciPlatform(vm, memory, layout, InterruptRouting.create(vm, pio, mmio), pio, mmio,
                List.of(DiskConfig.parse("path=" + image + ",serial=unit")));

        assertThat(config(0, 0, 4)).isEqualTo(0x29c0_8086L);
        assertThat(config(1, 0, 4)).isEqualTo(0x1042_1af4L);
        assertThat(config(2, 0, 4)).isEqualTo(0xffff_ffffL);
        assertThat(mmio.read(PciPlatform.ECAM_GPA + (1 << 15), 4)).isEqualTo(0x1042_1af4L);
        assertThat(config(1, 0x3c, 1)).isEqualTo(17); // INTA of slot 1: GSI 16 + 1
        long bar = (config(1, 0x10, 4) & ~0xfL) | (config(1, 0x14, 4) << 32);
        assertThat(bar).isGreaterThanOrEqualTo(1L << 32); // the 64-bit window above RAM

        // MSI-X: find the capability, program entry 1 (queue 0) for vector 0x41 on APIC 0, enable
        int cap = (int) config(1, 0x34, 1);
        while (config(1, cap, 1) != 0x11) {
            cap = (int) config(1, cap + 1, 1);
        }
        mmio.write(bar + 0x4000 + 16, 4, 0xfee0_0000L);
        mmio.write(bar + 0x4000 + 16 + 4, 4, 0);
        mmio.write(bar + 0x4000 + 16 + 8, 4, 0x41);
        mmio.write(bar + 0x4000 + 16 + 12, 4, 0);
        setConfig(1, cap + 2, 2, 0x8000);

        // the driver's initialisation (virtio 1.2 section 3.1.1)
        mmio.write(bar + 20, 1, 3);
        mmio.write(bar + 8, 4, 1);
        mmio.write(bar + 12, 4, 1); // VERSION_1
        mmio.write(bar + 20, 1, 0xb);
        assertThat(mmio.read(bar + 20, 1)).isEqualTo(0xb);
        MockDriver d = new MockDriver(memory, 8, 0x10_0000, 1 << 20, false);
        mmio.write(bar + 22, 2, 0);
        mmio.write(bar + 24, 2, 8);
        mmio.write(bar + 26, 2, 1);
        mmio.write(bar + 32, 8, d.descGpa());
        mmio.write(bar + 40, 8, d.availGpa());
        mmio.write(bar + 48, 8, d.usedGpa());
        mmio.write(bar + 28, 2, 1);
        mmio.write(bar + 20, 1, 0xf);

        long header = d.alloc(16, 16);
        long data = d.alloc(512, 512);
        long status = d.alloc(1, 1);
        memory.writeInt(header, 0); // VIRTIO_BLK_T_IN
        memory.writeLong(header + 8, 3); // sector 3
        memory.writeByte(status, (byte) 0x55);
        d.add(Buf.in(header, 16), Buf.out(data, 512), Buf.out(status, 1));
        d.publish();
        mmio.write(bar + 0x3000, 2, 0); // the notify address of queue 0

        assertThat(vm.messages.poll(10, TimeUnit.SECONDS)).isEqualTo("dest 0 vector 0x41 mode 0");
        MockDriver.Used used = d.popUsed();
        assertThat(used).isNotNull();
        assertThat(used.len()).isEqualTo(513);
        assertThat(memory.readByte(status)).isZero();
        byte[] got = new byte[512];
        memory.read(data, got, 0, 512);
        assertThat(got).isEqualTo(java.util.Arrays.copyOfRange(content, 3 * 512, 4 * 512));
        assertThat(platform.disks().get(0).device().status() & 0x40).isZero();
    }

    @Test
    void missingImageIsReportedWithItsPath() {
        Path missing = dir.resolve("nope.img");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new PciPlatform(vm, memory, layout,
                        InterruptRouting.create(vm, pio, mmio), pio, mmio,
                        List.of(DiskConfig.parse("path=" + missing))))
                .isInstanceOf(org.jkvm.hypervisor.HypervisorException.class).hasMessageContaining(missing.toString());
    }

    @Test
    void msiOutsideTheApicWindowIsDropped() {
        MsiDelivery.forDevice(vm, 2).signal(0, 0x1000, 0x41);
        MsiDelivery.forDevice(vm, 2).signal(1, 0xfee0_100cL, 0x80b1); // APIC 1, logical, level-triggered, 0xb1
        assertThat(vm.messages).containsExactly("dest 1 logical vector 0xb1 mode 0 level");
    }

    /** KVM's shape: the backend's irqchip with MSI routes; records what the delivery asks of it. */
    static final class RoutingVm implements Vm {
        final List<String> calls = new java.util.ArrayList<>();
        final java.util.Map<Integer, Integer> boundFds = new java.util.HashMap<>();
        int nextGsi = 24;

        @Override
        public void setMemory(GuestMemory memory) {
        }

        @Override
        public Vcpu createVcpu(int index) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void setIrqLine(int gsi, boolean level) {
        }

        @Override
        public boolean supportsMsiRoutes() {
            return true;
        }

        @Override
        public int allocateMsiGsi() {
            return nextGsi++;
        }

        @Override
        public void setMsiRoute(int gsi, long address, int data) {
            calls.add("route " + gsi + " " + Long.toHexString(address) + "/" + Integer.toHexString(data));
        }

        @Override
        public void irqfd(int eventFd, int gsi, boolean assign) {
            calls.add((assign ? "irqfd " : "unbind ") + gsi);
            boundFds.put(gsi, eventFd);
        }

        @Override
        public void signalMsi(long address, int data) {
            calls.add("signal " + Long.toHexString(address) + "/" + Integer.toHexString(data));
        }

        @Override
        public void close() {
        }
    }

    @Test
    void onKvmProgrammedVectorsFireThroughIrqfd() {
        RoutingVm kvm = new RoutingVm();
        try (MsiDelivery msi = MsiDelivery.forDevice(kvm, 2)) {
            msi.signal(1, 0xfee0_0000L, 0x42); // not programmed yet: KVM_SIGNAL_MSI
            msi.programmed(1, 0xfee0_0000L, 0x42);
            msi.programmed(1, 0xfee0_1000L, 0x42); // the route changes, the irqfd stays
            msi.programmed(5, 0xfee0_0000L, 0x42); // no such vector
            msi.signal(1, 0xfee0_1000L, 0x42);
            msi.signal(1, 0xfee0_1000L, 0x42);
            assertThat(kvm.calls).containsExactly("signal fee00000/42", "route 24 fee00000/42", "irqfd 24",
                    "route 24 fee01000/42");
            java.lang.foreign.MemorySegment counter = java.lang.foreign.Arena.ofAuto().allocate(8);
            assertThat(org.jkvm.sys.Libc.readRaw(kvm.boundFds.get(24), counter, 8)).isEqualTo(8);
            assertThat(counter.get(java.lang.foreign.ValueLayout.JAVA_LONG, 0)).isEqualTo(2);
        }
        assertThat(kvm.calls).endsWith("unbind 24");
    }
}
