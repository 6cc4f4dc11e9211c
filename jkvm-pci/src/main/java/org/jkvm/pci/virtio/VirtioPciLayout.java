package org.jkvm.pci.virtio;

/**
 * Where the virtio-pci modern structures (virtio 1.2 section 4.1.4) live: all in one 64-bit memory BAR, each in
 * its own 4 KiB page (so a VMM could map them apart), and the capability constants that point at them.
 *
 * <pre>
 * BAR 0 (64-bit, 32 KiB)
 *   0x0000  common configuration (virtio_pci_common_cfg, 60 bytes)
 *   0x1000  ISR status (1 byte)
 *   0x2000  device-specific configuration
 *   0x3000  notifications: queue n at 0x3000 + n * 4 (queue_notify_off = n, notify_off_multiplier = 4)
 *   0x4000  MSI-X table (16 bytes per vector, up to 256 vectors)
 *   0x5000  MSI-X pending bit array
 * </pre>
 */
public final class VirtioPciLayout {
    public static final int VENDOR_ID = 0x1af4;
    /** Modern devices: 0x1040 + the virtio device ID (4.1.2). */
    public static final int DEVICE_ID_BASE = 0x1040;
    /** Non-transitional devices have revision 1 or more (4.1.2.1). */
    public static final int REVISION = 1;
    public static final int SUBSYSTEM_VENDOR_ID = 0x1af4;
    /** At least 0x40 for a non-transitional device (4.1.2.1); QEMU's value. */
    public static final int SUBSYSTEM_ID = 0x1100;

    public static final int BAR = 0;
    public static final long BAR_SIZE = 0x8000;
    public static final int COMMON_OFFSET = 0x0000;
    public static final int COMMON_LENGTH = 60;
    public static final int ISR_OFFSET = 0x1000;
    public static final int ISR_LENGTH = 1;
    public static final int DEVICE_OFFSET = 0x2000;
    public static final int DEVICE_WINDOW = 0x1000;
    public static final int NOTIFY_OFFSET = 0x3000;
    public static final int NOTIFY_OFF_MULTIPLIER = 4;
    public static final int MSIX_TABLE_OFFSET = 0x4000;
    public static final int MSIX_PBA_OFFSET = 0x5000;
    /** Vectors: one per queue plus one for configuration changes, at most what the table page holds. */
    public static final int MAX_VECTORS = 256;
    /** At most this many queues, so that the notify area stays in its page. */
    public static final int MAX_QUEUES = 0x1000 / NOTIFY_OFF_MULTIPLIER;

    /** Vendor-specific capability ID (PCI 3.0) that every virtio structure capability uses. */
    public static final int CAP_VENDOR = 0x09;
    public static final int CAP_COMMON_CFG = 1;
    public static final int CAP_NOTIFY_CFG = 2;
    public static final int CAP_ISR_CFG = 3;
    public static final int CAP_DEVICE_CFG = 4;
    public static final int CAP_PCI_CFG = 5;
    /** struct virtio_pci_cap: cap_vndr, cap_next, cap_len, cfg_type, bar, id, padding[2], offset, length. */
    public static final int CAP_BYTES = 16;
    /** virtio_pci_notify_cap adds notify_off_multiplier. */
    public static final int NOTIFY_CAP_BYTES = 20;
    /** virtio_pci_cfg_cap adds pci_cfg_data[4]. */
    public static final int PCI_CFG_CAP_BYTES = 20;
    static final int CAP_LEN = 2;
    static final int CAP_CFG_TYPE = 3;
    static final int CAP_BAR = 4;
    static final int CAP_ID = 5;
    static final int CAP_OFFSET = 8;
    static final int CAP_LENGTH = 12;
    static final int CAP_EXTRA = 16;

    // virtio_pci_common_cfg field offsets (4.1.4.3)
    static final int DEVICE_FEATURE_SELECT = 0;
    static final int DEVICE_FEATURE = 4;
    static final int DRIVER_FEATURE_SELECT = 8;
    static final int DRIVER_FEATURE = 12;
    static final int CONFIG_MSIX_VECTOR = 16;
    static final int NUM_QUEUES = 18;
    static final int DEVICE_STATUS = 20;
    static final int CONFIG_GENERATION = 21;
    static final int QUEUE_SELECT = 22;
    static final int QUEUE_SIZE = 24;
    static final int QUEUE_MSIX_VECTOR = 26;
    static final int QUEUE_ENABLE = 28;
    static final int QUEUE_NOTIFY_OFF = 30;
    static final int QUEUE_DESC = 32;
    static final int QUEUE_DRIVER = 40;
    static final int QUEUE_DEVICE = 48;
    static final int QUEUE_NOTIFY_DATA = 56;
    static final int QUEUE_RESET = 58;
    /** Field starts and widths in bytes, in offset order. */
    static final int[] FIELD_OFFSETS = {0, 4, 8, 12, 16, 18, 20, 21, 22, 24, 26, 28, 30, 32, 40, 48, 56, 58};
    static final int[] FIELD_SIZES = {4, 4, 4, 4, 2, 2, 1, 1, 2, 2, 2, 2, 2, 8, 8, 8, 2, 2};

    /** "No vector" for config_msix_vector and queue_msix_vector (4.1.5.1.2). */
    public static final int NO_VECTOR = 0xffff;
    public static final int ISR_QUEUE = 1;
    public static final int ISR_CONFIG = 2;

    private VirtioPciLayout() {
    }
}
