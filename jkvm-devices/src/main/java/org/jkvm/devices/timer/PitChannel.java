package org.jkvm.devices.timer;

/**
 * One counter of the 8254 (Intel 8254 datasheet 231164, "Operation" and "Modes"): count register and counting
 * element, modes 0-5, binary or BCD, the read/write format (LSB, MSB, LSB then MSB), the count and status latches.
 * Time is in PIT input clock ticks ({@link Pit#FREQUENCY_HZ}); nothing counts by itself: the count is derived from
 * the tick at which counting started. {@link Pit} holds the lock; this class has none.
 *
 * <p>Simplifications: a new count takes effect at once in every mode (the datasheet defers it to the end of the
 * current period in modes 2 and 3); counting starts on the tick the count is written (no extra load clock);
 * mode 3's count with an odd initial count decrements as for the even count below it; null count reads 1 from the
 * control word until a count is written.
 */
final class PitChannel {

    static final int RW_LATCH = 0;
    static final int RW_LSB = 1;
    static final int RW_MSB = 2;
    static final int RW_WORD = 3;

    int mode;
    boolean bcd;
    int rw = RW_WORD;
    /** The count as written (0 means the maximum). */
    int countRegister;
    /** The period in ticks: 1-65536 binary, 1-10000 BCD. */
    long initial = 65536;
    /** A count was written since the control word. */
    boolean armed;
    boolean gate;
    /** Modes 1 and 5: a gate rising edge started the count. */
    boolean triggered;
    private boolean running;
    private long startTick;
    private long frozenTicks;

    private boolean writeMsbNext;
    private int writeLsb;
    private boolean readMsbNext;
    private int latchedBytes;
    private boolean latchMsbNext;
    private int latchedCount;
    private boolean statusLatched;
    private int latchedStatus;

    PitChannel(boolean gate) {
        this.gate = gate;
    }

    /** Ticks counted since the count was (re)started: frozen while counting is stopped. */
    long elapsed(long now) {
        return running ? now - startTick : frozenTicks;
    }

    /** The tick counting (re)started at, when running: periods end at {@code start + k * initial}. */
    long startTick() {
        return startTick;
    }

    boolean running() {
        return running;
    }

    private void setRunning(boolean run, long now) {
        if (running && !run) {
            frozenTicks = now - startTick;
            running = false;
        } else if (!running && run) {
            startTick = now - frozenTicks;
            running = true;
        }
    }

    private void restart(long now) {
        running = false;
        frozenTicks = 0;
        setRunning(true, now);
    }

    /** Whether the counting element runs in this mode with the current gate. */
    private boolean counts() {
        if (!armed) {
            return false;
        }
        return mode == 1 || mode == 5 ? triggered : gate;
    }

    /** A control word (not a latch command) for this counter: resets its control logic. */
    void control(int newMode, boolean newBcd, int newRw, long now) {
        setRunning(false, now);
        mode = newMode;
        bcd = newBcd;
        rw = newRw;
        armed = false;
        triggered = false;
        writeMsbNext = false;
        readMsbNext = false;
        latchedBytes = 0;
        statusLatched = false;
    }

    /** A byte written to the counter's port; returns true when a full count was loaded. */
    boolean writeByte(int v, long now) {
        switch (rw) {
            case RW_LSB -> load(v, now);
            case RW_MSB -> load(v << 8, now);
            default -> {
                if (!writeMsbNext) {
                    writeLsb = v;
                    writeMsbNext = true;
                    return false;
                }
                writeMsbNext = false;
                load(writeLsb | v << 8, now);
            }
        }
        return true;
    }

    private void load(int value, long now) {
        countRegister = value;
        long n = bcd ? fromBcd(value) : value;
        initial = n != 0 ? n : bcd ? 10000 : 65536;
        armed = true;
        triggered = false;
        running = false;
        frozenTicks = 0;
        if (counts()) {
            restart(now);
        }
    }

    /** Drives the gate input: suspends modes 0/4, stops and reloads modes 2/3, triggers modes 1/5. */
    void setGate(boolean level, long now) {
        if (level == gate) {
            return;
        }
        gate = level;
        if (!armed) {
            return;
        }
        switch (mode) {
            case 1, 5 -> {
                if (level) {
                    triggered = true;
                    restart(now);
                }
            }
            case 2, 3 -> {
                if (level) {
                    restart(now);
                } else {
                    setRunning(false, now);
                }
            }
            default -> setRunning(level, now);
        }
    }

    /** The counting element's value now, as the counter's format reads it (BCD digits in BCD mode). */
    int count(long now) {
        long d = elapsed(now);
        long n = initial;
        long modulus = bcd ? 10000 : 65536;
        long v;
        if (!armed && mode != 1 && mode != 5) {
            v = Math.floorMod(n - d, modulus);
        } else {
            v = switch (mode) {
                case 2 -> n - d % n;
                case 3 -> n - (2 * d) % n;
                default -> Math.floorMod(n - d, modulus);
            };
        }
        v %= modulus;
        return bcd ? toBcd((int) v) : (int) v;
    }

