package org.jkvm.virtio;

/**
 * The split virtqueue's layout in guest memory (virtio 1.2 section 2.7), as byte offsets, and its flag values.
 *
 * <pre>
 * descriptor table (16-aligned): struct virtq_desc { le64 addr; le32 len; le16 flags; le16 next; } [size]
 * available ring (2-aligned):    le16 flags; le16 idx; le16 ring[size]; le16 used_event;
 * used ring (4-aligned):         le16 flags; le16 idx; struct { le32 id; le32 len; } ring[size]; le16 avail_event;
 * </pre>
 */
public final class Virtq {
    /** The largest queue size: the highest power of two that fits the 16-bit indices (section 2.7.13). */
    public static final int MAX_QUEUE_SIZE = 32768;

    public static final int DESC_SIZE = 16;
    public static final int DESC_ADDR = 0;
    public static final int DESC_LEN = 8;
    public static final int DESC_FLAGS = 12;
    public static final int DESC_NEXT = 14;

    /** The buffer continues via the next field (section 2.7.5). */
    public static final int DESC_F_NEXT = 1;
    /** The buffer is device write-only (otherwise device read-only). */
    public static final int DESC_F_WRITE = 2;
    /** The buffer holds a table of descriptors (section 2.7.5.3). */
    public static final int DESC_F_INDIRECT = 4;

    public static final int AVAIL_FLAGS = 0;
    public static final int AVAIL_IDX = 2;
    public static final int AVAIL_RING = 4;
    /** The driver does not want used-buffer notifications (without VIRTIO_F_EVENT_IDX; section 2.7.7). */
    public static final int AVAIL_F_NO_INTERRUPT = 1;

    public static final int USED_FLAGS = 0;
    public static final int USED_IDX = 2;
    public static final int USED_RING = 4;
    public static final int USED_ELEM_SIZE = 8;
    /** The device does not want available-buffer notifications (without VIRTIO_F_EVENT_IDX; section 2.7.10). */
    public static final int USED_F_NO_NOTIFY = 1;

    public static final int DESC_ALIGN = 16;
    public static final int AVAIL_ALIGN = 2;
    public static final int USED_ALIGN = 4;

    /** A chain's buffers add up to at most 2^32 bytes (section 2.7.5.1). */
    public static final long MAX_CHAIN_BYTES = 1L << 32;

    private Virtq() {}

    public static long descTableBytes(int size) {
        return (long) DESC_SIZE * size;
    }

    /** flags, idx, ring[size], used_event. */
    public static long availRingBytes(int size) {
        return 6L + 2L * size;
    }

    /** flags, idx, ring[size], avail_event. */
    public static long usedRingBytes(int size) {
        return 6L + (long) USED_ELEM_SIZE * size;
    }

    /** Offset of used_event in the available ring. */
    public static long usedEventOffset(int size) {
        return AVAIL_RING + 2L * size;
    }

    /** Offset of avail_event in the used ring. */
    public static long availEventOffset(int size) {
        return USED_RING + (long) USED_ELEM_SIZE * size;
    }

    /**
     * vring_need_event (section 2.7.7.2 with VIRTIO_F_EVENT_IDX): true if moving an index from {@code oldIdx} to
     * {@code newIdx} crossed {@code eventIdx}, i.e. the other side asked to be told once the index passes it. All
     * values are 16-bit and wrap.
     */
    public static boolean needEvent(int eventIdx, int newIdx, int oldIdx) {
        return ((newIdx - eventIdx - 1) & 0xffff) < ((newIdx - oldIdx) & 0xffff);
    }

    public static boolean isValidSize(int size, int maxSize) {
        return size > 0 && size <= maxSize && size <= MAX_QUEUE_SIZE && Integer.bitCount(size) == 1;
    }
}
