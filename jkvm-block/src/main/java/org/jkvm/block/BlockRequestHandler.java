package org.jkvm.block;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import org.jkvm.sys.Libc;
import org.jkvm.virtio.DescriptorChain;
import org.jkvm.virtio.QueueError;
import org.jkvm.virtio.VirtQueue;
import org.jkvm.virtio.VirtQueueException;
import org.jkvm.virtio.VirtioDevice;

/**
 * Processes the requests of one virtio-blk queue (virtio 1.2 section 5.2.6): struct virtio_blk_req is a 16-byte
 * device-readable header (le32 type, le32 reserved, le64 sector), data, and a device-writable status byte at the very
 * end. The header and data may be split across descriptors any way the driver likes (section 2.7.4): the handler
 * reads the readable and writable parts as byte streams.
 *
 * <p>Data moves straight between guest RAM and the image: the chain's buffers become a struct iovec array (allocated
 * once, reused) for preadv/pwritev. Under O_DIRECT, guest buffers that are not 4 KiB-aligned are bounced through an
 * aligned buffer so that an aligned request still bypasses the host cache.
 *
 * <p>Outcomes: a malformed chain (from {@link VirtQueue#pop}) or a request without a status byte is a
 * {@link VirtQueueException}: the transport sets DEVICE_NEEDS_RESET. Everything else completes with a status:
 * <ul>
 * <li>OK;
 * <li>IOERR for a header shorter than 16 bytes, data in the wrong direction (IN with device-readable data, OUT with
 * device-writable data besides the status), data not a multiple of 512 bytes, sectors beyond the capacity
 * (section 5.2.6.1: the driver MUST NOT), a write to a read-only disk (5.2.6.2: MUST set IOERR and write nothing),
 * a bad discard/write-zeroes payload, and any host I/O error (the device keeps working);
 * <li>UNSUPP for unknown request types, types not offered (GET_LIFETIME, SECURE_ERASE, zoned), discard or write
 * zeroes with unknown flags, and discard with the unmap flag (5.2.6.2).
 * </ul>
 * Every completion writes the whole device-writable part (data, zeroes where nothing was produced, status), and
 * reports exactly that length in the used ring.
 */
public final class BlockRequestHandler implements VirtioDevice.QueueHandler {
    private static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final int BOUNCE_BYTES = 1 << 20;

    private final VirtioBlockDevice device;
    private final BlockBackend backend;
    private final VirtQueue queue;
    private final DescriptorChain chain;
    private final Arena arena = Arena.ofAuto();
    private final MemorySegment header;
    private final MemorySegment segment;
    private final MemorySegment id;
    private final MemorySegment iov;
    private final long[] segSector = new long[VirtioBlockDevice.MAX_DISCARD_SEG];
    private final long[] segCount = new long[VirtioBlockDevice.MAX_DISCARD_SEG];
    private final boolean[] segUnmap = new boolean[VirtioBlockDevice.MAX_DISCARD_SEG];
    private MemorySegment bounce;
    private final BlockStats stats;
    /** Set by {@link #result} when the host failed the request being handled. */
    private boolean hostFailed;
    /** Bytes the discard or write-zeroes request being handled covers. */
    private long unmapBytes;

    private long requests;
    private long ioErrors;
    private long unsupported;
    private int lastErrno;

    BlockRequestHandler(VirtioBlockDevice device, VirtQueue queue) {
        if (queue.maxSize() > Libc.IOV_MAX) {
            throw new IllegalArgumentException("virtio-blk queue larger than IOV_MAX: " + queue.maxSize());
        }
        this.device = device;
        this.backend = device.backend();
        this.queue = queue;
        this.stats = device.stats();
        this.chain = queue.newChain();
        this.header = arena.allocate(VirtioBlk.REQ_HEADER_BYTES, 8);
        this.segment = arena.allocate(VirtioBlk.DISCARD_SEGMENT_BYTES, 8);
        this.id = arena.allocate(VirtioBlk.ID_BYTES);
        MemorySegment.copy(device.id(), 0, id, ValueLayout.JAVA_BYTE, 0, VirtioBlk.ID_BYTES);
        this.iov = arena.allocate(Libc.IOVEC_SIZE * chain.capacity(), 8);
    }

    /** Requests completed (any status). */
    public long requests() {
        return requests;
    }

    /** Requests completed with IOERR. */
    public long ioErrors() {
        return ioErrors;
    }

    /** Requests completed with UNSUPP. */
    public long unsupported() {
        return unsupported;
    }

    /** The errno of the last host I/O error (0 if none). */
    public int lastErrno() {
        return lastErrno;
    }

    /**
     * Completes every request the driver has made available (the queue notification handler). Notifications from
     * the driver are suppressed while working and re-enabled before returning. Returns true if the driver wants a
     * used-buffer notification (interrupt).
     *
     * @throws VirtQueueException the queue or a request is malformed: set DEVICE_NEEDS_RESET
     */
    @Override
    public boolean process() throws VirtQueueException {
        boolean completed = false;
        do {
            queue.disableNotification();
            while (queue.pop(chain)) {
                long len = handle(chain);
                queue.addUsed(chain.head(), len);
                completed = true;
            }
        } while (queue.enableNotification());
        return completed && queue.needsNotification();
    }

