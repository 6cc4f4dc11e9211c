package org.jkvm.devices.timer;

import java.util.function.LongSupplier;
import org.jkvm.devices.BusDevice;
import org.jkvm.devices.InterruptLine;
import org.jkvm.devices.irq.GsiSink;

/**
 * A High Precision Event Timer block (IA-PC HPET Specification 1.0a, section 2.3 "Register Descriptions") with
 * {@value #TIMERS} timers and a 64-bit main counter at {@value #FREQUENCY_HZ} Hz (period {@value #PERIOD_FS} fs),
 * derived lazily from the clock. MMIO, {@value #LENGTH} bytes (at 0xFED00000 on a PC; the ACPI "HPET" table must
 * describe it).
 *
 * <p>Registers: 0x000 capabilities and ID (revision 1, 3 timers, 64-bit counter, legacy replacement capable, vendor
 * 0x8086, the period), 0x010 general configuration (ENABLE_CNF, LEG_RT_CNF), 0x020 general interrupt status (write
 * one to clear; level-triggered timers only), 0x0F0 main counter (writable while halted), and per timer {@code n} at
 * {@code 0x100 + 0x20 * n}: configuration and capability (level/edge, interrupt enable, periodic, VAL_SET, 32-bit
 * mode, route; capabilities: periodic, 64-bit, routable to I/O APIC inputs 16-23: {@link #ROUTE_CAPABILITY}),
 * comparator at +0x08, FSB route at +0x10 (reads 0: FSB/MSI delivery is not implemented and not advertised). Every
 * byte is addressable: 4- and 8-byte accesses are normal, any other size reads or merges the bytes it covers.
 *
 * <p>Timers: one-shot timers fire when the counter reaches the comparator (in 32-bit mode when the low 32 bits match,
 * so again every 2^32 ticks); periodic timers add the period to the comparator at each match (a comparator write with
 * VAL_SET sets comparator and period, without it only the period, as the specification's periodic-mode programming
 * and QEMU's model do; VAL_SET clears itself). A level-triggered timer sets its status bit when it fires (even
 * with its interrupt disabled) and drives its route while the bit, the interrupt enable and ENABLE_CNF are set; an
 * edge-triggered timer pulses its route. Legacy replacement routes timer 0 to GSI 2 (8259A IRQ 0 and I/O APIC input
 * 2) and timer 1 to GSI 8 (IRQ 8); the PIT and the RTC should then be disconnected: pass their lines through
 * {@link #unlessLegacyReplacement}. Late events are coalesced, as in {@link TimerDevice}.
 *
 * <p>Locking: one monitor; the {@link GsiSink} is called under it. {@code onReschedule} runs with no lock held.
 * Nothing allocates after construction.
 */
public final class Hpet implements BusDevice, TimerDevice {

    /** The MMIO window. */
    public static final int LENGTH = 0x400;
    /** Number of comparators. */
    public static final int TIMERS = 3;
    /** Main counter frequency. */
    public static final long FREQUENCY_HZ = 100_000_000;
    /** Main counter period in femtoseconds (COUNTER_CLK_PERIOD). */
    public static final long PERIOD_FS = 10_000_000;
    /** Tn_INT_ROUTE_CAP: the I/O APIC inputs a timer may be routed to (16-23). */
    public static final int ROUTE_CAPABILITY = 0x00FF_0000;
    private static final long NANOS_PER_TICK = 10;

    static final int CAPABILITIES = 0x000;
    static final int CONFIG = 0x010;
    static final int STATUS = 0x020;
    static final int COUNTER = 0x0F0;
    static final int TIMER_BASE = 0x100;
    static final int TIMER_STRIDE = 0x20;

    static final long CAPABILITIES_VALUE = PERIOD_FS << 32 | 0x8086L << 16 | 1L << 15 | 1L << 13
            | (TIMERS - 1) << 8 | 0x01;
    static final long ENABLE_CNF = 1;
    static final long LEG_RT_CNF = 2;
    static final long TN_LEVEL = 1L << 1;
    static final long TN_INT_ENB = 1L << 2;
    static final long TN_PERIODIC = 1L << 3;
    static final long TN_PER_INT_CAP = 1L << 4;
    static final long TN_SIZE_CAP = 1L << 5;
    static final long TN_VAL_SET = 1L << 6;
    static final long TN_32BIT = 1L << 8;
    static final long TN_ROUTE = 0x1FL << 9;
    private static final long TN_WRITABLE = TN_LEVEL | TN_INT_ENB | TN_PERIODIC | TN_VAL_SET | TN_32BIT | TN_ROUTE;
    private static final long LOW32 = 0xFFFF_FFFFL;

