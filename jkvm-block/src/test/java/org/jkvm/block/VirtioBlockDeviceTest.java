package org.jkvm.block;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;

import org.jkvm.memory.MmapGuestMemory;
import org.jkvm.memory.PcMemoryLayout;
import org.jkvm.sys.Errno;
import org.jkvm.virtio.MockDriver;
import org.jkvm.virtio.MockDriver.Buf;
import org.jkvm.virtio.QueueError;
import org.jkvm.virtio.VirtQueue;
import org.jkvm.virtio.VirtQueueException;
import org.jkvm.virtio.VirtioFeatures;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class VirtioBlockDeviceTest {
    static final int DISK_BYTES = 1 << 20;
    static final long SECTORS = DISK_BYTES / 512;

    @TempDir
    Path dir;
    Path image;
    MmapGuestMemory memory;
    RawDisk disk;
    VirtioBlockDevice device;
    VirtQueue queue;
    BlockRequestHandler handler;
    BlkDriver driver;

    @BeforeEach
    void setUp() throws Exception {
        image = dir.resolve("disk.img");
        byte[] initial = new byte[DISK_BYTES];
        new Random(1).nextBytes(initial);
        Files.write(image, initial);
        memory = MmapGuestMemory.create(PcMemoryLayout.of(64 * PcMemoryLayout.MIB));
        open("path=" + image + ",serial=jkvm-disk-0001");
    }

    private void open(String spec) throws Exception {
        DiskConfig config = DiskConfig.parse(spec);
        disk = RawDisk.open(config);
        attach(disk, config);
    }

    private void attach(BlockBackend backend, DiskConfig config) throws Exception {
        device = new VirtioBlockDevice(backend, config.idBytes(), 1);
        MockDriver ring = new MockDriver(memory, 128, 0x100000, 32 * PcMemoryLayout.MIB, true);
        queue = ring.configure(new VirtQueue(memory, VirtioBlockDevice.QUEUE_SIZE), true);
        handler = device.handler(queue);
        driver = new BlkDriver(ring);
    }

    @AfterEach
    void tearDown() {
        if (disk != null) {
            disk.close();
        }
        memory.close();
    }

    private MockDriver.Used complete() throws VirtQueueException {
        driver.ring.publish();
        handler.process();
        MockDriver.Used used = driver.ring.popUsed();
        assertThat(used).isNotNull();
        return used;
    }

    private byte[] fileBytes(long offset, int len) throws IOException {
        try (FileChannel ch = FileChannel.open(image, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(len);
            ch.read(b, offset);
            return b.array();
        }
    }

    @Test
    void featuresAndConfigSpace() {
        long f = device.deviceFeatures();
        assertThat(VirtioFeatures.has(f, VirtioFeatures.VIRTIO_F_VERSION_1)).isTrue();
        assertThat(VirtioFeatures.has(f, VirtioFeatures.VIRTIO_F_EVENT_IDX)).isTrue();
        assertThat(VirtioFeatures.has(f, VirtioFeatures.VIRTIO_F_INDIRECT_DESC)).isTrue();
        assertThat(VirtioFeatures.has(f, VirtioFeatures.VIRTIO_F_RING_PACKED)).isFalse();
        for (int bit : new int[] {VirtioBlk.F_SIZE_MAX, VirtioBlk.F_SEG_MAX, VirtioBlk.F_BLK_SIZE,
                VirtioBlk.F_TOPOLOGY, VirtioBlk.F_FLUSH, VirtioBlk.F_MQ, VirtioBlk.F_DISCARD,
                VirtioBlk.F_WRITE_ZEROES}) {
            assertThat(VirtioFeatures.has(f, bit)).as("bit %d", bit).isTrue();
        }
        assertThat(VirtioFeatures.has(f, VirtioBlk.F_RO)).isFalse();
        ByteBuffer c = ByteBuffer.wrap(device.configSpace()).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(c.capacity()).isEqualTo(60);
        assertThat(c.getLong(0)).isEqualTo(SECTORS);
        assertThat(c.getInt(12)).isEqualTo(254);
        assertThat(c.getInt(20)).isEqualTo(512);
        assertThat(c.get(24)).isEqualTo((byte) 3);
        assertThat(c.getShort(34)).isEqualTo((short) 1);
        assertThat(c.getInt(36)).isEqualTo(VirtioBlockDevice.MAX_DISCARD_SECTORS);
        assertThat(c.get(56)).isEqualTo((byte) 1);
        byte[] window = new byte[8];
        device.readConfig(56, window, 0, 8);
        assertThat(window).containsExactly(1, 0, 0, 0, 0, 0, 0, 0);
    }

    @Test
    void writeThenReadBack() throws Exception {
        byte[] data = new byte[8192];
        new Random(2).nextBytes(data);
        long d = driver.data(data, 4096);
        long s = driver.status();
        driver.write(10, d, data.length, s);
        MockDriver.Used used = complete();
        assertThat(driver.statusOf(s)).isEqualTo(VirtioBlk.S_OK);
        assertThat(used.len()).isEqualTo(1);
        assertThat(fileBytes(10 * 512, data.length)).isEqualTo(data);

        long r = driver.buffer(8192, 4096);
        long s2 = driver.status();
        driver.read(10, r, 8192, s2);
        used = complete();
        assertThat(driver.statusOf(s2)).isEqualTo(VirtioBlk.S_OK);
        assertThat(used.len()).isEqualTo(8193);
        assertThat(driver.bytes(r, 8192)).isEqualTo(data);
    }

    @Test
    void anyFramingWorks() throws Exception {
        // Header split 5 + 11, data in three odd pieces, data and status in one descriptor, through an indirect table.
        long h = driver.header(VirtioBlk.T_IN, 3);
        long buf = driver.buffer(1025, 8);
        driver.ring.addIndirect(Buf.in(h, 5), Buf.in(h + 5, 11), Buf.out(buf, 100), Buf.out(buf + 100, 400),
                Buf.out(buf + 500, 525));
        complete();
        assertThat(driver.statusOf(buf + 1024)).isEqualTo(VirtioBlk.S_OK);
        assertThat(driver.bytes(buf, 1024)).isEqualTo(fileBytes(3 * 512, 1024));
    }

    @Test
    void flushAndGetId() throws Exception {
        long s = driver.status();
        driver.ring.add(Buf.in(driver.header(VirtioBlk.T_FLUSH, 0), 16), Buf.out(s, 1));
        complete();
        assertThat(driver.statusOf(s)).isEqualTo(VirtioBlk.S_OK);

        long id = driver.buffer(20, 1);
        long s2 = driver.status();
        driver.ring.add(Buf.in(driver.header(VirtioBlk.T_GET_ID, 0), 16), Buf.out(id, 20), Buf.out(s2, 1));
        assertThat(complete().len()).isEqualTo(21);
        assertThat(driver.statusOf(s2)).isEqualTo(VirtioBlk.S_OK);
        assertThat(new String(driver.bytes(id, 20), StandardCharsets.US_ASCII)).isEqualTo("jkvm-disk-0001\0\0\0\0\0\0");
    }

    @Test
    void discardAndWriteZeroes() throws Exception {
        long s = driver.status();
        driver.ranges(VirtioBlk.T_WRITE_ZEROES, s, 8, 16, 0, 64, 8, VirtioBlk.WRITE_ZEROES_FLAG_UNMAP);
        complete();
        assertThat(driver.statusOf(s)).isEqualTo(VirtioBlk.S_OK);
        assertThat(fileBytes(8 * 512, 16 * 512)).containsOnly(0);
        assertThat(fileBytes(64 * 512, 8 * 512)).containsOnly(0);
        assertThat(fileBytes(7 * 512, 512)).isNotEqualTo(new byte[512]);
        assertThat(Files.size(image)).isEqualTo(DISK_BYTES);

        long s2 = driver.status();
        driver.ranges(VirtioBlk.T_DISCARD, s2, 128, 8, 0);
        complete();
        assertThat(driver.statusOf(s2)).isEqualTo(VirtioBlk.S_OK);
        assertThat(Files.size(image)).isEqualTo(DISK_BYTES);

        // Unmap is not a discard flag; unknown flags are unsupported; a range past the end is an error.
        long s3 = driver.status();
        driver.ranges(VirtioBlk.T_DISCARD, s3, 0, 8, VirtioBlk.WRITE_ZEROES_FLAG_UNMAP);
        complete();
        assertThat(driver.statusOf(s3)).isEqualTo(VirtioBlk.S_UNSUPP);
        long s4 = driver.status();
        driver.ranges(VirtioBlk.T_WRITE_ZEROES, s4, 0, 8, 2);
        complete();
        assertThat(driver.statusOf(s4)).isEqualTo(VirtioBlk.S_UNSUPP);
        long s5 = driver.status();
        driver.ranges(VirtioBlk.T_WRITE_ZEROES, s5, SECTORS - 4, 8, 0);
        complete();
        assertThat(driver.statusOf(s5)).isEqualTo(VirtioBlk.S_IOERR);
    }

    @Test
    void malformedRequestsGetIoErrorOrUnsupported() throws Exception {
        long buf = driver.buffer(4096, 4096);
        // Header shorter than 16 bytes.
        long s1 = driver.status();
        driver.ring.add(Buf.in(driver.header(VirtioBlk.T_IN, 0), 8), Buf.out(buf, 512), Buf.out(s1, 1));
        assertThat(complete().len()).isEqualTo(513);
        assertThat(driver.statusOf(s1)).isEqualTo(VirtioBlk.S_IOERR);
        assertThat(driver.bytes(buf, 512)).containsOnly(0);
        // IN with device-readable data; OUT with device-writable data.
        long s2 = driver.status();
        driver.ring.add(Buf.in(driver.header(VirtioBlk.T_IN, 0), 16), Buf.in(buf, 512), Buf.out(s2, 1));
        complete();
        assertThat(driver.statusOf(s2)).isEqualTo(VirtioBlk.S_IOERR);
        long s3 = driver.status();
        driver.ring.add(Buf.in(driver.header(VirtioBlk.T_OUT, 0), 16), Buf.out(buf, 512), Buf.out(s3, 1));
        complete();
        assertThat(driver.statusOf(s3)).isEqualTo(VirtioBlk.S_IOERR);
        // Beyond the capacity, sector overflow, not a whole sector.
        for (long sector : new long[] {SECTORS, SECTORS - 1, Long.MAX_VALUE, -1L, 1L << 55}) {
            long s = driver.status();
            driver.read(sector, buf, 1024, s);
            complete();
            assertThat(driver.statusOf(s)).as("sector %x", sector).isEqualTo(VirtioBlk.S_IOERR);
        }
        long s4 = driver.status();
        driver.read(0, buf, 500, s4);
        complete();
        assertThat(driver.statusOf(s4)).isEqualTo(VirtioBlk.S_IOERR);
        // Unknown and not offered types.
        for (int type : new int[] {2, 3, VirtioBlk.T_GET_LIFETIME, VirtioBlk.T_SECURE_ERASE, 16, 0x80000000}) {
            long s = driver.status();
            driver.ring.add(Buf.in(driver.header(type, 0), 16), Buf.out(s, 1));
            complete();
            assertThat(driver.statusOf(s)).as("type %d", type).isEqualTo(VirtioBlk.S_UNSUPP);
        }
        assertThat(handler.ioErrors()).isEqualTo(9);
        // The device still works.
        long s5 = driver.status();
        driver.read(0, buf, 512, s5);
        complete();
        assertThat(driver.statusOf(s5)).isEqualTo(VirtioBlk.S_OK);
    }

    @Test
    void requestWithoutStatusByteNeedsReset() {
        long buf = driver.buffer(512, 512);
        driver.ring.add(Buf.in(driver.header(VirtioBlk.T_OUT, 0), 16), Buf.in(buf, 512));
        driver.ring.publish();
        assertThatThrownBy(handler::process).isInstanceOf(VirtQueueException.class)
                .extracting(e -> ((VirtQueueException) e).error()).isEqualTo(QueueError.BAD_REQUEST_FRAMING);
    }

    @Test
    void malformedChainNeedsReset() {
        driver.ring.writeDesc(0, 64 * PcMemoryLayout.MIB, 16, 0, 0);
        driver.ring.writeAvailRing(0, 0);
        driver.ring.writeAvailIdx(1);
        assertThatThrownBy(handler::process).isInstanceOf(VirtQueueException.class)
                .extracting(e -> ((VirtQueueException) e).error()).isEqualTo(QueueError.BUFFER_OUTSIDE_RAM);
    }

    @Test
    void readOnlyDiskRefusesWrites() throws Exception {
        disk.close();
        open("path=" + image + ",readonly=on");
        assertThat(VirtioFeatures.has(device.deviceFeatures(), VirtioBlk.F_RO)).isTrue();
        assertThat(VirtioFeatures.has(device.deviceFeatures(), VirtioBlk.F_DISCARD)).isFalse();
        byte[] before = fileBytes(0, 4096);
        long d = driver.data(new byte[4096], 4096);
        long s = driver.status();
        driver.write(0, d, 4096, s);
        complete();
        assertThat(driver.statusOf(s)).isEqualTo(VirtioBlk.S_IOERR);
        assertThat(fileBytes(0, 4096)).isEqualTo(before);
        long s2 = driver.status();
        driver.ranges(VirtioBlk.T_WRITE_ZEROES, s2, 0, 8, 0);
        complete();
        assertThat(driver.statusOf(s2)).isEqualTo(VirtioBlk.S_UNSUPP);
        assertThat(fileBytes(0, 4096)).isEqualTo(before);
    }

    @Test
    void statsCountCompletedFailedAndInvalidRequests() throws Exception {
        FaultyBackend faulty = new FaultyBackend(disk);
        attach(faulty, DiskConfig.parse("path=" + image));
        long d = driver.data(new byte[4096], 4096);
        driver.write(8, d, 4096, driver.status());
        driver.read(0, driver.buffer(1024, 512), 1024, driver.status());
        driver.read(SECTORS, driver.buffer(512, 512), 512, driver.status()); // beyond the disk: invalid
        driver.ring.add(Buf.in(driver.header(VirtioBlk.T_FLUSH, 0), 16), Buf.out(driver.status(), 1));
        driver.ranges(VirtioBlk.T_DISCARD, driver.status(), 0, 8, 0, 64, 16, 0);
        driver.ring.add(Buf.in(driver.header(VirtioBlk.T_GET_ID, 0), 16), Buf.out(driver.buffer(20, 1), 20),
                Buf.out(driver.status(), 1));
        complete();
        faulty.failNext(1, Errno.EIO);
        driver.write(0, d, 4096, driver.status());
        complete();
        BlockStats st = device.stats();
        assertThat(st.operations(BlockStats.WRITE)).isEqualTo(1);
        assertThat(st.bytes(BlockStats.WRITE)).isEqualTo(4096);
        assertThat(st.failedOperations(BlockStats.WRITE)).isEqualTo(1);
        assertThat(st.operations(BlockStats.READ)).isEqualTo(1);
        assertThat(st.bytes(BlockStats.READ)).isEqualTo(1024);
        assertThat(st.invalidOperations(BlockStats.READ)).isEqualTo(1);
        assertThat(st.operations(BlockStats.FLUSH)).isEqualTo(1);
        assertThat(st.bytes(BlockStats.FLUSH)).isZero();
        assertThat(st.operations(BlockStats.UNMAP)).isEqualTo(1);
        assertThat(st.bytes(BlockStats.UNMAP)).isEqualTo(24 * 512);
        assertThat(st.totalTimeNs(BlockStats.READ)).isPositive();
        // a new handler (after a device reset) keeps counting on the same device
        device.handler(queue);
        assertThat(device.stats().operations(BlockStats.WRITE)).isEqualTo(1);
    }

    @Test
    void hostErrorsBecomeIoErrorAndTheDeviceKeepsWorking() throws Exception {
        FaultyBackend faulty = new FaultyBackend(disk);
        attach(faulty, DiskConfig.parse("path=" + image));
        long d = driver.data(new byte[4096], 4096);
        faulty.failNext(1, Errno.ENOSPC);
        long s = driver.status();
        driver.write(0, d, 4096, s);
        complete();
        assertThat(driver.statusOf(s)).isEqualTo(VirtioBlk.S_IOERR);
        assertThat(handler.lastErrno()).isEqualTo(Errno.ENOSPC);
        faulty.failNext(1, Errno.EIO);
        long s2 = driver.status();
        driver.ring.add(Buf.in(driver.header(VirtioBlk.T_FLUSH, 0), 16), Buf.out(s2, 1));
        complete();
        assertThat(driver.statusOf(s2)).isEqualTo(VirtioBlk.S_IOERR);
        long s3 = driver.status();
        driver.write(0, d, 4096, s3);
        complete();
        assertThat(driver.statusOf(s3)).isEqualTo(VirtioBlk.S_OK);
        assertThat(fileBytes(0, 4096)).containsOnly(0);
    }

    @Test
    void cacheNoneWithAlignedAndUnalignedBuffers() throws Exception {
        disk.close();
        open("path=" + image + ",cache=none");
        byte[] data = new byte[8192];
        new Random(3).nextBytes(data);
        // Aligned guest buffer, unaligned guest buffer (bounced), unaligned offset (buffered descriptor).
        long aligned = driver.data(data, 4096);
        long unaligned = driver.data(data, 4096) + 0;
        long odd = driver.ring.alloc(8192 + 8, 4096) + 8;
        driver.memory.write(odd, data);
        long[] sources = {aligned, odd, aligned};
        long[] sectors = {0, 16, 33};
        for (int i = 0; i < 3; i++) {
            long s = driver.status();
            driver.write(sectors[i], sources[i], 8192, s);
            complete();
            assertThat(driver.statusOf(s)).isEqualTo(VirtioBlk.S_OK);
            assertThat(fileBytes(sectors[i] * 512, 8192)).isEqualTo(data);
            long back = driver.ring.alloc(8192 + 8, 4096) + (i == 1 ? 8 : 0);
            long s2 = driver.status();
            driver.read(sectors[i], back, 8192, s2);
            complete();
            assertThat(driver.statusOf(s2)).isEqualTo(VirtioBlk.S_OK);
            assertThat(driver.bytes(back, 8192)).isEqualTo(data);
        }
        assertThat(unaligned).isPositive();
    }

    @Test
    void manyRequestsInOneBatch() throws Exception {
        long[] status = new long[100];
        long buf = driver.buffer(512 * 100, 4096);
        for (int i = 0; i < 100; i++) {
            status[i] = driver.status();
            driver.read(i, buf + 512L * i, 512, status[i]);
            if (i % 40 == 39 || i == 99) {
                driver.ring.publish();
                handler.process();
                while (driver.ring.popUsed() != null) {
                    // drain
                }
            }
        }
        for (long s : status) {
            assertThat(driver.statusOf(s)).isEqualTo(VirtioBlk.S_OK);
        }
        assertThat(driver.bytes(buf, 512 * 100)).isEqualTo(fileBytes(0, 512 * 100));
        assertThat(Arrays.equals(driver.bytes(buf, 512), new byte[512])).isFalse();
    }
}
