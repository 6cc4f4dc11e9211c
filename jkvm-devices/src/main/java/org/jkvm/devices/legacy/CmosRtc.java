package org.jkvm.devices.legacy;

import java.time.Clock;
import org.jkvm.devices.BusDevice;
import org.jkvm.devices.InterruptLine;

/**
 * The PC's real-time clock and CMOS RAM: a Motorola MC146818A (datasheet) as QEMU's hw/rtc/mc146818rtc.c models
 * it. Two ports: offset 0 (port 0x70) selects the register (bits 0-6; bit 7 is the NMI mask, kept but not acted
 * on), offset 1 (port 0x71) reads or writes it.
 *
 * <p>Registers 0x00-0x09 (seconds, alarm seconds, minutes, alarm minutes, hours, alarm hours, day of week with
 * Sunday = 1, day of month, month, year) and the century byte 0x32 follow the {@link Clock} plus an offset the
 * guest sets by writing them, encoded in BCD or binary (register B bit 2) and 24 or 12 hour mode (bit 1; in 12 hour
 * mode bit 7 of the hour means PM). The RTC keeps UTC (QEMU's default {@code -rtc base=utc}); the Clock's zone is
 * ignored. Register A: UIP (bit 7, high during the last 2 ms before each second's update), divider (bits 4-6; only
 * 010, the 32.768 kHz time base, keeps time running) and rate select (bits 0-3). Register B: SET (freezes the time
 * registers so the guest can write them; setting it clears UIE), PIE, AIE, UIE, SQWE, DM, 24/12, DSE (kept, no
 * effect). Register C: IRQF, PF, AF, UF; reading it returns and clears them and lowers IRQ 8. Register D: VRT = 1.
 * The other 114 bytes are plain CMOS RAM; {@link #setMemorySizes} fills in the memory-size bytes as QEMU does.
 *
 * <p>Interrupts without a thread: the update-ended, alarm and periodic flags are computed lazily from the clock
 * whenever register C is read or {@link #service} is called. Reading C is enough for a guest that polls; for IRQ 8
 * to fire on its own, the VMM calls {@link #service} and schedules the next call after the delay it returns.
 * The day of week is always derived from the date; a written value is not kept while the clock runs.
 *
 * <p>Locking: every method holds this object's monitor and calls the IRQ line under it. Reads allocate nothing
 * ({@link Clock#millis} is used, not {@code instant()}).
 */
public final class CmosRtc implements BusDevice {

    private static final int SECONDS = 0x00;
    private static final int SECONDS_ALARM = 0x01;
    private static final int MINUTES = 0x02;
    private static final int MINUTES_ALARM = 0x03;
    private static final int HOURS = 0x04;
    private static final int HOURS_ALARM = 0x05;
    private static final int DAY_OF_WEEK = 0x06;
    private static final int DAY_OF_MONTH = 0x07;
    private static final int MONTH = 0x08;
    private static final int YEAR = 0x09;
    private static final int REG_A = 0x0A;
    private static final int REG_B = 0x0B;
    private static final int REG_C = 0x0C;
    private static final int REG_D = 0x0D;
    /** The century byte, as named by the FADT's CENTURY field. */
    public static final int CENTURY = 0x32;

    private static final int A_UIP = 0x80;
    private static final int A_DIVIDER = 0x70;
    private static final int A_DIVIDER_32KHZ = 0x20;
    private static final int A_RATE = 0x0F;

    private static final int B_SET = 0x80;
    private static final int B_PIE = 0x40;
    private static final int B_AIE = 0x20;
    private static final int B_UIE = 0x10;
    private static final int B_DM_BINARY = 0x04;
    private static final int B_24H = 0x02;

    private static final int C_IRQF = 0x80;
    private static final int C_PF = 0x40;
    private static final int C_AF = 0x20;
    private static final int C_UF = 0x10;

    private static final long SECONDS_PER_DAY = 86_400;

    private final Clock clock;
    private final InterruptLine irq8;
    private final Runnable onReschedule;
    private final byte[] cmos = new byte[128];
    private final long startMillis;

