package org.jkvm.block;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * I/O accounting of one virtio-blk device, in QEMU's terms (qapi/block-core.json BlockDeviceStats): bytes,
 * operations and total time of completed reads, writes, flushes and unmaps (discard and write zeroes); failed
 * operations (the host returned an error) and invalid ones (the request was refused: out of range, misframed, a
 * write to a read-only disk). Kept across device resets, as QEMU keeps it. Counting allocates nothing; any thread
 * may read while the I/O threads count.
 */
public final class BlockStats {
    /** Operation kinds. */
    public static final int READ = 0;
    public static final int WRITE = 1;
    public static final int FLUSH = 2;
    public static final int UNMAP = 3;
    static final int KINDS = 4;
    private static final int BYTES = 0;
    private static final int OPS = 1;
    private static final int TIME_NS = 2;
    private static final int FAILED = 3;
    private static final int INVALID = 4;
    private static final int FIELDS = 5;

    private final AtomicLongArray counters = new AtomicLongArray(KINDS * FIELDS);

    void completed(int kind, long bytes, long nanos) {
        counters.addAndGet(kind * FIELDS + BYTES, bytes);
        counters.incrementAndGet(kind * FIELDS + OPS);
        counters.addAndGet(kind * FIELDS + TIME_NS, nanos);
    }

    void failed(int kind) {
        counters.incrementAndGet(kind * FIELDS + FAILED);
    }

    void invalid(int kind) {
        counters.incrementAndGet(kind * FIELDS + INVALID);
    }

    /** Bytes moved by completed operations of {@code kind} (flushes move none). */
    public long bytes(int kind) {
        return counters.get(kind * FIELDS + BYTES);
    }

    /** Completed operations of {@code kind}. */
    public long operations(int kind) {
        return counters.get(kind * FIELDS + OPS);
    }

    /** Nanoseconds spent in completed operations of {@code kind}. */
    public long totalTimeNs(int kind) {
        return counters.get(kind * FIELDS + TIME_NS);
    }

    /** Operations of {@code kind} that the host failed. */
    public long failedOperations(int kind) {
        return counters.get(kind * FIELDS + FAILED);
    }

    /** Operations of {@code kind} refused as invalid. */
    public long invalidOperations(int kind) {
        return counters.get(kind * FIELDS + INVALID);
    }
}