    /** Handles one popped chain; returns the bytes written into its device-writable buffers. */
    long handle(DescriptorChain c) throws VirtQueueException {
        if (c.writableBytes() < 1) {
            throw new VirtQueueException(QueueError.BAD_REQUEST_FRAMING,
                    "virtio-blk request without a device-writable status byte (head " + c.head() + ")");
        }
        requests++;
        long dataIn = c.writableBytes() - 1;
        byte status;
        long produced = 0;
        hostFailed = false;
        long started = System.nanoTime();
        int type = -1;
        long dataOut = 0;
        if (c.readableBytes() < VirtioBlk.REQ_HEADER_BYTES) {
            status = VirtioBlk.S_IOERR;
        } else {
            c.readReadable(0, header, 0, VirtioBlk.REQ_HEADER_BYTES);
            type = header.get(INT_LE, 0);
            long sector = header.get(LONG_LE, 8);
            dataOut = c.readableBytes() - VirtioBlk.REQ_HEADER_BYTES;
            switch (type) {
                case VirtioBlk.T_IN -> {
                    status = dataOut != 0 ? VirtioBlk.S_IOERR : read(c, sector, dataIn);
                    produced = status == VirtioBlk.S_OK ? dataIn : 0;
                }
                case VirtioBlk.T_OUT -> status = dataIn != 0 ? VirtioBlk.S_IOERR : write(c, sector, dataOut);
                case VirtioBlk.T_FLUSH -> status = result(backend.flush());
                case VirtioBlk.T_GET_ID -> {
                    produced = c.writeWritable(0, id, 0, Math.min(dataIn, VirtioBlk.ID_BYTES));
                    status = VirtioBlk.S_OK;
                }
                case VirtioBlk.T_DISCARD -> status = discard(c, dataOut, false);
                case VirtioBlk.T_WRITE_ZEROES -> status = discard(c, dataOut, true);
                default -> status = VirtioBlk.S_UNSUPP;
            }
        }
        if (produced < dataIn) {
            c.fillWritable(produced, dataIn - produced, (byte) 0);
        }
        c.writeWritableByte(dataIn, status);
        if (status == VirtioBlk.S_IOERR) {
            ioErrors++;
        } else if (status == VirtioBlk.S_UNSUPP) {
            unsupported++;
        }
        account(type, status, type == VirtioBlk.T_IN ? dataIn : dataOut, System.nanoTime() - started);
        return c.writableBytes();
    }

    /** Adds one request to the device's {@link BlockStats} (GET_ID and unknown types are not I/O). */
    private void account(int type, byte status, long bytes, long nanos) {
        int kind = switch (type) {
            case VirtioBlk.T_IN -> BlockStats.READ;
            case VirtioBlk.T_OUT -> BlockStats.WRITE;
            case VirtioBlk.T_FLUSH -> BlockStats.FLUSH;
            case VirtioBlk.T_DISCARD, VirtioBlk.T_WRITE_ZEROES -> BlockStats.UNMAP;
            default -> -1;
        };
        if (kind < 0) {
            return;
        }
        if (status == VirtioBlk.S_OK) {
            stats.completed(kind, kind == BlockStats.FLUSH ? 0 : kind == BlockStats.UNMAP ? unmapBytes : bytes,
                    nanos);
        } else if (hostFailed) {
            stats.failed(kind);
        } else {
            stats.invalid(kind);
        }
    }

    private byte result(long r) {
        if (r < 0) {
            hostFailed = true;
            lastErrno = (int) -r;
            return VirtioBlk.S_IOERR;
        }
        return VirtioBlk.S_OK;
    }

    /** True if {@code bytes} from {@code sector} (unsigned) is a whole number of sectors inside the disk. */
    private boolean inRange(long sector, long bytes) {
        long capacity = device.capacitySectors();
        return (bytes & (VirtioBlk.SECTOR_SIZE - 1)) == 0 && Long.compareUnsigned(sector, capacity) <= 0
                && (bytes >>> VirtioBlk.SECTOR_SHIFT) <= capacity - sector;
    }

    private byte read(DescriptorChain c, long sector, long len) {
        if (!inRange(sector, len)) {
            return VirtioBlk.S_IOERR;
        }
        if (len == 0) {
            return VirtioBlk.S_OK;
        }
        long offset = sector << VirtioBlk.SECTOR_SHIFT;
        int n = buildIov(c, true, 0, len);
        if (needsBounce(offset, len, n)) {
            MemorySegment b = bounce();
            for (long done = 0; done < len; ) {
                long chunk = Math.min(BOUNCE_BYTES, len - done);
                long r = backend.read(offset + done, b, chunk);
                if (r < 0) {
                    return result(r);
                }
                c.writeWritable(done, b, 0, chunk);
                done += chunk;
            }
            return VirtioBlk.S_OK;
        }
        return result(backend.readv(offset, iov, n, len));
    }