    private int index;
    private boolean nmiMasked;
    /** Guest time in ms since 1970 (as UTC) = clock.millis() + offsetMillis, while running. */
    private long offsetMillis;
    /** Guest second at which update-ended / alarm were last evaluated. */
    private long lastUpdateSecond;
    /** Periodic-interrupt period index at the last evaluation. */
    private long lastPeriodIndex;
    private boolean irqLevel;

    /**
     * @param clock the time source; the RTC starts at its current time
     * @param irq8  the RTC interrupt (IRQ 8)
     */
    public CmosRtc(Clock clock, InterruptLine irq8) {
        this(clock, irq8, () -> { });
    }

    /**
     * @param clock        the time source; the RTC starts at its current time
     * @param irq8         the RTC interrupt (IRQ 8)
     * @param onReschedule called after a guest write to the time, alarm or control registers A and B, which may
     *                     change when {@link #service} is next due (the VMM's timer thread re-reads it)
     */
    public CmosRtc(Clock clock, InterruptLine irq8, Runnable onReschedule) {
        if (clock == null || irq8 == null || onReschedule == null) {
            throw new NullPointerException();
        }
        this.clock = clock;
        this.irq8 = irq8;
        this.onReschedule = onReschedule;
        this.startMillis = clock.millis();
        cmos[REG_A] = A_DIVIDER_32KHZ | 0x06; // 32.768 kHz, 1024 Hz periodic rate
        cmos[REG_B] = B_24H;
        resyncTrackers(startMillis);
    }

    /**
     * Writes the memory-size bytes the BIOS and some loaders read, as QEMU's pc_cmos_init does: 0x15/0x16 base
     * memory in KiB (at most 640), 0x17/0x18 and 0x30/0x31 memory above 1 MiB in KiB (at most 65535), 0x34/0x35 memory
     * between 16 MiB and 4 GiB in 64 KiB units (at most 65535), 0x5B-0x5D memory above 4 GiB in 64 KiB units.
     *
     * @param lowRamBytes  RAM below 4 GiB
     * @param highRamBytes RAM above 4 GiB
     */
    public synchronized void setMemorySizes(long lowRamBytes, long highRamBytes) {
        if (lowRamBytes < 0 || highRamBytes < 0) {
            throw new IllegalArgumentException("negative memory size");
        }
        final long kib = 1024;
        final long mib = 1024 * kib;
        put16(0x15, Math.min(lowRamBytes / kib, 640));
        long extended = lowRamBytes > mib ? Math.min((lowRamBytes - mib) / kib, 65535) : 0;
        put16(0x17, extended);
        put16(0x30, extended);
        put16(0x34, lowRamBytes > 16 * mib ? Math.min((lowRamBytes - 16 * mib) / (64 * kib), 65535) : 0);
        long high = highRamBytes / (64 * kib);
        put16(0x5B, high);
        cmos[0x5D] = (byte) (high >> 16);
    }

    private void put16(int at, long v) {
        cmos[at] = (byte) v;
        cmos[at + 1] = (byte) (v >> 8);
    }

    /** Whether the guest last wrote the index port with bit 7 (NMI disable) set. */
    public synchronized boolean nmiMasked() {
        return nmiMasked;
    }

    /**
     * Brings the interrupt flags up to date with the clock and drives IRQ 8 accordingly.
     *
     * @return nanoseconds until the next interrupt the guest has enabled can become due (call again then), or
     *         {@link Long#MAX_VALUE} when none is enabled
     */
    public synchronized long service() {
        long now = clock.millis();
        refreshFlags(now);
        long next = Long.MAX_VALUE;
        int b = cmos[REG_B];
        if ((b & (B_UIE | B_AIE)) != 0 && running()) {
            next = (1000 - Math.floorMod(now + offsetMillis, 1000L)) * 1_000_000L;
        }
        long period = periodNanos();
        if ((b & B_PIE) != 0 && period > 0) {
            long elapsed = (now - startMillis) * 1_000_000L;
            next = Math.min(next, period - Math.floorMod(elapsed, period));
        }
        return next;
    }

