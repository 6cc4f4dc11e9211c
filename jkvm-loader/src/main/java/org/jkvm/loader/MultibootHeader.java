package org.jkvm.loader;

/**
 * The Multiboot 0.6.96 header (section 3.1 "OS image format"): within the first 8192 bytes of the image, 32-bit
 * aligned, magic 0x1BADB002, flags, and a checksum that makes the three sum to zero; with flag 16 the a.out-kludge
 * address fields follow (section 3.1.3 "The address fields of Multiboot header").
 *
 * @param fileOffset where the header starts in the file
 * @param flags      the feature flags
 * @param fieldBytes how many header bytes lie inside the 8192-byte search window (12 at least)
 */
record MultibootHeader(int fileOffset, long flags, long headerAddr, long loadAddr, long loadEndAddr,
                       long bssEndAddr, long entryAddr, int fieldBytes) {
    static final long MAGIC = 0x1BADB002L;
    static final int SEARCH_BYTES = 8192;
    /** Flag 0: modules page aligned. */
    static final long PAGE_ALIGN = 1;
    /** Flag 1: memory information required. */
    static final long MEMORY_INFO = 1 << 1;
    /** Flag 2: video mode table required. */
    static final long VIDEO_MODE = 1 << 2;
    /** Flag 16: the address fields are valid (the a.out kludge). */
    static final long AOUT_KLUDGE = 1 << 16;
    /** Flags 0-15 are "required": a loader that does not know one must refuse the image. */
    static final long REQUIRED_MASK = 0xffff;
    /** The required flags jkvm honours. */
    static final long SUPPORTED_REQUIRED = PAGE_ALIGN | MEMORY_INFO;
    static final int AOUT_HEADER_BYTES = 32;

    /** The result of looking for a header: the first valid one, else where a bad-checksum one was seen. */
    record Scan(MultibootHeader header, int badChecksumOffset) {
    }

    /** Scans the first 8192 bytes ({@code head}) of an image for a multiboot header. */
    static Scan scan(byte[] head) {
        int window = Math.min(head.length, SEARCH_BYTES);
        int bad = -1;
        for (int off = 0; off + 12 <= window; off += 4) {
            if (Le.u32(head, off) != MAGIC) {
                continue;
            }
            long flags = Le.u32(head, off + 4);
            long checksum = Le.u32(head, off + 8);
            if (((MAGIC + flags + checksum) & 0xffffffffL) != 0) {
                if (bad < 0) {
                    bad = off;
                }
                continue;
            }
            int fieldBytes = window - off;
            long[] a = new long[5];
            for (int i = 0; i < 5; i++) {
                int o = off + 12 + 4 * i;
                a[i] = o + 4 <= window ? Le.u32(head, o) : 0;
            }
            return new Scan(new MultibootHeader(off, flags, a[0], a[1], a[2], a[3], a[4], fieldBytes), bad);
        }
        return new Scan(null, bad);
    }

    boolean hasAddressFields() {
        return (flags & AOUT_KLUDGE) != 0;
    }
}
