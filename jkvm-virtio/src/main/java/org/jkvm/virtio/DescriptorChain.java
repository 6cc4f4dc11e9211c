package org.jkvm.virtio;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One descriptor chain popped from a {@link VirtQueue}, flattened (indirect tables resolved) and validated: every
 * buffer lies inside one region of guest RAM, the device-readable buffers come first and the device-writable ones
 * after them (virtio 1.2 section 2.7.4.2), and the lengths add up to at most 2^32 bytes.
 *
 * <p>A holder, reused for every chain: its arrays are sized once to the queue's maximum chain length, so popping a
 * chain allocates nothing. The values were read once from guest memory while walking; a driver that rewrites the
 * descriptors afterwards changes nothing here (no double fetch). Buffer <em>contents</em> are still guest memory
 * that the driver may change at any time: read each field once.
 *
 * <p>The device-readable buffers form one byte stream (offsets {@code 0 .. readableBytes()}) and the
 * device-writable ones another; the copy helpers work on those streams, so a device never depends on how the driver
 * split a header or a status byte across descriptors (section 2.7.4, "Message Framing").
 */
public final class DescriptorChain {
    private final GuestRegions regions;
    private final long[] gpa;
    private final long[] length;
    private final short[] flags;
    private final int[] region;
    private int head;
    private int count;
    private int readableCount;
    private long readableBytes;
    private long writableBytes;
    private boolean indirect;
    private boolean sawWritable;

    DescriptorChain(GuestRegions regions, int capacity) {
        this.regions = regions;
        gpa = new long[capacity];
        length = new long[capacity];
        flags = new short[capacity];
        region = new int[capacity];
    }

    /** Most buffers one chain can hold (descriptors of length zero are walked but not kept). */
    public int capacity() {
        return gpa.length;
    }

    /** The head descriptor index: what {@link VirtQueue#addUsed} takes back. */
    public int head() {
        return head;
    }

    /** Number of buffers (non-empty descriptors). */
    public int count() {
        return count;
    }

    /** Buffers {@code 0 .. readableCount()-1} are device-readable. */
    public int readableCount() {
        return readableCount;
    }

    /** Buffers {@code readableCount() .. count()-1} are device-writable. */
    public int writableCount() {
        return count - readableCount;
    }

    public long readableBytes() {
        return readableBytes;
    }

    public long writableBytes() {
        return writableBytes;
    }

    /** True if the chain went through an indirect table. */
    public boolean usedIndirect() {
        return indirect;
    }

    public long gpa(int i) {
        checkIndex(i);
        return gpa[i];
    }

    public long length(int i) {
        checkIndex(i);
        return length[i];
    }

    /** The descriptor flags as the driver wrote them (only VIRTQ_DESC_F_WRITE matters once flattened). */
    public int flags(int i) {
        checkIndex(i);
        return flags[i] & 0xffff;
    }

    public boolean isWritable(int i) {
        return i >= readableCount && i < count;
    }

    /**
     * The host virtual address of buffer {@code i}: for vectored system calls (preadv/pwritev) straight into guest
     * RAM. Valid while the guest memory stays mapped.
     */
    public long hva(int i) {
        checkIndex(i);
        int r = region[i];
        return regions.host(r).address() + (gpa[i] - regions.gpa(r));
    }

    /**
     * Buffer {@code i} as a slice of the host mapping of guest RAM (inside guest RAM: checked when the chain was
     * popped), for a device that fills or reads it in place.
     */
    public MemorySegment segment(int i) {
        checkIndex(i);
        int r = region[i];
        return regions.host(r).asSlice(gpa[i] - regions.gpa(r), length[i]);
    }

    /**
     * Copies up to {@code len} bytes of the readable stream from {@code offset} into {@code dst} at
     * {@code dstOffset}; returns the bytes copied (fewer at the end of the stream).
     */
    public long readReadable(long offset, MemorySegment dst, long dstOffset, long len) {
        return copy(0, readableCount, offset, dst, dstOffset, len, false);
    }

