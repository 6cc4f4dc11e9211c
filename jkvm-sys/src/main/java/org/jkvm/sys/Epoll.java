package org.jkvm.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * An epoll instance (epoll(7)) with its event array allocated once, so the wait loop of an I/O thread allocates
 * nothing. Not thread-safe: one thread waits; registration may happen before or from that thread.
 */
public final class Epoll implements AutoCloseable {
    public static final int EPOLLIN = 0x001;
    public static final int EPOLLOUT = 0x004;
    public static final int EPOLLERR = 0x008;
    public static final int EPOLLHUP = 0x010;
    /** Edge-triggered: reported when the descriptor becomes ready, not while it stays ready. */
    public static final int EPOLLET = 1 << 31;
    /** struct epoll_event is packed on x86_64: u32 events, u64 data. */
    private static final long EVENT_SIZE = 12;

    private final int fd;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment events;
    private final MemorySegment ctl;
    private final int capacity;
    private int ready;

    public Epoll(int capacity) {
        this.capacity = capacity;
        this.fd = Libc.epollCreate1(Libc.EPOLL_CLOEXEC);
        this.events = arena.allocate(EVENT_SIZE * capacity, 8);
        this.ctl = arena.allocate(EVENT_SIZE, 8);
    }

    /** Watches {@code target} for {@code mask} (EPOLLIN...), reporting {@code token} when ready. */
    public void add(int target, int mask, long token) {
        ctl(Libc.EPOLL_CTL_ADD, target, mask, token);
    }

    public void modify(int target, int mask, long token) {
        ctl(Libc.EPOLL_CTL_MOD, target, mask, token);
    }

    public void remove(int target) {
        ctl(Libc.EPOLL_CTL_DEL, target, 0, 0);
    }

    private synchronized void ctl(int op, int target, int mask, long token) {
        ctl.set(ValueLayout.JAVA_INT_UNALIGNED, 0, mask);
        ctl.set(ValueLayout.JAVA_LONG_UNALIGNED, 4, token);
        Libc.epollCtl(fd, op, target, ctl);
    }

    /**
     * Waits up to {@code timeoutMillis} (-1: forever) and returns the number of ready events; 0 on timeout or when
     * interrupted by a signal. Read them with {@link #token} and {@link #events}.
     */
    public int await(int timeoutMillis) {
        int n = Libc.epollWaitRaw(fd, events, capacity, timeoutMillis);
        if (n == -Errno.EINTR) {
            n = 0;
        } else if (n < 0) {
            throw new NativeException("epoll_wait", -n);
        }
        ready = n;
        return n;
    }

    /** The token of ready event {@code i} (0 &lt;= i &lt; the last {@link #await} result). */
    public long token(int i) {
        java.util.Objects.checkIndex(i, ready);
        return events.get(ValueLayout.JAVA_LONG_UNALIGNED, i * EVENT_SIZE + 4);
    }

    /** The ready mask of event {@code i}. */
    public int events(int i) {
        java.util.Objects.checkIndex(i, ready);
        return events.get(ValueLayout.JAVA_INT_UNALIGNED, i * EVENT_SIZE);
    }

    @Override
    public void close() {
        Libc.close(fd);
        arena.close();
    }
}
