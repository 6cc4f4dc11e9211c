package org.jkvm.net;

import java.lang.foreign.MemorySegment;

/**
 * Where a virtio-net device's frames go: a number of queues (one per queue pair), each moving whole Ethernet frames
 * preceded by the 12-byte virtio-net header, without blocking. In jkvm a {@link TapBackend}; tests use their own.
 */
public interface NetBackend extends AutoCloseable {
    /** Number of queues (queue pair {@code i} uses queue {@code i}). */
    int queues();

    /** A descriptor to watch for input on queue {@code q} (edge-triggered), or -1 when there is none. */
    int fd(int q);

    /** Reads one frame (header first) into {@code buf}; bytes read, or {@code -errno}: {@code -EAGAIN} when none waits. */
    long read(int q, MemorySegment buf, long len);

    /** Writes one frame gathered from {@code iovcnt} struct iovec at {@code iov}; bytes written, or {@code -errno}. */
    long writev(int q, MemorySegment iov, int iovcnt);

    /** Which offloads the guest accepts in received frames ({@code Tap.TUN_F_*}); 0, or {@code -errno}. */
    int setOffload(int tunFlags);

    /** The offload bits ({@code Tap.TUN_F_*}) this backend can hand to a guest. */
    int supportedOffloads();

    /**
     * Whether queue {@code q} takes part in receiving (a multi-queue TAP steers frames only to attached queues);
     * 0 or {@code -errno}.
     */
    default int setQueueEnabled(int q, boolean enabled) {
        return 0;
    }

    /** The host-side name ("tap0"), for messages and the monitor. */
    String name();

    @Override
    void close();
}