    /**
     * Copies up to {@code len} bytes from {@code src} at {@code srcOffset} into the writable stream at
     * {@code offset}; returns the bytes copied (fewer at the end of the stream).
     */
    public long writeWritable(long offset, MemorySegment src, long srcOffset, long len) {
        return copy(readableCount, count, offset, src, srcOffset, len, true);
    }

    /** Writes one byte of the writable stream; false if {@code offset} is past its end. */
    public boolean writeWritableByte(long offset, byte value) {
        long skip = offset;
        for (int i = readableCount; i < count; i++) {
            if (skip < length[i]) {
                MemorySegment h = regions.host(region[i]);
                h.set(ValueLayout.JAVA_BYTE, gpa[i] - regions.gpa(region[i]) + skip, value);
                return true;
            }
            skip -= length[i];
        }
        return false;
    }

    /** Fills up to {@code len} bytes of the writable stream from {@code offset} with {@code value}. */
    public long fillWritable(long offset, long len, byte value) {
        long skip = offset;
        long done = 0;
        for (int i = readableCount; i < count && done < len; i++) {
            if (skip >= length[i]) {
                skip -= length[i];
                continue;
            }
            long n = Math.min(length[i] - skip, len - done);
            regions.host(region[i]).asSlice(gpa[i] - regions.gpa(region[i]) + skip, n).fill(value);
            done += n;
            skip = 0;
        }
        return done;
    }

    private long copy(int from, int to, long offset, MemorySegment other, long otherOffset, long len,
                      boolean toGuest) {
        long skip = offset;
        long done = 0;
        for (int i = from; i < to && done < len; i++) {
            if (skip >= length[i]) {
                skip -= length[i];
                continue;
            }
            long n = Math.min(length[i] - skip, len - done);
            MemorySegment h = regions.host(region[i]);
            long hostOffset = gpa[i] - regions.gpa(region[i]) + skip;
            if (toGuest) {
                MemorySegment.copy(other, otherOffset + done, h, hostOffset, n);
            } else {
                MemorySegment.copy(h, hostOffset, other, otherOffset + done, n);
            }
            done += n;
            skip = 0;
        }
        return done;
    }

    private void checkIndex(int i) {
        if (i < 0 || i >= count) {
            throw new IndexOutOfBoundsException("buffer " + i + " of " + count);
        }
    }

    // ---- filled by VirtQueue's walk ----

    void reset(int headIndex) {
        head = headIndex;
        count = 0;
        readableCount = 0;
        readableBytes = 0;
        writableBytes = 0;
        indirect = false;
        sawWritable = false;
    }

    void markIndirect() {
        indirect = true;
    }

    /** Adds one descriptor, validating range and direction; {@code len} is the unsigned 32-bit length. */
    void add(long addr, long len, int descFlags) throws VirtQueueException {
        boolean writable = (descFlags & Virtq.DESC_F_WRITE) != 0;
        if (!writable && sawWritable) {
            throw new VirtQueueException(QueueError.READABLE_AFTER_WRITABLE, "head " + head);
        }
        if (readableBytes + writableBytes + len > Virtq.MAX_CHAIN_BYTES) {
            throw new VirtQueueException(QueueError.TOTAL_LENGTH_OVERFLOW, "head " + head);
        }
        int r = regions.find(addr, len);
        if (r < 0) {
            throw new VirtQueueException(QueueError.BUFFER_OUTSIDE_RAM,
                    String.format("head %d: [0x%x, +0x%x)", head, addr, len));
        }
        if (writable) {
            sawWritable = true;
            writableBytes += len;
        } else {
            readableBytes += len;
        }
        if (len == 0) {
            return;
        }
        if (count == gpa.length) {
            throw new VirtQueueException(QueueError.CHAIN_TOO_LONG, "head " + head + ": more than "
                    + gpa.length + " buffers");
        }
        gpa[count] = addr;
        length[count] = len;
        flags[count] = (short) descFlags;
        region[count] = r;
        count++;
        if (!writable) {
            readableCount = count;
        }
    }
}
