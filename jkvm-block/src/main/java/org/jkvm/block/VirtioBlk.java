package org.jkvm.block;

/**
 * virtio-blk constants (virtio 1.2 section 5.2): device ID, feature bits, request types, status values and the
 * offsets of struct virtio_blk_config.
 */
public final class VirtioBlk {
    /** Device ID 2 (section 5.2.1). */
    public static final int DEVICE_ID = 2;
    public static final int SECTOR_SIZE = 512;
    public static final int SECTOR_SHIFT = 9;
    /** Device ID string returned by GET_ID: NUL-padded ASCII, up to 20 bytes. */
    public static final int ID_BYTES = 20;

    // Feature bits (section 5.2.3).
    public static final int F_SIZE_MAX = 1;
    public static final int F_SEG_MAX = 2;
    public static final int F_GEOMETRY = 4;
    public static final int F_RO = 5;
    public static final int F_BLK_SIZE = 6;
    public static final int F_FLUSH = 9;
    public static final int F_TOPOLOGY = 10;
    public static final int F_CONFIG_WCE = 11;
    public static final int F_MQ = 12;
    public static final int F_DISCARD = 13;
    public static final int F_WRITE_ZEROES = 14;
    public static final int F_LIFETIME = 15;
    public static final int F_SECURE_ERASE = 16;
    public static final int F_ZONED = 17;

    // Request types (section 5.2.6).
    public static final int T_IN = 0;
    public static final int T_OUT = 1;
    public static final int T_FLUSH = 4;
    public static final int T_GET_ID = 8;
    public static final int T_GET_LIFETIME = 10;
    public static final int T_DISCARD = 11;
    public static final int T_WRITE_ZEROES = 13;
    public static final int T_SECURE_ERASE = 14;

    // Status byte.
    public static final byte S_OK = 0;
    public static final byte S_IOERR = 1;
    public static final byte S_UNSUPP = 2;

    /** struct virtio_blk_req's header: le32 type, le32 reserved, le64 sector. */
    public static final int REQ_HEADER_BYTES = 16;
    /** struct virtio_blk_discard_write_zeroes: le64 sector, le32 num_sectors, le32 flags. */
    public static final int DISCARD_SEGMENT_BYTES = 16;
    /** The unmap flag of a write-zeroes segment; every other flag bit is unknown. */
    public static final int WRITE_ZEROES_FLAG_UNMAP = 1;

    // struct virtio_blk_config offsets (section 5.2.4).
    public static final int CFG_CAPACITY = 0;
    public static final int CFG_SIZE_MAX = 8;
    public static final int CFG_SEG_MAX = 12;
    public static final int CFG_GEOMETRY = 16;
    public static final int CFG_BLK_SIZE = 20;
    public static final int CFG_PHYSICAL_BLOCK_EXP = 24;
    public static final int CFG_ALIGNMENT_OFFSET = 25;
    public static final int CFG_MIN_IO_SIZE = 26;
    public static final int CFG_OPT_IO_SIZE = 28;
    public static final int CFG_WRITEBACK = 32;
    public static final int CFG_NUM_QUEUES = 34;
    public static final int CFG_MAX_DISCARD_SECTORS = 36;
    public static final int CFG_MAX_DISCARD_SEG = 40;
    public static final int CFG_DISCARD_SECTOR_ALIGNMENT = 44;
    public static final int CFG_MAX_WRITE_ZEROES_SECTORS = 48;
    public static final int CFG_MAX_WRITE_ZEROES_SEG = 52;
    public static final int CFG_WRITE_ZEROES_MAY_UNMAP = 56;
    /** The config space up to and including unused1[3] (no secure erase, no zoned fields). */
    public static final int CONFIG_BYTES = 60;

    private VirtioBlk() {}
}
