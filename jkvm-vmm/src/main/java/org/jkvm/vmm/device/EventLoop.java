package org.jkvm.vmm.device;

import java.util.ArrayList;
import java.util.List;

import org.jkvm.sys.Epoll;

/**
 * The device I/O thread: one epoll loop (Firecracker's event manager shape) over eventfds, each with a handler run on
 * this thread when it becomes readable. Virtqueue notifications arrive here, from KVM's ioeventfd or from the MMIO
 * write path of the software CPU, so that no request is processed on a vCPU thread. The wait allocates nothing.
 * A handler that throws is reported once and the loop goes on: a device bug must not stop the others.
 */
public final class EventLoop implements AutoCloseable {
    /** Work to do when a watched descriptor is readable. */
    @FunctionalInterface
    public interface Handler {
        void ready();
    }

    private static final long STOP_TOKEN = -1;

    private final Epoll epoll = new Epoll(64);
    private final QueueEvent stop = new QueueEvent();
    private final List<Handler> handlers = new ArrayList<>();
    private volatile Handler[] table = new Handler[0];
    private volatile boolean stopping;
    private boolean failureReported;
    private boolean closed;
    private Thread thread;

    public EventLoop() {
        epoll.add(stop.fd(), Epoll.EPOLLIN, STOP_TOKEN);
    }

    /** Watches {@code fd} for input and runs {@code handler} on the loop's thread each time it is readable. */
    public synchronized void add(int fd, Handler handler) {
        add(fd, Epoll.EPOLLIN, handler);
    }

    /**
     * Watches {@code fd} for {@code events} ({@code Epoll.EPOLLIN}, with {@code Epoll.EPOLLET} for a descriptor its
     * handler may leave readable, such as a TAP while the guest has no receive buffers).
     */
    public synchronized void add(int fd, int events, Handler handler) {
        handlers.add(handler);
        table = handlers.toArray(Handler[]::new);
        epoll.add(fd, events, handlers.size() - 1);
    }

    /** Starts the thread ({@code io-loop}). */
    public synchronized void start() {
        if (thread == null) {
            thread = Thread.ofPlatform().name("io-loop").daemon(true).start(this::run);
        }
    }

    private void run() {
        while (!stopping) {
            int n = epoll.await(-1);
            Handler[] t = table;
            for (int i = 0; i < n && !stopping; i++) {
                long token = epoll.token(i);
                if (token >= 0 && token < t.length) {
                    try {
                        t[(int) token].ready();
                    } catch (RuntimeException e) {
                        if (!failureReported) {
                            failureReported = true;
                            System.err.println("jkvm: device I/O handler failed: " + e);
                        }
                    }
                }
            }
        }
    }

    /** True when the loop's thread never started or has ended: no handler runs any more. */
    public synchronized boolean stopped() {
        return thread == null || !thread.isAlive();
    }

    /** Stops the thread and waits for it (the handler running now finishes first), then closes the epoll fd. */
    @Override
    public void close() {
        Thread t;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            t = thread;
        }
        stopping = true;
        stop.signal();
        if (t != null) {
            try {
                t.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (t == null || !t.isAlive()) {
            epoll.close();
            stop.close();
        }
    }
}
