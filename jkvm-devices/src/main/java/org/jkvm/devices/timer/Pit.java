package org.jkvm.devices.timer;

import java.util.function.LongSupplier;
import org.jkvm.devices.BusDevice;
import org.jkvm.devices.InterruptLine;

/**
 * The PC's 8254 programmable interval timer (Intel 8254 datasheet 231164) clocked at {@value #FREQUENCY_HZ} Hz, and
 * the timer bits of system control port B (port 0x61, as the PIIX4 datasheet's NMI status and control register
 * describes them).
 *
 * <p>Ports (relative: the VMM registers the device at 0x40, 4 ports, and {@link #portB()} at 0x61, 1 port): offsets
 * 0-2 counters 0-2, offset 3 the control word (write-only; reads 0xFF). Implemented: modes 0-5 (6 and 7 alias 2 and
 * 3), binary and BCD, LSB / MSB / LSB-then-MSB access with separate read and write flip-flops, the counter latch
 * command, the read-back command (count and status latches), the gates (counters 0 and 1 tied high, counter 2 from
 * port B bit 0) and OUT. Counts are derived lazily from the clock (no thread, no per-tick work); see
 * {@link PitChannel} for the simplifications.
 *
 * <p>Port B: bit 0 counter 2's gate and bit 1 the speaker data enable (read/write), bits 2-3 read back as written
 * (the parity/IOCHK enables; no NMI is ever raised), bit 4 the refresh toggle (flips every 15.085 us), bit 5 counter
 * 2's OUT, bits 6-7 read 0. This is what Linux's {@code pit_calibrate_tsc} and {@code quick_pit_calibrate} use.
 *
 * <p>IRQ 0: counter 0's OUT as the interrupt source, as a pulse (raise, lower) at each rising edge that matters: every
 * period in modes 2 and 3 (at the reload), once at terminal count in modes 0 and 4 (Linux's PIT clockevent uses
 * mode 2 for periodic ticks and mode 4 for one-shot). The pulses are fired by the VMM's timer thread through
 * {@link TimerDevice} (and by any later guest access to counter 0 or the control word); late ticks are coalesced,
 * and periodic interrupts come at most every {@value #MIN_PERIOD_NANOS} ns (as KVM's in-kernel PIT limits them),
 * however small the count. {@code onReschedule} runs, with no lock held, after a guest write that changed when the
 * next interrupt is due, so the timer thread can re-arm.
 *
 * <p>Locking: one monitor; IRQ 0 is pulsed under it (see {@link InterruptLine}). Nothing allocates after
 * construction.
 */
public final class Pit implements BusDevice, TimerDevice {

    /** The 8254's input clock on a PC, in Hz. */
    public static final long FREQUENCY_HZ = 1_193_182;
    /** The shortest interval between periodic IRQ 0 pulses. */
    public static final long MIN_PERIOD_NANOS = 200_000;
    private static final long NANOS_PER_SECOND = 1_000_000_000L;
    private static final long MIN_PERIOD_TICKS = (MIN_PERIOD_NANOS * FREQUENCY_HZ + NANOS_PER_SECOND - 1)
            / NANOS_PER_SECOND;
    private static final long REFRESH_NANOS = 15_085;
    private static final long NEVER = Long.MAX_VALUE;

    private final InterruptLine irq0;
    private final LongSupplier nanoTime;
    private final Runnable onReschedule;
    private final long baseNanos;
    private final PitChannel[] channels = {new PitChannel(true), new PitChannel(true), new PitChannel(false)};
    private final BusDevice portB = new PortB();
    private int portBBits;
    /** The tick of the next IRQ 0 pulse, or {@link #NEVER}. */
    private long irqTick = NEVER;

    /** A PIT on {@link System#nanoTime}, with no reschedule callback. */
    public Pit(InterruptLine irq0) {
        this(irq0, System::nanoTime, () -> { });
    }

