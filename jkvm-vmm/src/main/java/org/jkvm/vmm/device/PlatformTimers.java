package org.jkvm.vmm.device;

import java.util.List;
import java.util.concurrent.locks.LockSupport;

import org.jkvm.devices.timer.TimerDevice;

/**
 * The one thread that drives the VMM's timer devices (the PIT on the software CPU): it sleeps until the earliest
 * {@link TimerDevice#nextEventNanos()}, or until {@link #wake()} says the guest re-programmed a timer, then lets each
 * device fire what is due. Devices keep their counters from the clock, so this thread only times interrupts.
 */
final class PlatformTimers implements AutoCloseable {
    /** Upper bound on one sleep, so a lost wake-up costs at most this much latency. */
    private static final long MAX_SLEEP_NANOS = 100_000_000L;

    private final List<TimerDevice> devices;
    private final Thread thread;
    private volatile boolean closed;

    PlatformTimers(List<TimerDevice> devices) {
        this.devices = List.copyOf(devices);
        this.thread = Thread.ofPlatform().name("platform-timers").daemon(true).unstarted(this::loop);
    }

    void start() {
        thread.start();
    }

    /** Re-evaluates the next deadline (a device's reschedule callback). Any thread. */
    void wake() {
        LockSupport.unpark(thread);
    }

    private void loop() {
        while (!closed) {
            long now = System.nanoTime();
            long next = TimerDevice.NO_EVENT;
            for (TimerDevice d : devices) {
                long t = d.nextEventNanos();
                if (t - now <= 0 && t != TimerDevice.NO_EVENT) {
                    d.service(now);
                    t = d.nextEventNanos();
                }
                if (t != TimerDevice.NO_EVENT && (next == TimerDevice.NO_EVENT || t - next < 0)) {
                    next = t;
                }
            }
            long sleep = next == TimerDevice.NO_EVENT ? MAX_SLEEP_NANOS : Math.min(next - now, MAX_SLEEP_NANOS);
            if (sleep > 0) {
                LockSupport.parkNanos(this, sleep);
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(thread);
    }
}
