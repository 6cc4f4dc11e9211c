package org.jkvm.virtio;

/**
 * Why a virtqueue or one of its descriptor chains is unusable. Every one is the driver's fault (or a corrupt saved
 * state); the device answers with DEVICE_NEEDS_RESET (virtio 1.2 section 2.1.2) and stops using the queue until the
 * driver resets it. The section of the spec each rule comes from is named on the constant.
 */
public enum QueueError {
    /** Queue size zero, not a power of two, or above the device's maximum (section 2.7: at most 32768). */
    INVALID_SIZE("queue size is not a power of two within the device's maximum"),
    /** Descriptor table not 16-aligned, available ring not 2-aligned or used ring not 4-aligned (section 2.7). */
    MISALIGNED_RING("ring address misaligned (descriptor table 16, available ring 2, used ring 4)"),
    /** A ring does not lie inside one region of guest RAM. */
    RING_OUTSIDE_RAM("ring is not inside guest RAM"),
    /** A saved {@link QueueState} that cannot be a real queue's. */
    INVALID_STATE("saved queue state is inconsistent"),
    /** The available index ran more than the queue size ahead of the device (section 2.7.13). */
    AVAIL_INDEX_RUNAWAY("available index is more than the queue size ahead of the device"),
    /** The available ring names a head index at or above the queue size. */
    HEAD_OUT_OF_RANGE("available ring names a descriptor beyond the queue size"),
    /** A descriptor's {@code next} is at or above the queue size. */
    NEXT_OUT_OF_RANGE("descriptor next index beyond the queue size"),
    /** More descriptors than the queue size: a loop (section 2.7.5.3.1: no chain longer than the queue size). */
    CHAIN_TOO_LONG("descriptor chain longer than the queue size (a loop)"),
    /** A buffer not (entirely) inside one region of guest RAM. */
    BUFFER_OUTSIDE_RAM("buffer is not inside guest RAM"),
    /** A device-readable descriptor after a device-writable one (section 2.7.4.2). */
    READABLE_AFTER_WRITABLE("device-readable descriptor after a device-writable one"),
    /** The chain's buffers add up to more than 2^32 bytes (section 2.7.5.1). */
    TOTAL_LENGTH_OVERFLOW("descriptor chain longer than 2^32 bytes in total"),
    /** VIRTQ_DESC_F_INDIRECT without VIRTIO_F_INDIRECT_DESC negotiated (section 2.7.5.3.1). */
    INDIRECT_NOT_NEGOTIATED("indirect descriptor without VIRTIO_F_INDIRECT_DESC"),
    /** VIRTQ_DESC_F_INDIRECT together with VIRTQ_DESC_F_NEXT (section 2.7.5.3.1). */
    INDIRECT_WITH_NEXT("indirect descriptor with VIRTQ_DESC_F_NEXT"),
    /** VIRTQ_DESC_F_INDIRECT inside an indirect table (section 2.7.5.3.1). */
    NESTED_INDIRECT("indirect descriptor inside an indirect table"),
    /** Indirect table length zero or not a multiple of 16 (section 2.7.5.3). */
    INDIRECT_TABLE_BAD_LENGTH("indirect table length is zero or not a multiple of 16"),
    /** Indirect table with more entries than the device accepts in one chain. */
    INDIRECT_TABLE_TOO_LARGE("indirect table has more descriptors than the device accepts"),
    /** An indirect descriptor's {@code next} beyond the table. */
    INDIRECT_NEXT_OUT_OF_RANGE("indirect descriptor next index beyond the table"),
    /** More descriptors followed inside an indirect table than it holds: a loop. */
    INDIRECT_LOOP("indirect descriptor chain longer than its table (a loop)"),
    /**
     * A well-formed chain that the device type cannot answer at all, e.g. a block request without a device-writable
     * status byte: there is nowhere to report the error, so the device needs a reset (as QEMU's virtio_error).
     */
    BAD_REQUEST_FRAMING("request lacks the framing its device type requires");

    private final String description;

    QueueError(String description) {
        this.description = description;
    }

    /** One line saying what is wrong, for logs and error messages. */
    public String description() {
        return description;
    }
}
