package org.jkvm.virtio;

/**
 * Device-independent feature bits (virtio 1.2 section 6, "Reserved Feature Bits") and device status bits (section
 * 2.1). Feature bits are bit numbers in the 64-bit feature word; {@link #bit} turns one into a mask.
 */
public final class VirtioFeatures {
    /** The driver can use descriptors with VIRTQ_DESC_F_INDIRECT (section 2.7.5.3). */
    public static final int VIRTIO_F_INDIRECT_DESC = 28;
    /** used_event / avail_event notification suppression (sections 2.7.7, 2.7.10). */
    public static final int VIRTIO_F_EVENT_IDX = 29;
    /** Compliance with virtio 1.0 or later (not a legacy device). */
    public static final int VIRTIO_F_VERSION_1 = 32;
    public static final int VIRTIO_F_ACCESS_PLATFORM = 33;
    /** The packed virtqueue layout (section 2.8); jkvm implements only the split layout. */
    public static final int VIRTIO_F_RING_PACKED = 34;
    public static final int VIRTIO_F_IN_ORDER = 35;
    public static final int VIRTIO_F_ORDER_PLATFORM = 36;
    public static final int VIRTIO_F_SR_IOV = 37;
    public static final int VIRTIO_F_NOTIFICATION_DATA = 38;

    // Device status field (section 2.1).
    public static final int STATUS_ACKNOWLEDGE = 1;
    public static final int STATUS_DRIVER = 2;
    public static final int STATUS_DRIVER_OK = 4;
    public static final int STATUS_FEATURES_OK = 8;
    /** Set by the device when it hit an error it cannot recover from without a reset (section 2.1.2). */
    public static final int STATUS_DEVICE_NEEDS_RESET = 64;
    public static final int STATUS_FAILED = 128;

    private VirtioFeatures() {}

    /** The mask of feature bit {@code bit}. */
    public static long bit(int bit) {
        if (bit < 0 || bit > 63) {
            throw new IllegalArgumentException("feature bit " + bit);
        }
        return 1L << bit;
    }

    /** True if {@code features} has bit {@code bit} set. */
    public static boolean has(long features, int bit) {
        return (features & bit(bit)) != 0;
    }
}