    @Override
    public synchronized long read(long offset, int size) {
        if (size <= 0 || offset != 1) {
            return 0xFF; // the index port is write-only
        }
        return readRegister(index);
    }

    @Override
    public synchronized void write(long offset, int size, long value) {
        if (size <= 0) {
            return;
        }
        int v = (int) value & 0xFF;
        if (offset == 0) {
            index = v & 0x7F;
            nmiMasked = (v & 0x80) != 0;
        } else if (offset == 1) {
            writeRegister(index, v);
            if (index <= REG_B) {
                onReschedule.run();
            }
        }
    }

    private int readRegister(int reg) {
        switch (reg) {
            case SECONDS, MINUTES, HOURS, DAY_OF_WEEK, DAY_OF_MONTH, MONTH, YEAR, CENTURY -> {
                if (running()) {
                    latchTime(clock.millis() + offsetMillis);
                }
                return cmos[reg] & 0xFF;
            }
            case REG_A -> {
                int a = cmos[REG_A] & 0x7F;
                if (running() && Math.floorMod(clock.millis() + offsetMillis, 1000L) >= 998) {
                    a |= A_UIP;
                }
                return a;
            }
            case REG_C -> {
                refreshFlags(clock.millis());
                int c = cmos[REG_C] & 0xFF;
                cmos[REG_C] = 0;
                updateIrq();
                return c;
            }
            case REG_D -> {
                return 0x80; // valid RAM and time
            }
            default -> {
                return cmos[reg] & 0xFF;
            }
        }
    }

    private void writeRegister(int reg, int v) {
        switch (reg) {
            case SECONDS, MINUTES, HOURS, DAY_OF_WEEK, DAY_OF_MONTH, MONTH, YEAR, CENTURY -> {
                if (running()) {
                    long now = clock.millis();
                    latchTime(now + offsetMillis);
                    cmos[reg] = (byte) v;
                    offsetMillis = timeFromRegisters() * 1000 - now;
                    resyncTrackers(now);
                } else {
                    cmos[reg] = (byte) v;
                }
            }
            case REG_A -> {
                boolean wasRunning = running();
                int old = cmos[REG_A];
                cmos[REG_A] = (byte) (v & 0x7F);
                if (((v ^ old) & (A_RATE | A_DIVIDER)) != 0) {
                    lastPeriodIndex = periodIndex(clock.millis());
                }
                runningChanged(wasRunning);
            }
            case REG_B -> {
                boolean wasRunning = running();
                cmos[REG_B] = (byte) ((v & B_SET) != 0 ? v & ~B_UIE : v);
                runningChanged(wasRunning);
                refreshFlags(clock.millis());
            }
            case REG_C, REG_D -> {
                // read-only
            }
            default -> cmos[reg] = (byte) v;
        }
    }

    /** Time runs unless SET is on or the divider is not the 32.768 kHz setting. */
    private boolean running() {
        return (cmos[REG_B] & B_SET) == 0 && (cmos[REG_A] & A_DIVIDER) == A_DIVIDER_32KHZ;
    }

    private void runningChanged(boolean wasRunning) {
        boolean nowRunning = running();
        long now = clock.millis();
        if (wasRunning && !nowRunning) {
            latchTime(now + offsetMillis); // the registers now hold the time, for the guest to change
        } else if (!wasRunning && nowRunning) {
            offsetMillis = timeFromRegisters() * 1000 - now;
            resyncTrackers(now);
        }
    }

    /** CMOS contents, index and the guest clock's offset, for a snapshot. */
    public synchronized RtcState saveState() {
        long now = clock.millis();
        refreshFlags(now);
        return new RtcState(cmos.clone(), index, nmiMasked, offsetMillis);
    }

