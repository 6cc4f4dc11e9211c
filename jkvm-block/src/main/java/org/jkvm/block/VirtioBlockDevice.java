package org.jkvm.block;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.jkvm.virtio.VirtQueue;
import org.jkvm.virtio.VirtioDevice;
import org.jkvm.virtio.VirtioFeatures;

/**
 * The virtio-blk device (virtio 1.2 section 5.2) without a transport: the features it offers, its configuration
 * space, and one {@link BlockRequestHandler} per request queue. A transport (virtio-pci, later) negotiates features,
 * exposes {@link #readConfig} and hands each enabled queue to {@link #handler}; a {@link
 * org.jkvm.virtio.VirtQueueException} from a handler means DEVICE_NEEDS_RESET.
 *
 * <p>Offered: VERSION_1, INDIRECT_DESC, EVENT_IDX, SIZE_MAX, SEG_MAX, BLK_SIZE, TOPOLOGY, FLUSH, MQ, and for a
 * writable disk DISCARD and WRITE_ZEROES, for a read-only one RO. Not offered: RING_PACKED (split rings only),
 * GEOMETRY, CONFIG_WCE (the cache is always writeback; FLUSH makes writes durable), LIFETIME, SECURE_ERASE, ZONED.
 */
public final class VirtioBlockDevice implements VirtioDevice {
    /** The virtio device ID of a block device (section 5). */
    public static final int DEVICE_TYPE = 2;
    /** Queue size offered per request queue. */
    public static final int QUEUE_SIZE = 256;
    /** Largest single segment the driver may use (size_max). */
    public static final int SIZE_MAX = 1 << 20;
    /** Largest discard / write-zeroes range per segment, in sectors (2 GiB). */
    public static final int MAX_DISCARD_SECTORS = 1 << 22;
    /** Segments per discard / write-zeroes request. */
    public static final int MAX_DISCARD_SEG = 32;
    /** Discard alignment hint in sectors (4 KiB). */
    public static final int DISCARD_SECTOR_ALIGNMENT = 8;

    private final BlockBackend backend;
    private final byte[] id;
    private final int numQueues;
    private final byte[] config;
    private final BlockStats stats = new BlockStats();

    /**
     * A device over {@code backend} answering GET_ID with {@code id} (the NUL-padded serial, at most 20 bytes) and
     * offering {@code numQueues} request queues (1 to 64).
     */
    public VirtioBlockDevice(BlockBackend backend, byte[] id, int numQueues) {
        if (numQueues < 1 || numQueues > 64) {
            throw new IllegalArgumentException("virtio-blk: 1 to 64 queues, not " + numQueues);
        }
        if (id.length > VirtioBlk.ID_BYTES) {
            throw new IllegalArgumentException("virtio-blk: id longer than 20 bytes");
        }
        this.backend = backend;
        this.id = java.util.Arrays.copyOf(id, VirtioBlk.ID_BYTES);
        this.numQueues = numQueues;
        this.config = buildConfig();
    }

    public BlockBackend backend() {
        return backend;
    }

    @Override
    public int numQueues() {
        return numQueues;
    }

    public long capacitySectors() {
        return backend.sizeBytes() >>> VirtioBlk.SECTOR_SHIFT;
    }

    /** The feature bits this device offers (section 5.2.3 and the reserved bits of section 6). */
    @Override
    public long deviceFeatures() {
        long f = VirtioFeatures.bit(VirtioFeatures.VIRTIO_F_VERSION_1)
                | VirtioFeatures.bit(VirtioFeatures.VIRTIO_F_INDIRECT_DESC)
                | VirtioFeatures.bit(VirtioFeatures.VIRTIO_F_EVENT_IDX)
                | VirtioFeatures.bit(VirtioBlk.F_SIZE_MAX)
                | VirtioFeatures.bit(VirtioBlk.F_SEG_MAX)
                | VirtioFeatures.bit(VirtioBlk.F_BLK_SIZE)
                | VirtioFeatures.bit(VirtioBlk.F_TOPOLOGY)
                | VirtioFeatures.bit(VirtioBlk.F_FLUSH)
                | VirtioFeatures.bit(VirtioBlk.F_MQ);
        if (backend.readOnly()) {
            f |= VirtioFeatures.bit(VirtioBlk.F_RO);
        } else {
            f |= VirtioFeatures.bit(VirtioBlk.F_DISCARD) | VirtioFeatures.bit(VirtioBlk.F_WRITE_ZEROES);
        }
        return f;
    }