    /**
     * @param irq0         counter 0's output (ISA IRQ 0)
     * @param nanoTime     the clock, in nanoseconds (the one {@link #nextEventNanos} and {@link #service} use)
     * @param onReschedule called, with no lock held, when a guest write changed the next event time
     */
    public Pit(InterruptLine irq0, LongSupplier nanoTime, Runnable onReschedule) {
        if (irq0 == null || nanoTime == null || onReschedule == null) {
            throw new NullPointerException();
        }
        this.irq0 = irq0;
        this.nanoTime = nanoTime;
        this.onReschedule = onReschedule;
        this.baseNanos = nanoTime.getAsLong();
    }

    /** The three counters and port 0x61's gate and speaker bits, for a snapshot. */
    public synchronized org.jkvm.hypervisor.state.PitState saveState() {
        long now = now();
        long nanosPerKiloTick = NANOS_PER_SECOND * 1000 / FREQUENCY_HZ;
        java.util.List<org.jkvm.hypervisor.state.PitChannelState> list = new java.util.ArrayList<>(3);
        for (PitChannel c : channels) {
            list.add(c.save(now, nanosPerKiloTick));
        }
        return new org.jkvm.hypervisor.state.PitState(list, portBBits & 0x3);
    }

    /** Loads a saved state: each counter goes on from where it was; counter 0's interrupt is re-armed. */
    public void restoreState(org.jkvm.hypervisor.state.PitState s) {
        synchronized (this) {
            long now = now();
            for (int i = 0; i < 3; i++) {
                org.jkvm.hypervisor.state.PitChannelState c = s.channels().get(i);
                long ticks = c.loadedNanosAgo() / NANOS_PER_SECOND * FREQUENCY_HZ
                        + c.loadedNanosAgo() % NANOS_PER_SECOND * FREQUENCY_HZ / NANOS_PER_SECOND;
                channels[i].restore(c, now, ticks);
            }
            portBBits = (portBBits & ~0x3) | (s.speaker() & 0x3);
            channels[2].setGate((portBBits & 1) != 0, now);
            rearm();
            if (irqTick != NEVER && irqTick <= now) {
                PitChannel c = channels[0];
                if (c.mode == 2 || c.mode == 3) {
                    long period = Math.max(c.initial, MIN_PERIOD_TICKS);
                    irqTick += ((now - irqTick) / period + 1) * period; // no burst of missed ticks
                } else {
                    irqTick = NEVER; // a one-shot count that ended before the save fired then
                }
            }
        }
        onReschedule.run();
    }

    /** System control port B (port 0x61), one port. */
    public BusDevice portB() {
        return portB;
    }

    /** PIT ticks since construction at {@code nanos} (0 before it), exact for centuries without overflow. */
    private long ticksAt(long nanos) {
        long d = nanos - baseNanos;
        if (d <= 0) {
            return 0;
        }
        return d / NANOS_PER_SECOND * FREQUENCY_HZ + d % NANOS_PER_SECOND * FREQUENCY_HZ / NANOS_PER_SECOND;
    }

    /** The first clock time at which {@link #ticksAt} reaches {@code tick}. */
    private long nanosAt(long tick) {
        long whole = tick / FREQUENCY_HZ;
        if (whole >= Long.MAX_VALUE / NANOS_PER_SECOND - 1) {
            return NO_EVENT;
        }
        long rest = tick % FREQUENCY_HZ;
        return baseNanos + whole * NANOS_PER_SECOND + (rest * NANOS_PER_SECOND + FREQUENCY_HZ - 1) / FREQUENCY_HZ;
    }

    private long now() {
        return ticksAt(nanoTime.getAsLong());
    }

    @Override
    public synchronized long nextEventNanos() {
        return irqTick == NEVER ? NO_EVENT : nanosAt(irqTick);
    }

    @Override
    public synchronized void service(long nowNanos) {
        fireDue(ticksAt(nowNanos));
    }