    /** Loads a saved state with IRQ 8 low; {@link #refreshInterrupt} drives it afterwards. */
    public synchronized void restoreState(RtcState s) {
        System.arraycopy(s.cmos(), 0, cmos, 0, cmos.length);
        index = s.index();
        nmiMasked = s.nmiMasked();
        offsetMillis = s.offsetMillis();
        irqLevel = false;
        resyncTrackers(clock.millis());
    }

    /** Drives IRQ 8 from register C (after a restore) and lets the timer thread re-read the next event. */
    public void refreshInterrupt() {
        synchronized (this) {
            boolean level = (cmos[REG_C] & C_IRQF) != 0;
            if (level != irqLevel) {
                irqLevel = level;
                irq8.set(level);
            }
        }
        onReschedule.run();
    }

    private void resyncTrackers(long now) {
        lastUpdateSecond = Math.floorDiv(now + offsetMillis, 1000L);
        lastPeriodIndex = periodIndex(now);
    }

    // ---- interrupt flags, computed lazily ----

    private void refreshFlags(long now) {
        int flags = cmos[REG_C] & (C_PF | C_AF | C_UF);
        if (running()) {
            long second = Math.floorDiv(now + offsetMillis, 1000L);
            if (second > lastUpdateSecond) {
                flags |= C_UF;
                if (alarmBetween(lastUpdateSecond, second)) {
                    flags |= C_AF;
                }
            }
            lastUpdateSecond = second;
        }
        if (periodNanos() > 0) {
            long p = periodIndex(now);
            if (p > lastPeriodIndex) {
                flags |= C_PF;
            }
            lastPeriodIndex = p;
        }
        if ((flags & cmos[REG_B] & (B_PIE | B_AIE | B_UIE)) != 0) {
            flags |= C_IRQF;
        }
        cmos[REG_C] = (byte) flags;
        updateIrq();
    }

    private void updateIrq() {
        boolean level = (cmos[REG_C] & C_IRQF) != 0;
        if (level != irqLevel) {
            irqLevel = level;
            irq8.set(level);
        }
    }

    /** The periodic interrupt's period for the current rate select, or 0 when off. */
    private long periodNanos() {
        if ((cmos[REG_A] & A_DIVIDER) != A_DIVIDER_32KHZ) {
            return 0;
        }
        int rate = cmos[REG_A] & A_RATE;
        if (rate == 0) {
            return 0;
        }
        if (rate <= 2) {
            rate += 7; // rates 1 and 2 repeat 8 and 9 with the 32.768 kHz time base
        }
        return (1_000_000_000L << (rate - 1)) / 32_768;
    }

    private long periodIndex(long now) {
        long period = periodNanos();
        return period == 0 ? 0 : Math.floorDiv((now - startMillis) * 1_000_000L, period);
    }

    /** Whether the alarm matched at some update in the guest seconds (from, to]. */
    private boolean alarmBetween(long from, long to) {
        if (to - from > SECONDS_PER_DAY) {
            from = to - SECONDS_PER_DAY;
        }
        int alarmSeconds = cmos[SECONDS_ALARM] & 0xFF;
        long s = from + 1;
        while (s <= to) {
            int secondOfDay = (int) Math.floorMod(s, SECONDS_PER_DAY);
            int second = secondOfDay % 60;
            int minute = secondOfDay / 60 % 60;
            int hour = secondOfDay / 3600;
            long minuteEnd = Math.min(to, s + 59 - second);
            if (alarmMatches(HOURS_ALARM, encodeHour(hour)) && alarmMatches(MINUTES_ALARM, encode(minute))) {
                if (dontCare(alarmSeconds)) {
                    return true;
                }
                int wanted = decode(alarmSeconds);
                if (encode(wanted) == alarmSeconds && wanted >= second && wanted <= second + (minuteEnd - s)) {
                    return true;
                }
            }
            s = minuteEnd + 1;
        }
        return false;
    }

    private boolean alarmMatches(int reg, int value) {
        int alarm = cmos[reg] & 0xFF;
        return dontCare(alarm) || alarm == value;
    }

    private static boolean dontCare(int alarm) {
        return (alarm & 0xC0) == 0xC0;
    }

    // ---- time <-> registers ----

