package org.jkvm.emu.apic;

import java.util.concurrent.locks.LockSupport;

/**
 * The thread that fires a VM's APIC timers: it sleeps until the earliest deadline ({@link LockSupport#parkNanos}),
 * fires what is due, and is unparked whenever a timer is (re)programmed. It starts with the first programmed timer
 * and ends at {@link #close}. Firing only sets IRR bits and wakes the target vCPU, so it never touches CPU state.
 */
final class ApicTimers {
    private volatile ApicTimer[] timers = new ApicTimer[0];
    private Thread thread;
    private volatile boolean closed;

    synchronized void add(ApicTimer t) {
        ApicTimer[] a = java.util.Arrays.copyOf(timers, timers.length + 1);
        a[a.length - 1] = t;
        timers = a;
    }

    /** A deadline may have moved: starts the thread on first use, else wakes it to look again. */
    void changed() {
        Thread t;
        synchronized (this) {
            if (closed) {
                return;
            }
            t = thread;
            if (t == null) {
                t = Thread.ofPlatform().daemon(true).name("emu-apic-timer").unstarted(this::loop);
                thread = t;
                t.start();
                return;
            }
        }
        LockSupport.unpark(t);
    }

    private void loop() {
        while (!closed) {
            long now = System.nanoTime();
            long next = ApicTimer.NEVER;
            for (ApicTimer t : timers) {
                long d = t.deadline();
                if (d != ApicTimer.NEVER && d <= now) {
                    t.expire(now);
                    d = t.deadline();
                }
                next = Math.min(next, d);
            }
            if (next == ApicTimer.NEVER) {
                LockSupport.park(this);
            } else {
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(this, wait);
                }
            }
        }
    }

    void close() {
        Thread t;
        synchronized (this) {
            closed = true;
            t = thread;
        }
        if (t != null) {
            LockSupport.unpark(t);
        }
    }
}