    private final GsiSink irq;
    private final LongSupplier nanoTime;
    private final Runnable onReschedule;

    private long config;
    private volatile boolean legacy;
    private int status;
    /** The counter's value at {@link #enabledAtNanos} (while enabled) or its frozen value (while halted). */
    private long counterBase;
    private long enabledAtNanos;
    /** The counter value up to which comparator matches have been processed. */
    private long evaluatedTo;
    private final long[] timerConfig = new long[TIMERS];
    private final long[] comparator = new long[TIMERS];
    private final long[] period = new long[TIMERS];
    /** The GSI each level-triggered timer holds asserted, or -1. */
    private final int[] driven = new int[TIMERS];

    /** An HPET on {@link System#nanoTime}, with no reschedule callback. */
    public Hpet(GsiSink irq) {
        this(irq, System::nanoTime, () -> { });
    }

    /**
     * @param irq          where timer interrupts go, by GSI (normally the {@link org.jkvm.devices.irq.IrqRouter})
     * @param nanoTime     the clock, in nanoseconds (the one {@link #nextEventNanos} and {@link #service} use)
     * @param onReschedule called, with no lock held, after a guest write that may have changed the next event time
     */
    public Hpet(GsiSink irq, LongSupplier nanoTime, Runnable onReschedule) {
        if (irq == null || nanoTime == null || onReschedule == null) {
            throw new NullPointerException();
        }
        this.irq = irq;
        this.nanoTime = nanoTime;
        this.onReschedule = onReschedule;
        for (int i = 0; i < TIMERS; i++) {
            comparator[i] = -1L; // all ones, as the specification's reset value
            period[i] = 0;
            driven[i] = -1;
        }
    }

    /** Whether legacy replacement (LEG_RT_CNF) is on: timer 0 owns IRQ 0 and timer 1 owns IRQ 8. */
    public boolean legacyReplacement() {
        return legacy;
    }

    /**
     * A line that forwards to {@code line} only while legacy replacement is off: wrap the PIT's IRQ 0 and the RTC's
     * IRQ 8 with it, as the chipset disconnects them when the HPET takes their inputs. A line raised before
     * legacy replacement was switched on can still be lowered. Call at wiring time (allocates).
     */
    public InterruptLine unlessLegacyReplacement(InterruptLine line) {
        if (line == null) {
            throw new NullPointerException();
        }
        return new InterruptLine() {
            private boolean forwarded;

            @Override
            public synchronized void set(boolean asserted) {
                if (asserted && !forwarded && !legacy) {
                    forwarded = true;
                    line.set(true);
                } else if (!asserted && forwarded) {
                    forwarded = false;
                    line.set(false);
                }
            }
        };
    }

    /** The HPET's registers and counter value now, for a snapshot. */
    public synchronized HpetState saveState() {
        long nanos = nanoTime.getAsLong();
        catchUp(nanos);
        return new HpetState(config, status, counterAt(nanos), timerConfig.clone(), comparator.clone(), period.clone());
    }

    /**
     * Loads a saved state: the counter goes on from its saved value; level-triggered outputs are driven from the
     * loaded status (so restore the interrupt controllers first).
     */
    public void restoreState(HpetState s) {
        synchronized (this) {
            long nanos = nanoTime.getAsLong();
            config = s.config() & (ENABLE_CNF | LEG_RT_CNF);
            legacy = (config & LEG_RT_CNF) != 0;
            status = s.status() & ((1 << TIMERS) - 1);
            counterBase = s.counter();
            enabledAtNanos = nanos;
            evaluatedTo = s.counter();
            long[] cfg = s.timerConfig();
            long[] cmp = s.comparator();
            long[] per = s.period();
            for (int n = 0; n < TIMERS; n++) {
                timerConfig[n] = timerConfig[n] & ~TN_WRITABLE | cfg[n] & TN_WRITABLE;
                comparator[n] = cmp[n];
                period[n] = per[n];
                driven[n] = -1;
            }
            for (int n = 0; n < TIMERS; n++) {
                updateLevel(n);
            }
        }
        onReschedule.run();
    }

    // ---- time ----

    private boolean enabled() {
        return (config & ENABLE_CNF) != 0;
    }

    private long counterAt(long nanos) {
        if (!enabled()) {
            return counterBase;
        }
        long d = nanos - enabledAtNanos;
        return d <= 0 ? counterBase : counterBase + d / NANOS_PER_TICK;
    }