    private boolean binary() {
        return (cmos[REG_B] & B_DM_BINARY) != 0;
    }

    private int encode(int v) {
        return binary() ? v : (v / 10) << 4 | v % 10;
    }

    private int decode(int b) {
        return binary() ? b : (b >> 4 & 0x0F) * 10 + (b & 0x0F);
    }

    private int encodeHour(int hour) {
        if ((cmos[REG_B] & B_24H) != 0) {
            return encode(hour);
        }
        int h12 = hour % 12 == 0 ? 12 : hour % 12;
        return encode(h12) | (hour >= 12 ? 0x80 : 0);
    }

    private int decodeHour(int b) {
        if ((cmos[REG_B] & B_24H) != 0) {
            return decode(b & 0x7F);
        }
        int h = decode(b & 0x7F) % 12;
        return (b & 0x80) != 0 ? h + 12 : h;
    }

    /** Writes the time registers for {@code guestMillis} (ms since 1970, UTC) in the current format. */
    private void latchTime(long guestMillis) {
        long seconds = Math.floorDiv(guestMillis, 1000L);
        long days = Math.floorDiv(seconds, SECONDS_PER_DAY);
        int secondOfDay = (int) Math.floorMod(seconds, SECONDS_PER_DAY);
        cmos[SECONDS] = (byte) encode(secondOfDay % 60);
        cmos[MINUTES] = (byte) encode(secondOfDay / 60 % 60);
        cmos[HOURS] = (byte) encodeHour(secondOfDay / 3600);
        cmos[DAY_OF_WEEK] = (byte) encode((int) Math.floorMod(days + 4, 7L) + 1); // 1970-01-01 was a Thursday
        // Civil date from a day count (H. Hinnant's algorithm, proleptic Gregorian).
        long z = days + 719_468;
        long era = Math.floorDiv(z, 146_097L);
        long dayOfEra = z - era * 146_097;
        long yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365;
        long dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100);
        long mp = (5 * dayOfYear + 2) / 153;
        int day = (int) (dayOfYear - (153 * mp + 2) / 5 + 1);
        int month = (int) (mp < 10 ? mp + 3 : mp - 9);
        long year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
        int y = (int) Math.floorMod(year, 10_000L);
        cmos[DAY_OF_MONTH] = (byte) encode(day);
        cmos[MONTH] = (byte) encode(month);
        cmos[YEAR] = (byte) encode(y % 100);
        cmos[CENTURY] = (byte) encode(y / 100);
    }

    /** Seconds since 1970 for the time registers; out-of-range (hostile) values are clamped, never rejected. */
    private long timeFromRegisters() {
        int second = clamp(decode(cmos[SECONDS] & 0xFF), 0, 59);
        int minute = clamp(decode(cmos[MINUTES] & 0xFF), 0, 59);
        int hour = clamp(decodeHour(cmos[HOURS] & 0xFF), 0, 23);
        int month = clamp(decode(cmos[MONTH] & 0xFF), 1, 12);
        long year = clamp(decode(cmos[CENTURY] & 0xFF), 0, 99) * 100L + clamp(decode(cmos[YEAR] & 0xFF), 0, 99);
        int day = clamp(decode(cmos[DAY_OF_MONTH] & 0xFF), 1, daysInMonth(year, month));
        // Day count from a civil date (H. Hinnant's algorithm).
        long y = month <= 2 ? year - 1 : year;
        long era = Math.floorDiv(y, 400L);
        long yearOfEra = y - era * 400;
        long dayOfYear = (153L * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
        long dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear;
        long days = era * 146_097 + dayOfEra - 719_468;
        return days * SECONDS_PER_DAY + hour * 3600L + minute * 60L + second;
    }

    private static int daysInMonth(long year, int month) {
        return switch (month) {
            case 2 -> (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28;
            case 4, 6, 9, 11 -> 30;
            default -> 31;
        };
    }

    private static int clamp(int v, int lo, int hi) {
        return Math.max(lo, Math.min(hi, v));
    }
}
