package org.jkvm.vmm.device;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import org.jkvm.sys.Libc;

/**
 * An eventfd (eventfd(2), non-blocking) used as a doorbell: {@link #signal} from any thread (a vCPU's MMIO write, or
 * KVM itself through ioeventfd), {@link #drain} on the {@link EventLoop}'s thread. Both use 8-byte buffers allocated
 * once: no allocation per notification.
 */
public final class QueueEvent implements AutoCloseable {
    private final Arena arena = Arena.ofShared();
    private final MemorySegment one = arena.allocate(8, 8);
    private final MemorySegment sink = arena.allocate(8, 8);
    private final int fd;

    public QueueEvent() {
        fd = Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
        one.set(ValueLayout.JAVA_LONG, 0, 1);
    }

    public int fd() {
        return fd;
    }

    /** Adds 1 to the counter (wakes the loop). A full counter (EAGAIN) already means "wake up", so it is ignored. */
    public void signal() {
        Libc.writeRaw(fd, one, 8);
    }

    /** Resets the counter to zero (EAGAIN when it already was is fine). */
    public void drain() {
        Libc.readRaw(fd, sink, 8);
    }

    private boolean closed;

    /** Closes the eventfd; once. Callers make sure nothing signals it any more. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            Libc.close(fd);
            arena.close();
        }
    }
}