    /** The OUT pin now. */
    boolean out(long now) {
        if (!armed) {
            return mode != 0; // mode 0: OUT goes low on the control word; the others go high
        }
        long d = elapsed(now);
        long n = initial;
        return switch (mode) {
            case 0 -> d >= n;
            case 1 -> !triggered || d >= n;
            case 2 -> !gate || d % n != n - 1;
            case 3 -> !gate || d % n < (n + 1) / 2;
            case 4 -> d != n;
            default -> !triggered || d != n;
        };
    }

    /** Counter latch command: holds the count until it is read; ignored while a latched count is unread. */
    void latchCount(long now) {
        if (latchedBytes != 0) {
            return;
        }
        latchedCount = count(now);
        latchedBytes = rw == RW_WORD ? 2 : 1;
        latchMsbNext = rw == RW_MSB;
    }

    /** Read-back status latch: OUT, null count, RW, mode, BCD (datasheet figure 9). */
    void latchStatus(long now) {
        if (statusLatched) {
            return;
        }
        latchedStatus = (out(now) ? 0x80 : 0) | (armed ? 0 : 0x40) | rw << 4 | mode << 1 | (bcd ? 1 : 0);
        statusLatched = true;
    }

    /** A read of the counter's port: the latched status, then a latched count, else the live count. */
    int readByte(long now) {
        if (statusLatched) {
            statusLatched = false;
            return latchedStatus;
        }
        if (latchedBytes > 0) {
            latchedBytes--;
            int b = latchMsbNext ? latchedCount >>> 8 : latchedCount;
            latchMsbNext = !latchMsbNext;
            return b & 0xFF;
        }
        int c = count(now);
        return switch (rw) {
            case RW_LSB -> c & 0xFF;
            case RW_MSB -> c >>> 8 & 0xFF;
            default -> {
                boolean msb = readMsbNext;
                readMsbNext = !readMsbNext;
                yield (msb ? c >>> 8 : c) & 0xFF;
            }
        };
    }

    /** This counter in KVM's kvm_pit_channel_state form, {@code elapsedTicks} counted since its (re)start. */
    org.jkvm.hypervisor.state.PitChannelState save(long now, long nanosPerTicks) {
        int readState = rw == RW_WORD ? (readMsbNext ? 4 : 3) : rw;
        int writeState = rw == RW_WORD ? (writeMsbNext ? 4 : 3) : rw;
        int countLatched = latchedBytes == 0 ? 0 : rw == RW_WORD ? (latchMsbNext ? 4 : 3) : rw;
        int savedMode = !armed && countRegister == 0 && mode == 0
                ? org.jkvm.hypervisor.state.PitChannelState.NEVER_PROGRAMMED : mode;
        long ago = elapsed(now) * nanosPerTicks / 1000;
        return new org.jkvm.hypervisor.state.PitChannelState(countRegister == 0 ? 0x10000 : countRegister,
                latchedCount & 0xffff, countLatched, statusLatched, latchedStatus & 0xff, readState, writeState,
                writeLsb & 0xff, rw == RW_LATCH ? RW_WORD : rw, savedMode, bcd, gate, Math.max(0, ago));
    }

    /** Loads a saved counter; counting resumes {@code elapsedTicks} into the period at tick {@code now}. */
    void restore(org.jkvm.hypervisor.state.PitChannelState s, long now, long elapsedTicks) {
        boolean programmed = s.mode() != org.jkvm.hypervisor.state.PitChannelState.NEVER_PROGRAMMED;
        mode = programmed ? s.mode() : 0;
        bcd = s.bcd();
        rw = s.rwMode() == RW_LATCH ? RW_WORD : s.rwMode();
        countRegister = s.count() & 0xffff;
        long n = bcd ? fromBcd(countRegister) : countRegister;
        initial = n != 0 ? n : bcd ? 10000 : 65536;
        armed = programmed;
        gate = s.gate();
        triggered = (mode == 1 || mode == 5) && gate;
        writeMsbNext = s.writeState() == 4;
        writeLsb = s.writeLatch();
        readMsbNext = s.readState() == 4;
        latchedCount = s.latchedCount();
        latchedBytes = switch (s.countLatched()) {
            case 0 -> 0;
            case 3 -> rw == RW_WORD ? 2 : 1;
            default -> 1;
        };
        latchMsbNext = s.countLatched() == 2 || s.countLatched() == 4;
        statusLatched = s.statusLatched();
        latchedStatus = s.status();
        running = false;
        frozenTicks = Math.max(0, elapsedTicks);
        if (counts()) {
            setRunning(true, now);
        }
    }

    private static int fromBcd(int v) {
        return (v >>> 12 & 0xF) * 1000 + (v >>> 8 & 0xF) * 100 + (v >>> 4 & 0xF) * 10 + (v & 0xF);
    }

    private static int toBcd(int v) {
        return v / 1000 % 10 << 12 | v / 100 % 10 << 8 | v / 10 % 10 << 4 | v % 10;
    }
}
