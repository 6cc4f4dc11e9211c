package org.jkvm.devices.timer;

/**
 * A device whose interrupts fall due with time, driven by the VMM's timer thread instead of a thread of its own (the
 * {@link Pit} and the {@link Hpet}). Times are in the device's clock, {@link System#nanoTime} unless one was injected.
 *
 * <p>The timer thread's loop: {@code t = min(device.nextEventNanos())}; sleep until {@code t} or until a device's
 * reschedule callback says the guest changed something; {@code device.service(now)}; repeat. Guest register
 * accesses also bring a device up to date, so a late or missing timer thread delays interrupts but never corrupts
 * counter values.
 */
public interface TimerDevice {

    /** {@link #nextEventNanos}'s answer when nothing is armed. */
    long NO_EVENT = Long.MAX_VALUE;

    /** The clock time at which {@link #service} should next be called, or {@link #NO_EVENT}. */
    long nextEventNanos();

    /**
     * Fires every interrupt due at {@code nowNanos} (a periodic timer that fell several periods behind fires once:
     * missed ticks are coalesced) and re-arms periodic ones.
     */
    void service(long nowNanos);
}