    /** Pulses IRQ 0 if its event is due at tick {@code now} and re-arms a periodic one past {@code now}. */
    private void fireDue(long now) {
        if (irqTick > now) {
            return;
        }
        PitChannel c = channels[0];
        if (c.mode == 2 || c.mode == 3) {
            long period = Math.max(c.initial, MIN_PERIOD_TICKS);
            irqTick += ((now - irqTick) / period + 1) * period;
        } else {
            irqTick = NEVER;
        }
        irq0.pulse();
    }

    /** Recomputes counter 0's next IRQ 0 tick after it was reprogrammed; returns whether it changed. */
    private boolean rearm() {
        PitChannel c = channels[0];
        long next = NEVER;
        if (c.armed && c.running()) {
            switch (c.mode) {
                case 2, 3 -> next = c.startTick() + Math.max(c.initial, MIN_PERIOD_TICKS);
                case 0, 4 -> next = c.startTick() + c.initial;
                default -> {
                    // modes 1 and 5 need a gate edge, and counter 0's gate is tied high
                }
            }
        }
        boolean changed = next != irqTick;
        irqTick = next;
        return changed;
    }

    @Override
    public long read(long offset, int size) {
        if (size <= 0 || offset < 0 || offset > 2) {
            return 0xFF;
        }
        synchronized (this) {
            long now = now();
            if (offset == 0) {
                fireDue(now);
            }
            return channels[(int) offset].readByte(now);
        }
    }

    @Override
    public void write(long offset, int size, long value) {
        if (size <= 0 || offset < 0 || offset > 3) {
            return;
        }
        int v = (int) value & 0xFF;
        boolean reschedule;
        synchronized (this) {
            long now = now();
            fireDue(now);
            if (offset == 3) {
                reschedule = controlWord(v, now);
            } else {
                boolean loaded = channels[(int) offset].writeByte(v, now);
                reschedule = loaded && offset == 0 && rearm();
            }
        }
        if (reschedule) {
            onReschedule.run();
        }
    }

    /** A write to the control port; returns whether counter 0's schedule changed. */
    private boolean controlWord(int v, long now) {
        int select = v >>> 6;
        if (select == 3) { // read-back: bit 5 clear latches counts, bit 4 clear latches status, bits 3-1 select
            for (int i = 0; i < 3; i++) {
                if ((v & 2 << i) != 0) {
                    if ((v & 0x20) == 0) {
                        channels[i].latchCount(now);
                    }
                    if ((v & 0x10) == 0) {
                        channels[i].latchStatus(now);
                    }
                }
            }
            return false;
        }
        PitChannel c = channels[select];
        int rw = v >>> 4 & 3;
        if (rw == PitChannel.RW_LATCH) {
            c.latchCount(now);
            return false;
        }
        int mode = v >>> 1 & 7;
        c.control(mode > 5 ? mode - 4 : mode, (v & 1) != 0, rw, now);
        return select == 0 && rearm();
    }

    /** Port 0x61's value now. */
    private int readPortB() {
        long nanos = nanoTime.getAsLong();
        int refresh = (int) ((nanos - baseNanos) / REFRESH_NANOS) & 1;
        PitChannel c2 = channels[2];
        return portBBits & 0x0F | refresh << 4 | (c2.out(ticksAt(nanos)) ? 0x20 : 0);
    }

    /** System control port B (0x61). */
    private final class PortB implements BusDevice {
        @Override
        public long read(long offset, int size) {
            if (size <= 0 || offset != 0) {
                return 0xFF;
            }
            synchronized (Pit.this) {
                return readPortB();
            }
        }

        @Override
        public void write(long offset, int size, long value) {
            if (size <= 0 || offset != 0) {
                return;
            }
            synchronized (Pit.this) {
                portBBits = (int) value & 0x0F;
                channels[2].setGate((portBBits & 1) != 0, now());
            }
        }
    }
}
