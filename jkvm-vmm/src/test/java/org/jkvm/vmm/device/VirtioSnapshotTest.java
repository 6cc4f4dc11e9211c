package org.jkvm.vmm.device;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.jkvm.block.DiskConfig;
import org.jkvm.devices.IoBus;
import org.jkvm.memory.MmapGuestMemory;
import org.jkvm.memory.PcMemoryLayout;
import org.jkvm.pci.virtio.VirtioPciDevice;
import org.jkvm.pci.virtio.VirtioTransportState;
import org.jkvm.virtio.MockDriver;
import org.jkvm.virtio.MockDriver.Buf;
import org.jkvm.virtio.QueueState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The virtio-pci transport and its queues through a snapshot, with a mock driver over plain memory: a quiesced
 * device takes no request; its state (with the configuration space and MSI-X table) loaded into a new platform on
 * the same RAM serves the request the driver had made available meanwhile, and the next one; a saved queue that
 * does not validate is refused.
 */
class VirtioSnapshotTest {
    @TempDir
    Path dir;
    final PciPlatformTest.RecordingVm vm = new PciPlatformTest.RecordingVm();
    final PcMemoryLayout layout = PcMemoryLayout.of(64 * PcMemoryLayout.MIB);
    final MmapGuestMemory memory = MmapGuestMemory.create(layout);
    PciPlatform a;
    PciPlatform b;

    @AfterEach
    void close() {
        if (a != null) {
            a.close();
        }
        if (b != null) {
            b.close();
        }
        memory.close();
    }

    private static long config(IoBus pio, int slot, int reg, int size) {
        pio.write(0xcf8, 4, 0x8000_0000L | (slot << 11) | (reg & 0xfc));
        return pio.read(0xcfc + (reg & 3), size);
    }

    private static void setConfig(IoBus pio, int slot, int reg, int size, long value) {
        pio.write(0xcf8, 4, 0x8000_0000L | (slot << 11) | (reg & 0xfc));
        pio.write(0xcfc + (reg & 3), size, value);
    }

    private long read(MockDriver d, IoBus mmio, long bar, long sector) throws Exception {
        long header = d.alloc(16, 16);
        long data = d.alloc(512, 512);
        long status = d.alloc(1, 1);
        memory.writeInt(header, 0);
        memory.writeLong(header + 8, sector);
        d.add(Buf.in(header, 16), Buf.out(data, 512), Buf.out(status, 1));
        d.publish();
        mmio.write(bar + 0x3000, 2, 0);
        return data;
    }

    @Test
    void quiescedQueueStateRestoresIntoANewPlatform() throws Exception {
        Path image = dir.resolve("disk.img");
        byte[] content = new byte[1 << 20];
        new Random(3).nextBytes(content);
        Files.write(image, content);
        List<DiskConfig> disks = List.of(DiskConfig.parse("path=" + image));
        IoBus pio = new IoBus();
        IoBus mmio = new IoBus();
        a = new PciPlatform(vm, memory, layout, InterruptRouting.create(vm, pio, mmio), pio, mmio, disks);
        long bar = (config(pio, 1, 0x10, 4) & ~0xfL) | (config(pio, 1, 0x14, 4) << 32);
        int cap = (int) config(pio, 1, 0x34, 1);
        while (config(pio, 1, cap, 1) != 0x11) {
            cap = (int) config(pio, 1, cap + 1, 1);
        }
        mmio.write(bar + 0x4000 + 16, 4, 0xfee0_0000L);
        mmio.write(bar + 0x4000 + 16 + 8, 4, 0x41);
        mmio.write(bar + 0x4000 + 16 + 12, 4, 0);
        setConfig(pio, 1, cap + 2, 2, 0x8000);
        mmio.write(bar + 20, 1, 3);
        mmio.write(bar + 8, 4, 1);
        mmio.write(bar + 12, 4, 1);
        mmio.write(bar + 20, 1, 0xb);
        MockDriver d = new MockDriver(memory, 8, 0x10_0000, 1 << 20, false);
        mmio.write(bar + 22, 2, 0);
        mmio.write(bar + 24, 2, 8);
        mmio.write(bar + 26, 2, 1);
        mmio.write(bar + 32, 8, d.descGpa());
        mmio.write(bar + 40, 8, d.availGpa());
        mmio.write(bar + 48, 8, d.usedGpa());
        mmio.write(bar + 28, 2, 1);
        mmio.write(bar + 20, 1, 0xf);

        read(d, mmio, bar, 1);
        assertThat(vm.messages.poll(10, TimeUnit.SECONDS)).isEqualTo("dest 0 vector 0x41 mode 0");
        assertThat(d.popUsed()).isNotNull();

        VirtioPciDevice devA = a.disks().get(0).device();
        devA.quiesce();
        long pending = read(d, mmio, bar, 5); // made available and notified while the device is quiesced
        assertThat(vm.messages.poll(300, TimeUnit.MILLISECONDS)).as("a quiesced device takes nothing").isNull();
        VirtioTransportState state = devA.saveState();
        assertThat(state.queues().get(0).nextAvail()).isEqualTo(1);
        assertThat(state.deviceState()).isEmpty(); // virtio-blk keeps nothing beyond its queues
        byte[] cfg = new byte[256];
        for (int off = 0; off < 256; off++) {
            cfg[off] = (byte) config(pio, 1, off, 1);
        }
        a.close();
        a = null;

        // The "restored process": a new platform over the same RAM, configuration space first, then the transport.
        IoBus pio2 = new IoBus();
        IoBus mmio2 = new IoBus();
        b = new PciPlatform(vm, memory, layout, InterruptRouting.create(vm, pio2, mmio2), pio2, mmio2, disks);
        for (int off = 0x10; off < 256; off += 4) {
            long v = (cfg[off] & 0xffL) | (cfg[off + 1] & 0xffL) << 8 | (cfg[off + 2] & 0xffL) << 16
                    | (cfg[off + 3] & 0xffL) << 24;
            setConfig(pio2, 1, off, 4, v);
        }
        setConfig(pio2, 1, 4, 2, (cfg[4] & 0xff) | (cfg[5] & 0xff) << 8);
        VirtioPciDevice devB = b.disks().get(0).device();
        devB.restoreState(state);
        assertThat(devB.status()).isEqualTo(0xf);
        assertThat(vm.messages.poll(10, TimeUnit.SECONDS)).isEqualTo("dest 0 vector 0x41 mode 0");
        assertThat(d.popUsed()).isNotNull();
        byte[] got = new byte[512];
        memory.read(pending, got, 0, 512);
        assertThat(got).isEqualTo(java.util.Arrays.copyOfRange(content, 5 * 512, 6 * 512));

        long next = read(d, mmio2, bar, 9);
        assertThat(vm.messages.poll(10, TimeUnit.SECONDS)).isEqualTo("dest 0 vector 0x41 mode 0");
        assertThat(d.popUsed()).isNotNull();
        memory.read(next, got, 0, 512);
        assertThat(got).isEqualTo(java.util.Arrays.copyOfRange(content, 9 * 512, 10 * 512));

        QueueState q = state.queues().get(0);
        VirtioTransportState bad = new VirtioTransportState(state.deviceType(), state.status(),
                state.driverFeatures(), 0, 0, state.configVector(), 0, 0, state.queueVectors(),
                List.of(new QueueState(q.descGpa(), q.availGpa(), 0xffff_ffff_0000L, q.size(), true, q.nextAvail(),
                        q.nextUsed(), false, false)), state.msixTable(), state.msixPending(), new byte[0]);
        assertThatThrownBy(() -> devB.restoreState(bad)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("queue 0");
    }
}