    private byte write(DescriptorChain c, long sector, long len) {
        if (backend.readOnly() || !inRange(sector, len)) {
            return VirtioBlk.S_IOERR;
        }
        if (len == 0) {
            return VirtioBlk.S_OK;
        }
        long offset = sector << VirtioBlk.SECTOR_SHIFT;
        int n = buildIov(c, false, VirtioBlk.REQ_HEADER_BYTES, len);
        if (needsBounce(offset, len, n)) {
            MemorySegment b = bounce();
            for (long done = 0; done < len; ) {
                long chunk = Math.min(BOUNCE_BYTES, len - done);
                c.readReadable(VirtioBlk.REQ_HEADER_BYTES + done, b, 0, chunk);
                long r = backend.write(offset + done, b, chunk);
                if (r < 0) {
                    return result(r);
                }
                done += chunk;
            }
            return VirtioBlk.S_OK;
        }
        return result(backend.writev(offset, iov, n, len));
    }

    private byte discard(DescriptorChain c, long payload, boolean writeZeroes) {
        if (backend.readOnly()) {
            return VirtioBlk.S_UNSUPP;
        }
        if (payload == 0 || payload % VirtioBlk.DISCARD_SEGMENT_BYTES != 0
                || payload / VirtioBlk.DISCARD_SEGMENT_BYTES > VirtioBlockDevice.MAX_DISCARD_SEG) {
            return VirtioBlk.S_IOERR;
        }
        int segments = (int) (payload / VirtioBlk.DISCARD_SEGMENT_BYTES);
        unmapBytes = 0;
        // Read and check every segment once before touching the disk.
        for (int i = 0; i < segments; i++) {
            c.readReadable(VirtioBlk.REQ_HEADER_BYTES + (long) i * VirtioBlk.DISCARD_SEGMENT_BYTES, segment, 0,
                    VirtioBlk.DISCARD_SEGMENT_BYTES);
            long sector = segment.get(LONG_LE, 0);
            long count = segment.get(INT_LE, 8) & 0xffffffffL;
            int flags = segment.get(INT_LE, 12);
            if ((flags & ~VirtioBlk.WRITE_ZEROES_FLAG_UNMAP) != 0
                    || !writeZeroes && (flags & VirtioBlk.WRITE_ZEROES_FLAG_UNMAP) != 0) {
                return VirtioBlk.S_UNSUPP;
            }
            if (count > VirtioBlockDevice.MAX_DISCARD_SECTORS
                    || !inRange(sector, count << VirtioBlk.SECTOR_SHIFT)) {
                return VirtioBlk.S_IOERR;
            }
            segSector[i] = sector;
            segCount[i] = count;
            segUnmap[i] = (flags & VirtioBlk.WRITE_ZEROES_FLAG_UNMAP) != 0;
            unmapBytes += count << VirtioBlk.SECTOR_SHIFT;
        }
        for (int i = 0; i < segments; i++) {
            long offset = segSector[i] << VirtioBlk.SECTOR_SHIFT;
            long len = segCount[i] << VirtioBlk.SECTOR_SHIFT;
            if (len == 0) {
                continue;
            }
            int r = writeZeroes ? backend.writeZeroes(offset, len, segUnmap[i]) : backend.discard(offset, len);
            if (r < 0) {
                return result(r);
            }
        }
        return VirtioBlk.S_OK;
    }

    /** Fills {@link #iov} with {@code len} bytes of the writable or readable stream from {@code skip}. */
    private int buildIov(DescriptorChain c, boolean writable, long skip, long len) {
        int from = writable ? c.readableCount() : 0;
        int to = writable ? c.count() : c.readableCount();
        int n = 0;
        long remaining = len;
        for (int i = from; i < to && remaining > 0; i++) {
            long l = c.length(i);
            if (skip >= l) {
                skip -= l;
                continue;
            }
            long take = Math.min(l - skip, remaining);
            long at = n * Libc.IOVEC_SIZE;
            iov.set(ValueLayout.JAVA_LONG, at, c.hva(i) + skip);
            iov.set(ValueLayout.JAVA_LONG, at + 8, take);
            n++;
            remaining -= take;
            skip = 0;
        }
        return n;
    }

    /** Under O_DIRECT: an aligned request whose guest buffers are not aligned. */
    private boolean needsBounce(long offset, long len, int n) {
        int align = backend.memoryAlignment();
        if (align <= 1 || ((offset | len) & (align - 1)) != 0) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            long base = iov.get(ValueLayout.JAVA_LONG, i * Libc.IOVEC_SIZE);
            long l = iov.get(ValueLayout.JAVA_LONG, i * Libc.IOVEC_SIZE + 8);
            if (((base | l) & (align - 1)) != 0) {
                return true;
            }
        }
        return false;
    }

    private MemorySegment bounce() {
        if (bounce == null) {
            bounce = arena.allocate(BOUNCE_BYTES, RawDisk.DIRECT_ALIGN);
        }
        return bounce;
    }
}
