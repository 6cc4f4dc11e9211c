package org.jkvm.block;

import java.lang.foreign.MemorySegment;

/**
 * Where a block device's sectors live. Calls on the request path return a byte count or {@code -errno} instead of
 * throwing, so a host I/O error becomes VIRTIO_BLK_S_IOERR for that one request and the device keeps going.
 * Offsets and lengths are in bytes and already checked against {@link #sizeBytes()} by the device.
 */
public interface BlockBackend extends AutoCloseable {
    /** The disk's size in bytes (a multiple of 512: what the guest sees as capacity). */
    long sizeBytes();

    boolean readOnly();

    /**
     * Memory alignment the backend needs for zero-copy I/O (4096 under O_DIRECT, 1 otherwise). Buffers that are not
     * aligned still work (the backend falls back to buffered I/O), but the device may bounce them through an aligned
     * buffer to keep O_DIRECT.
     */
    default int memoryAlignment() {
        return 1;
    }

    /**
     * Reads {@code totalBytes} at {@code offset} into the {@code iovcnt} struct iovec at {@code iov} (host virtual
     * addresses in guest RAM). Returns {@code totalBytes} or {@code -errno}; a short read is an error (EIO).
     */
    long readv(long offset, MemorySegment iov, int iovcnt, long totalBytes);

    /** Writes {@code totalBytes} from the iovecs at {@code offset}; returns {@code totalBytes} or {@code -errno}. */
    long writev(long offset, MemorySegment iov, int iovcnt, long totalBytes);

    /** Reads {@code len} bytes into one native buffer; returns {@code len} or {@code -errno}. */
    long read(long offset, MemorySegment buf, long len);

    /** Writes {@code len} bytes from one native buffer; returns {@code len} or {@code -errno}. */
    long write(long offset, MemorySegment buf, long len);

    /** Makes completed writes durable (fdatasync); 0 or {@code -errno}. */
    int flush();

    /** Deallocates a range if the host can (a hint: 0 when the filesystem cannot); 0 or {@code -errno}. */
    int discard(long offset, long len);

    /** Makes a range read as zeroes, deallocating it if {@code mayUnmap}; 0 or {@code -errno}. */
    int writeZeroes(long offset, long len, boolean mayUnmap);

    @Override
    void close();
}
