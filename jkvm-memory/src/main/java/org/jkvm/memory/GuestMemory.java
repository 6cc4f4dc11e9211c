package org.jkvm.memory;

import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Guest-physical RAM as the VMM sees it. Every access is bounds-checked against the RAM regions: an address or
 * length the guest controls can never reach host memory outside guest RAM; such an access throws
 * {@link GuestMemoryException}. Multi-byte values are little-endian, as on x86.
 */
public interface GuestMemory extends AutoCloseable {
    /** RAM regions in ascending guest-physical order. */
    List<MemoryRegion> regions();

    /** Total bytes of RAM. */
    long sizeBytes();

    /** True if {@code [gpa, gpa+len)} is entirely RAM inside one region. */
    boolean contains(long gpa, long len);

    /**
     * A view of {@code [gpa, gpa+len)}, which must lie inside one RAM region. The view is valid while this memory is
     * open; it is how devices do zero-copy I/O.
     */
    MemorySegment slice(long gpa, long len);

    byte readByte(long gpa);

    short readShort(long gpa);

    int readInt(long gpa);

    long readLong(long gpa);

    void writeByte(long gpa, byte value);

    void writeShort(long gpa, short value);

    void writeInt(long gpa, int value);

    void writeLong(long gpa, long value);

    /** Copies {@code len} bytes from guest memory into {@code dst[off..]}. */
    void read(long gpa, byte[] dst, int off, int len);

    /** Copies {@code len} bytes from {@code src[off..]} into guest memory. */
    void write(long gpa, byte[] src, int off, int len);

    default void write(long gpa, byte[] src) {
        write(gpa, src, 0, src.length);
    }

    /** Fills {@code [gpa, gpa+len)} with {@code value}. */
    void fill(long gpa, long len, byte value);

    @Override
    void close();
}