    /** struct virtio_blk_config (section 5.2.4), little-endian, {@link VirtioBlk#CONFIG_BYTES} long. */
    private byte[] buildConfig() {
        ByteBuffer b = ByteBuffer.allocate(VirtioBlk.CONFIG_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(VirtioBlk.CFG_CAPACITY, capacitySectors());
        b.putInt(VirtioBlk.CFG_SIZE_MAX, SIZE_MAX);
        b.putInt(VirtioBlk.CFG_SEG_MAX, QUEUE_SIZE - 2);
        b.putInt(VirtioBlk.CFG_BLK_SIZE, VirtioBlk.SECTOR_SIZE);
        // Topology: 4 KiB physical blocks (2^3 logical blocks), I/O of at least 4 KiB suggested.
        b.put(VirtioBlk.CFG_PHYSICAL_BLOCK_EXP, (byte) 3);
        b.put(VirtioBlk.CFG_ALIGNMENT_OFFSET, (byte) 0);
        b.putShort(VirtioBlk.CFG_MIN_IO_SIZE, (short) 8);
        b.putInt(VirtioBlk.CFG_OPT_IO_SIZE, 0);
        // writeback stays 0: CONFIG_WCE is not offered, so the driver does not read it.
        b.putShort(VirtioBlk.CFG_NUM_QUEUES, (short) numQueues);
        if (!backend.readOnly()) {
            b.putInt(VirtioBlk.CFG_MAX_DISCARD_SECTORS, MAX_DISCARD_SECTORS);
            b.putInt(VirtioBlk.CFG_MAX_DISCARD_SEG, MAX_DISCARD_SEG);
            b.putInt(VirtioBlk.CFG_DISCARD_SECTOR_ALIGNMENT, DISCARD_SECTOR_ALIGNMENT);
            b.putInt(VirtioBlk.CFG_MAX_WRITE_ZEROES_SECTORS, MAX_DISCARD_SECTORS);
            b.putInt(VirtioBlk.CFG_MAX_WRITE_ZEROES_SEG, MAX_DISCARD_SEG);
            b.put(VirtioBlk.CFG_WRITE_ZEROES_MAY_UNMAP, (byte) 1);
        }
        return b.array();
    }

    /** Size of the configuration space. */
    @Override
    public int configSize() {
        return config.length;
    }

    /**
     * Reads {@code len} bytes of the configuration space at {@code offset} into {@code dst[dstOff..]}; bytes beyond
     * it read as zero (as the transport's config window may be larger).
     */
    @Override
    public void readConfig(int offset, byte[] dst, int dstOff, int len) {
        for (int i = 0; i < len; i++) {
            int at = offset + i;
            dst[dstOff + i] = at >= 0 && at < config.length ? config[at] : 0;
        }
    }

    /** A copy of the configuration space. */
    public byte[] configSpace() {
        return config.clone();
    }

    byte[] id() {
        return id;
    }

    /** The device's I/O accounting, across resets. */
    public BlockStats stats() {
        return stats;
    }

    /** The request handler for one enabled queue: one per queue, used by one thread. */
    public BlockRequestHandler handler(VirtQueue queue) {
        return new BlockRequestHandler(this, queue);
    }

    @Override
    public int deviceType() {
        return DEVICE_TYPE;
    }

    @Override
    public int maxQueueSize(int index) {
        return QUEUE_SIZE;
    }

    @Override
    public QueueHandler activate(int index, VirtQueue queue, long negotiatedFeatures) {
        return handler(queue);
    }

    @Override
    public String name() {
        return "virtio-blk";
    }
}
