package org.jkvm.bench;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.jkvm.block.BlockRequestHandler;
import org.jkvm.block.DiskConfig;
import org.jkvm.block.RawDisk;
import org.jkvm.block.VirtioBlk;
import org.jkvm.block.VirtioBlockDevice;
import org.jkvm.memory.MmapGuestMemory;
import org.jkvm.memory.PcMemoryLayout;
import org.jkvm.virtio.MockDriver;
import org.jkvm.virtio.VirtQueue;
import org.jkvm.virtio.VirtQueueException;
import org.jkvm.virtio.Virtq;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The virtio-blk request path without a guest: 4 KiB reads of a file in the host page cache, 64 requests per batch
 * through the split ring (the guest side written straight into guest memory, as a driver would), beside the rate of
 * bare pread(2) calls of the same sizes and offsets. The difference is what the virtqueue and device logic cost.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class BlockReadBench {
    static final int BATCH = 64;
    static final int FILE_BYTES = 64 << 20;

    Path image;
    MmapGuestMemory memory;
    RawDisk disk;
    VirtQueue queue;
    BlockRequestHandler handler;
    MockDriver ring;
    int availIdx;
    long[] offsets = new long[BATCH];
    MemorySegment buffer;

    @Setup(Level.Trial)
    public void setUp() throws IOException, VirtQueueException {
        image = Files.createTempFile("jkvm-bench", ".img");
        byte[] data = new byte[FILE_BYTES];
        new Random(7).nextBytes(data);
        Files.write(image, data);
        Files.readAllBytes(image); // in the page cache
        memory = MmapGuestMemory.create(PcMemoryLayout.of(256 * PcMemoryLayout.MIB));
        disk = RawDisk.open(DiskConfig.parse("path=" + image));
        VirtioBlockDevice device = new VirtioBlockDevice(disk, new byte[0], 1);
        ring = new MockDriver(memory, VirtioBlockDevice.QUEUE_SIZE, 0x100000, 64 * PcMemoryLayout.MIB, false);
        queue = ring.configure(new VirtQueue(memory, VirtioBlockDevice.QUEUE_SIZE), true);
        handler = device.handler(queue);
        Random r = new Random(9);
        // Chain i: descriptors 3i (header), 3i+1 (4 KiB data), 3i+2 (status).
        for (int i = 0; i < BATCH; i++) {
            offsets[i] = (long) r.nextInt(FILE_BYTES / 4096) * 4096;
            long h = ring.alloc(16, 16);
            memory.write(h, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putInt(VirtioBlk.T_IN).putInt(0)
                    .putLong(offsets[i] / 512).array());
            long d = ring.alloc(4096, 4096);
            long s = ring.alloc(1, 1);
            ring.writeDesc(3 * i, h, 16, Virtq.DESC_F_NEXT, 3 * i + 1);
            ring.writeDesc(3 * i + 1, d, 4096, Virtq.DESC_F_WRITE | Virtq.DESC_F_NEXT, 3 * i + 2);
            ring.writeDesc(3 * i + 2, s, 1, Virtq.DESC_F_WRITE, 0);
        }
        buffer = Arena.ofAuto().allocate(4096, 4096);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        if (handler.requests() == 0 || handler.ioErrors() != 0 || handler.unsupported() != 0) {
            throw new IllegalStateException("virtio-blk requests failed: " + handler.ioErrors() + " of "
                    + handler.requests());
        }
        disk.close();
        memory.close();
        Files.deleteIfExists(image);
    }

    /** 64 chains made available at once, completed by one process() call. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int virtioBlkRead4k() throws VirtQueueException {
        for (int i = 0; i < BATCH; i++) {
            ring.writeAvailRing((availIdx + i) & (VirtioBlockDevice.QUEUE_SIZE - 1), 3 * i);
        }
        availIdx = (availIdx + BATCH) & 0xffff;
        ring.writeAvailIdx(availIdx);
        handler.process();
        return ring.usedIdx();
    }

    /** The same reads as bare pread(2) calls into one buffer. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long rawPread4k() {
        long sum = 0;
        for (int i = 0; i < BATCH; i++) {
            sum += disk.read(offsets[i], buffer, 4096);
        }
        return sum;
    }
}
