package org.jkvm.rng;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.jkvm.memory.MmapGuestMemory;
import org.jkvm.memory.PcMemoryLayout;
import org.jkvm.virtio.MockDriver;
import org.jkvm.virtio.MockDriver.Buf;
import org.jkvm.virtio.QueueError;
import org.jkvm.virtio.VirtQueue;
import org.jkvm.virtio.VirtQueueException;
import org.jkvm.virtio.VirtioDevice;
import org.jkvm.virtio.VirtioFeatures;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The entropy device against a mock driver over plain memory. */
class VirtioRngTest {
    MmapGuestMemory memory;
    MockDriver ring;
    VirtioRng device;
    VirtioDevice.QueueHandler handler;

    @BeforeEach
    void setUp() throws Exception {
        memory = MmapGuestMemory.create(PcMemoryLayout.of(64 * PcMemoryLayout.MIB));
        attach(EntropySource.host());
    }

    private void attach(EntropySource source) throws VirtQueueException {
        device = new VirtioRng(source);
        ring = new MockDriver(memory, 64, 0x100000, 16 * PcMemoryLayout.MIB, true);
        VirtQueue queue = ring.configure(new VirtQueue(memory, VirtioRng.QUEUE_SIZE), true);
        handler = device.activate(0, queue, device.deviceFeatures());
    }

    @AfterEach
    void tearDown() {
        memory.close();
    }

    private long buffer(int len) {
        long gpa = ring.alloc(len, 16);
        memory.fill(gpa, len, (byte) 0xee);
        return gpa;
    }

    private MockDriver.Used complete() throws VirtQueueException {
        ring.publish();
        assertThat(handler.process()).as("the driver wants the used-buffer notification").isTrue();
        MockDriver.Used used = ring.popUsed();
        ring.setUsedEvent(ring.usedIdx()); // as Linux re-arms: notify me at the next used entry
        return used;
    }

    private byte[] bytes(long gpa, int len) {
        byte[] b = new byte[len];
        memory.read(gpa, b, 0, len);
        return b;
    }

    @Test
    void offersOnlyTheRingFeaturesAndNoConfiguration() {
        assertThat(device.deviceType()).isEqualTo(4);
        assertThat(device.deviceFeatures()).isEqualTo(VirtioFeatures.bit(VirtioFeatures.VIRTIO_F_VERSION_1)
                | VirtioFeatures.bit(VirtioFeatures.VIRTIO_F_INDIRECT_DESC)
                | VirtioFeatures.bit(VirtioFeatures.VIRTIO_F_EVENT_IDX));
        assertThat(device.numQueues()).isOne();
        assertThat(device.configSize()).isZero();
    }

    @Test
    void hostBytesFillTheWholeBuffer() throws Exception {
        long buf = buffer(4096);
        int head = ring.add(Buf.out(buf, 4096));
        MockDriver.Used used = complete();
        assertThat(used.head()).isEqualTo(head);
        assertThat(used.len()).isEqualTo(4096);
        byte[] b = bytes(buf, 4096);
        int unchanged = 0;
        int[] counts = new int[256];
        for (byte x : b) {
            unchanged += x == (byte) 0xee ? 1 : 0;
            counts[x & 0xff]++;
        }
        assertThat(unchanged).as("about 16 of 4096 random bytes are 0xee by chance").isLessThan(60);
        assertThat(java.util.Arrays.stream(counts).max().getAsInt()).as("no byte value dominates").isLessThan(60);
        assertThat(device.bytesServed()).isEqualTo(4096);
    }

    @Test
    void everyWritableBufferOfAChainIsFilledDirectOrIndirect() throws Exception {
        attach(dst -> dst.fill((byte) 0x42));
        long a = buffer(100);
        long b = buffer(300);
        ring.add(Buf.out(a, 100), Buf.out(b, 300));
        assertThat(complete().len()).isEqualTo(400);
        assertThat(bytes(a, 100)).containsOnly(0x42);
        assertThat(bytes(b, 300)).containsOnly(0x42);
        long c = buffer(64);
        ring.addIndirect(Buf.out(c, 64));
        assertThat(complete().len()).isEqualTo(64);
        assertThat(bytes(c, 64)).containsOnly(0x42);
        assertThat(device.requests()).isEqualTo(2);
    }

    @Test
    void aRequestGetsAtMostTheCapAndTheRestIsUntouched() throws Exception {
        attach(dst -> dst.fill((byte) 0x42));
        int len = VirtioRng.MAX_BYTES_PER_REQUEST + 4096;
        long buf = buffer(len);
        ring.add(Buf.out(buf, len));
        assertThat(complete().len()).isEqualTo(VirtioRng.MAX_BYTES_PER_REQUEST);
        assertThat(bytes(buf + VirtioRng.MAX_BYTES_PER_REQUEST - 1, 1)).containsOnly(0x42);
        assertThat(bytes(buf + VirtioRng.MAX_BYTES_PER_REQUEST, 4096)).containsOnly(0xee);
    }

    @Test
    void aChainWithDeviceReadableBuffersGetsNothingAndIsCounted() throws Exception {
        long in = buffer(16);
        long out = buffer(64);
        ring.add(Buf.in(in, 16), Buf.out(out, 64));
        assertThat(complete().len()).isZero();
        assertThat(bytes(out, 64)).containsOnly(0xee);
        assertThat(device.refused()).isOne();
        // The device goes on serving good requests.
        long next = buffer(32);
        ring.add(Buf.out(next, 32));
        assertThat(complete().len()).isEqualTo(32);
    }

    @Test
    void aHostFailureCompletesWithWhatWasFilled() throws Exception {
        attach(dst -> {
            throw new IllegalStateException("no entropy");
        });
        long buf = buffer(64);
        ring.add(Buf.out(buf, 64));
        assertThat(complete().len()).isZero();
        assertThat(device.refused()).isOne();
    }

    @Test
    void aBufferOutsideGuestRamIsAMalformedRingNotAHostWrite() {
        ring.writeDesc(0, memory.sizeBytes() + 0x1000_0000L, 4096, 2, 0);
        ring.writeAvailRing(0, 0);
        ring.writeAvailIdx(1);
        assertThatThrownBy(() -> handler.process()).isInstanceOf(VirtQueueException.class)
                .satisfies(e -> assertThat(((VirtQueueException) e).error()).isEqualTo(QueueError.BUFFER_OUTSIDE_RAM));
    }
}