    /** The first clock time at which the (running) counter reaches {@code value}. */
    private long nanosAtCounter(long value) {
        long ticks = value - counterBase;
        if (ticks < 0 || ticks > (Long.MAX_VALUE - enabledAtNanos) / NANOS_PER_TICK) {
            return NO_EVENT;
        }
        return enabledAtNanos + ticks * NANOS_PER_TICK;
    }

    /**
     * Ticks from counter value {@code from} to timer {@code n}'s next match (at least 1), or -1 if it cannot match
     * within 2^63 ticks (a 64-bit comparator behind the counter).
     */
    private long ticksToMatch(int n, long from) {
        if ((timerConfig[n] & TN_32BIT) != 0) {
            long d = (comparator[n] - from) & LOW32;
            return d == 0 ? 1L << 32 : d;
        }
        long d = comparator[n] - from;
        return d > 0 ? d : -1;
    }

    /**
     * Processes every comparator match up to the counter's value at {@code nanos}. A time behind the last one
     * evaluated (the timer thread reads its clock before taking the lock, a vCPU may have come in between) changes
     * nothing: the counter as read never goes backwards.
     */
    private void catchUp(long nanos) {
        long now = counterAt(nanos);
        if (!enabled()) {
            evaluatedTo = now;
            return;
        }
        long window = now - evaluatedTo;
        if (window <= 0) {
            return;
        }
        for (int n = 0; n < TIMERS; n++) {
            long d = ticksToMatch(n, evaluatedTo);
            if (d > 0 && Long.compareUnsigned(d, window) <= 0) {
                fire(n, evaluatedTo + d, now);
            }
        }
        evaluatedTo = now;
    }

    /** Timer {@code n} matched at counter value {@code match}; the counter is at {@code now}. */
    private void fire(int n, long match, long now) {
        long cfg = timerConfig[n];
        if ((cfg & TN_PERIODIC) != 0 && period[n] != 0) {
            long p = period[n];
            long next = match + (Long.divideUnsigned(now - match, p) + 1) * p;
            comparator[n] = (cfg & TN_32BIT) != 0 ? next & LOW32 : next;
        }
        if ((cfg & TN_LEVEL) != 0) {
            status |= 1 << n;
            updateLevel(n);
        } else if ((cfg & TN_INT_ENB) != 0) {
            int gsi = route(n);
            irq.setGsi(gsi, true);
            irq.setGsi(gsi, false);
        }
    }

    private int route(int n) {
        if ((config & LEG_RT_CNF) != 0 && n < 2) {
            return n == 0 ? 2 : 8;
        }
        return (int) (timerConfig[n] >>> 9) & 0x1F;
    }

    /** Drives timer {@code n}'s level-triggered output to match its status, enable and route. */
    private void updateLevel(int n) {
        long cfg = timerConfig[n];
        int want = enabled() && (cfg & (TN_LEVEL | TN_INT_ENB)) == (TN_LEVEL | TN_INT_ENB)
                && (status & 1 << n) != 0 ? route(n) : -1;
        if (want != driven[n]) {
            if (driven[n] >= 0) {
                irq.setGsi(driven[n], false);
            }
            driven[n] = want;
            if (want >= 0) {
                irq.setGsi(want, true);
            }
        }
    }

    @Override
    public synchronized long nextEventNanos() {
        if (!enabled()) {
            return NO_EVENT;
        }
        long next = NO_EVENT;
        for (int n = 0; n < TIMERS; n++) {
            if ((timerConfig[n] & TN_INT_ENB) != 0) {
                long d = ticksToMatch(n, evaluatedTo);
                if (d > 0) {
                    next = Math.min(next, nanosAtCounter(evaluatedTo + d));
                }
            }
        }
        return next;
    }

    @Override
    public synchronized void service(long nowNanos) {
        catchUp(nowNanos);
    }

    // ---- registers ----

    @Override
    public long read(long offset, int size) {
        if (size <= 0 || offset < 0 || offset >= LENGTH) {
            return 0;
        }
        int n = Math.min(size, 8);
        int at = (int) offset;
        synchronized (this) {
            catchUp(nanoTime.getAsLong());
            int first = at & ~7;
            long result = readRegister(first) >>> 8 * (at - first);
            int fromFirst = 8 - (at - first);
            if (n > fromFirst && first + 8 < LENGTH) {
                result |= readRegister(first + 8) << 8 * fromFirst;
            }
            return result;
        }
    }

