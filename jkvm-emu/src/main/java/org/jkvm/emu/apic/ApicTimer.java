package org.jkvm.emu.apic;

/**
 * One local APIC's timer (SDM vol. 3A 11.5.4 "APIC timer"): initial count, current count and divide configuration,
 * one-shot, periodic and TSC-deadline modes, counting host time. The APIC's input clock runs at 1 GHz (one count per nanosecond
 * before the divider; KVM's default bus frequency too), so a count lasts {@code 2^shift} ns. The expiry is an
 * absolute {@link System#nanoTime} deadline that {@link ApicTimers}' thread watches; the registers are written on
 * the vCPU thread. Both sides hold {@link #lock} while they change the state, which is rare next to instructions.
 */
final class ApicTimer {
    static final long NEVER = Long.MAX_VALUE;
    /** The shortest periodic interval fired (as KVM's min_timer_period_us): a tiny count must not flood the host. */
    static final long MIN_PERIODIC_NS = 200_000;

    private final LocalApic apic;
    private final ApicTimers timers;
    private final Object lock = new Object();
    private int initial;
    private int divideConfig;
    /** log2 of the divisor: divide configuration 0 (the reset value) divides by 2. */
    private int shift = 1;
    /** When the count was last (re)loaded from the initial count. */
    private long start;
    private boolean running;
    private volatile long deadline = NEVER;
    /** The armed IA32_TSC_DEADLINE value in TSC-deadline mode, or 0. */
    private long tscDeadline;

    ApicTimer(LocalApic apic, ApicTimers timers) {
        this.apic = apic;
        this.timers = timers;
    }

    long deadline() {
        return deadline;
    }

    private long period() {
        return (initial & 0xffffffffL) << shift;
    }

    /** The interval between expiries: the count's period, at least {@link #MIN_PERIODIC_NS} when periodic. */
    private long firePeriod() {
        return periodic() ? Math.max(period(), MIN_PERIODIC_NS) : period();
    }

    private boolean periodic() {
        return (apic.lvtTimer() & LocalApic.TIMER_MODE) == 1 << 17;
    }

    private boolean deadlineMode() {
        return (apic.lvtTimer() & LocalApic.TIMER_MODE) == LocalApic.TIMER_MODE_TSC_DEADLINE;
    }

    /** IA32_TSC_DEADLINE as read: the armed value, 0 once it fired or when not in TSC-deadline mode. */
    long tscDeadline() {
        synchronized (lock) {
            return deadlineMode() ? tscDeadline : 0;
        }
    }

    /**
     * Writes IA32_TSC_DEADLINE (SDM 11.5.4.1): in TSC-deadline mode a non-zero value arms the timer for when the
     * TSC reaches it (at once if it already has), 0 disarms it; outside that mode the write is ignored. The TSC is
     * host nanoseconds plus the vCPU's offset, so the deadline converts to the timer thread's clock exactly.
     */
    void setTscDeadline(long tsc) {
        synchronized (lock) {
            if (!deadlineMode()) {
                return;
            }
            tscDeadline = tsc;
            running = tsc != 0;
            deadline = running ? tsc - apic.tscOffset() : NEVER;
        }
        timers.changed();
    }

    int initialCount() {
        synchronized (lock) {
            return initial;
        }
    }

    int divideConfig() {
        synchronized (lock) {
            return divideConfig;
        }
    }

    /** Writing the initial count (re)starts the count; 0 stops the timer (SDM 11.5.4). */
    void setInitialCount(int v) {
        synchronized (lock) {
            initial = v;
            running = v != 0;
            start = System.nanoTime();
            deadline = running ? start + firePeriod() : NEVER;
        }
        timers.changed();
    }

    /** Divide configuration bits 0, 1 and 3 (SDM figure 11-10): 2, 4, ... 128, and 1 for 0b1011. */
    void setDivideConfig(int v) {
        synchronized (lock) {
            long now = System.nanoTime();
            long done = running ? Math.min((now - start) >>> shift, initial & 0xffffffffL) : 0;
            divideConfig = v;
            int code = (v & 3) | ((v >>> 1) & 4);
            shift = (code + 1) & 7;
            if (running) {
                // Keep the current count: the remaining counts go on at the new rate.
                start = now - (done << shift);
                deadline = start + firePeriod();
            }
        }
        timers.changed();
    }

    int currentCount() {
        synchronized (lock) {
            if (!running || deadlineMode()) {
                return 0;
            }
            long p = firePeriod();
            long elapsed = System.nanoTime() - start;
            if (periodic()) {
                elapsed %= p;
            } else if (elapsed >= p) {
                return 0;
            }
            return (int) Math.max(0, (initial & 0xffffffffL) - (elapsed >>> shift));
        }
    }

    /**
     * Snapshot restore: initial count, divide configuration, and the count left ({@code current}, 0 for a one-shot
     * count that has expired); the count goes on from there now.
     */
    void restore(int initialCount, int divide, int current) {
        synchronized (lock) {
            initial = initialCount;
            divideConfig = divide;
            int code = (divide & 3) | ((divide >>> 1) & 4);
            shift = (code + 1) & 7;
            tscDeadline = 0;
            long init = initialCount & 0xffffffffL;
            long left = Math.min(current & 0xffffffffL, init);
            running = init != 0 && (left != 0 || periodic());
            start = System.nanoTime() - ((init - left) << shift);
            deadline = running ? start + firePeriod() : NEVER;
        }
        timers.changed();
    }

    /** The LVT timer entry changed; a mode change disarms the timer (SDM 11.5.4.1). */
    void lvtChanged(boolean modeChanged) {
        if (modeChanged) {
            synchronized (lock) {
                initial = 0;
                running = false;
                tscDeadline = 0;
                deadline = NEVER;
            }
        }
        timers.changed();
    }

    void stop() {
        synchronized (lock) {
            initial = 0;
            divideConfig = 0;
            shift = 1;
            running = false;
            tscDeadline = 0;
            deadline = NEVER;
        }
    }

    /** On the timer thread: if the deadline has passed, reloads (periodic) or stops, then raises the LVT vector. */
    void expire(long now) {
        synchronized (lock) {
            if (deadline > now) {
                return;
            }
            if (deadlineMode()) {
                running = false;
                tscDeadline = 0;
                deadline = NEVER;
            } else if (periodic()) {
                long p = firePeriod();
                start += (now - start) / p * p; // periods missed while the host was busy are skipped, not queued
                deadline = start + p;
            } else {
                running = false;
                deadline = NEVER;
            }
        }
        apic.deliverLvt(apic.lvtTimer(), false);
    }
}