    private long readRegister(int reg) {
        switch (reg) {
            case CAPABILITIES:
                return CAPABILITIES_VALUE;
            case CONFIG:
                return config;
            case STATUS:
                return status;
            case COUNTER:
                return evaluatedTo; // catchUp just brought it to the counter's current value
            default:
                break;
        }
        int n = (reg - TIMER_BASE) / TIMER_STRIDE;
        if (reg < TIMER_BASE || n >= TIMERS) {
            return 0;
        }
        return switch ((reg - TIMER_BASE) % TIMER_STRIDE) {
            case 0 -> timerConfig[n] | TN_PER_INT_CAP | TN_SIZE_CAP | (long) ROUTE_CAPABILITY << 32;
            case 8 -> comparator[n];
            default -> 0; // FSB interrupt route: not implemented
        };
    }

    @Override
    public void write(long offset, int size, long value) {
        if (size <= 0 || offset < 0 || offset >= LENGTH) {
            return;
        }
        int n = Math.min(size, 8);
        int at = (int) offset;
        synchronized (this) {
            long nanos = nanoTime.getAsLong();
            catchUp(nanos);
            int first = at & ~7;
            int shift = 8 * (at - first);
            long bytes = n == 8 ? -1L : (1L << 8 * n) - 1;
            writeRegister(first, value << shift, bytes << shift, nanos);
            int fromFirst = 8 - (at - first);
            if (n > fromFirst && first + 8 < LENGTH) {
                writeRegister(first + 8, value >>> 8 * fromFirst, bytes >>> 8 * fromFirst, nanos);
            }
        }
        onReschedule.run();
    }

    /** Writes the bytes of {@code value} selected by {@code mask} into the register at {@code reg}. */
    private void writeRegister(int reg, long value, long mask, long nanos) {
        if (mask == 0) {
            return;
        }
        switch (reg) {
            case CONFIG -> writeConfig((config & ~mask | value & mask) & (ENABLE_CNF | LEG_RT_CNF), nanos);
            case STATUS -> {
                status &= (int) ~(value & mask);
                for (int i = 0; i < TIMERS; i++) {
                    updateLevel(i);
                }
            }
            case COUNTER -> {
                if (!enabled()) { // writes while the counter runs are undefined: ignored
                    counterBase = counterBase & ~mask | value & mask;
                    evaluatedTo = counterBase;
                }
            }
            default -> writeTimerRegister(reg, value, mask);
        }
    }

    private void writeConfig(long next, long nanos) {
        long old = config;
        if ((old & ENABLE_CNF) == 0 && (next & ENABLE_CNF) != 0) {
            enabledAtNanos = nanos; // counterBase holds the halted value, and evaluatedTo equals it
        } else if ((old & ENABLE_CNF) != 0 && (next & ENABLE_CNF) == 0) {
            counterBase = evaluatedTo; // catchUp just brought it to the counter's value
        }
        config = next;
        legacy = (next & LEG_RT_CNF) != 0;
        for (int i = 0; i < TIMERS; i++) {
            updateLevel(i);
        }
    }

    private void writeTimerRegister(int reg, long value, long mask) {
        int n = (reg - TIMER_BASE) / TIMER_STRIDE;
        if (reg < TIMER_BASE || n >= TIMERS) {
            return;
        }
        long cfg = timerConfig[n];
        switch ((reg - TIMER_BASE) % TIMER_STRIDE) {
            case 0 -> {
                long next = (cfg & ~mask | value & mask) & TN_WRITABLE;
                int newRoute = (int) (next >>> 9) & 0x1F;
                if ((ROUTE_CAPABILITY & 1 << newRoute) == 0) {
                    next = next & ~TN_ROUTE | cfg & TN_ROUTE; // an unsupported route does not stick
                }
                if ((next & TN_32BIT) != 0) {
                    comparator[n] &= LOW32;
                    period[n] &= LOW32;
                }
                if ((next & TN_LEVEL) == 0) {
                    status &= ~(1 << n); // the status bit has no meaning for edge-triggered timers
                }
                timerConfig[n] = next;
                updateLevel(n);
            }
            case 8 -> {
                long m = (cfg & TN_32BIT) != 0 ? mask & LOW32 : mask;
                if ((cfg & TN_PERIODIC) == 0 || (cfg & TN_VAL_SET) != 0) {
                    comparator[n] = comparator[n] & ~m | value & m;
                }
                if ((cfg & TN_PERIODIC) != 0) {
                    period[n] = period[n] & ~m | value & m;
                }
                timerConfig[n] = cfg & ~TN_VAL_SET;
            }
            default -> {
                // FSB route: not implemented
            }
        }
    }
}
