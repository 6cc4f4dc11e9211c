package org.jkvm.devices.acpi;

import java.util.function.LongSupplier;
import org.jkvm.devices.BusDevice;
import org.jkvm.devices.InterruptLine;

/**
 * ACPI fixed hardware registers (ACPI 6.5 section 4.8): the PM1a event block (PM1a_STS at offset 0, PM1a_EN at 2,
 * two bytes each), the PM1a control block (PM1a_CNT at 4, two bytes) and the power management timer (PM_TMR at 8,
 * four bytes), registered as one 12-byte block (the FADT then says PM1_EVT_BLK = base, PM1_CNT_BLK = base + 4,
 * PM_TMR_BLK = base + 8, PM1_EVT_LEN = 4, PM1_CNT_LEN = 2, PM_TMR_LEN = 4).
 *
 * <p>PM1_STS bits are write-one-to-clear. The SCI is a level: asserted while {@code PM1_STS & PM1_EN} has a bit set
 * among TMR, GBL, PWRBTN, SLPBTN and RTC. SCI_EN reads 1 from reset and cannot be cleared: ACPI mode is always on
 * (the FADT's SMI_CMD is 0). Writing PM1_CNT with SLP_EN set and SLP_TYP equal to the S5 sleep type calls
 * {@code powerOff}; other sleep types are not supported and complete at once by setting WAK_STS, so an OS waiting
 * for the wake never spins forever. The timer counts at 3.579545 MHz from {@link System#nanoTime}, 24 bits wide
 * (TMR_VAL_EXT clear in the FADT); TMR_STS (bit 23 of the counter toggled) is computed lazily when PM1_STS is read.
 *
 * <p>Every byte is addressable: an access of any size at any offset reads or writes the bytes it covers, little
 * endian; bytes outside the block read 0. Locking: every access holds this object's monitor and calls the SCI line
 * under it; {@code powerOff} runs after the lock is released.
 */
public final class AcpiPm implements BusDevice {

    /** Length of the register block. */
    public static final int LENGTH = 12;
    /** PM timer frequency in Hz. */
    public static final long PM_TIMER_HZ = 3_579_545;

    static final int TMR_STS = 1;
    static final int GBL_STS = 1 << 5;
    static final int PWRBTN_STS = 1 << 8;
    static final int SLPBTN_STS = 1 << 9;
    static final int RTC_STS = 1 << 10;
    static final int WAK_STS = 1 << 15;
    private static final int EN_BITS = TMR_STS | GBL_STS | PWRBTN_STS | SLPBTN_STS | RTC_STS | 1 << 14;
    private static final int SCI_SOURCES = TMR_STS | GBL_STS | PWRBTN_STS | SLPBTN_STS | RTC_STS;

    static final int SCI_EN = 1;
    private static final int SLP_TYP_SHIFT = 10;
    private static final int SLP_TYP_MASK = 7 << SLP_TYP_SHIFT;
    static final int SLP_EN = 1 << 13;
    private static final int CNT_BITS = SCI_EN | 1 << 1 | 1 << 2 | SLP_TYP_MASK;

    private final InterruptLine sci;
    private final Runnable powerOff;
    private final int s5SleepType;
    private final LongSupplier nanoTime;
    private long startNanos;

    private int status;
    private int enable;
    private int control = SCI_EN;
    private long lastTimerHalf;
    private boolean sciLevel;

    /**
     * @param sci         the SCI (IRQ 9 on a PC, level-triggered, active high)
     * @param powerOff    called when the guest enters S5
     * @param s5SleepType the SLP_TYP value the DSDT's {@code \_S5} package gives (5 is customary)
     */
    public AcpiPm(InterruptLine sci, Runnable powerOff, int s5SleepType) {
        this(sci, powerOff, s5SleepType, System::nanoTime);
    }

    /** For tests: the timer counts from {@code nanoTime}. */
    AcpiPm(InterruptLine sci, Runnable powerOff, int s5SleepType, LongSupplier nanoTime) {
        if (sci == null || powerOff == null || nanoTime == null) {
            throw new NullPointerException();
        }
        if (s5SleepType < 0 || s5SleepType > 7) {
            throw new IllegalArgumentException("SLP_TYP is 3 bits: " + s5SleepType);
        }
        this.sci = sci;
        this.powerOff = powerOff;
        this.s5SleepType = s5SleepType;
        this.nanoTime = nanoTime;
        this.startNanos = nanoTime.getAsLong();
    }

    /** The power button was pressed: sets PWRBTN_STS, which raises the SCI if PWRBTN_EN is set. */
    public synchronized void pressPowerButton() {
        status |= PWRBTN_STS;
        updateSci();
    }

    @Override
    public synchronized long read(long offset, int size) {
        if (size <= 0 || offset < 0 || offset >= LENGTH) {
            return 0;
        }
        int n = Math.min(size, 8);
        long ticks = offset + n > 8 ? timerTicks() : 0;
        if (offset < 2) {
            refreshTimerStatus();
        }
        long result = 0;
        for (int i = 0; i < n; i++) {
            result |= (long) readByte((int) offset + i, ticks) << (8 * i);
        }
        return result;
    }

    private int readByte(int at, long ticks) {
        return switch (at) {
            case 0 -> status & 0xFF;
            case 1 -> status >> 8 & 0xFF;
            case 2 -> enable & 0xFF;
            case 3 -> enable >> 8 & 0xFF;
            case 4 -> control & 0xFF;
            case 5 -> control >> 8 & 0xFF;
            case 8 -> (int) ticks & 0xFF;
            case 9 -> (int) (ticks >> 8) & 0xFF;
            case 10 -> (int) (ticks >> 16) & 0xFF;
            default -> 0; // byte 11 (the timer's top byte, 24-bit timer) and bytes beyond the block
        };
    }

    @Override
    public void write(long offset, int size, long value) {
        if (size <= 0 || offset < 0 || offset >= LENGTH) {
            return;
        }
        boolean off = false;
        synchronized (this) {
            int n = Math.min(size, 8);
            for (int i = 0; i < n; i++) {
                off |= writeByte((int) offset + i, (int) (value >>> (8 * i)) & 0xFF);
            }
            updateSci();
        }
        if (off) {
            powerOff.run();
        }
    }

    /** Returns whether this byte asked for power-off. */
    private boolean writeByte(int at, int b) {
        switch (at) {
            case 0 -> status &= ~b;
            case 1 -> status &= ~(b << 8);
            case 2 -> enable = (enable & 0xFF00 | b) & EN_BITS;
            case 3 -> enable = (enable & 0x00FF | b << 8) & EN_BITS;
            case 4 -> control = (control & 0xFF00 | b | SCI_EN) & CNT_BITS;
            case 5 -> {
                control = (control & 0x00FF | b << 8) & CNT_BITS;
                if ((b << 8 & SLP_EN) != 0) {
                    return sleep((control & SLP_TYP_MASK) >> SLP_TYP_SHIFT);
                }
            }
            default -> {
                // PM_TMR is read-only; bytes 6-7 are reserved
            }
        }
        return false;
    }

    private boolean sleep(int type) {
        if (type == s5SleepType) {
            return true;
        }
        status |= WAK_STS; // unsupported sleep state: wake at once
        return false;
    }

    /** The PM1 registers and the timer's running time, for a snapshot. */
    public synchronized AcpiPmState saveState() {
        refreshTimerStatus();
        return new AcpiPmState(status, enable, control, nanoTime.getAsLong() - startNanos);
    }

    /** Loads a saved state (the PM timer continues from its saved value) with the SCI low; then {@link #refreshInterrupt}. */
    public synchronized void restoreState(AcpiPmState s) {
        status = s.status();
        enable = s.enable();
        control = s.control();
        startNanos = nanoTime.getAsLong() - s.timerNanos();
        lastTimerHalf = ticksSinceStart() >> 23;
        sciLevel = false;
    }

    /** Drives the SCI from the current state (after a restore). */
    public synchronized void refreshInterrupt() {
        updateSci();
    }

    /** The 24-bit PM timer value now. */
    private long timerTicks() {
        return ticksSinceStart() & 0xFF_FFFF;
    }

    private long ticksSinceStart() {
        long nanos = nanoTime.getAsLong() - startNanos;
        // nanos * 3579545 / 1e9 without overflowing for centuries of uptime
        return nanos / 1_000_000_000L * PM_TIMER_HZ + nanos % 1_000_000_000L * PM_TIMER_HZ / 1_000_000_000L;
    }

    private void refreshTimerStatus() {
        long half = ticksSinceStart() >> 23; // the counter's bit 23 toggles once per 2^23 ticks
        if (half != lastTimerHalf) {
            lastTimerHalf = half;
            status |= TMR_STS;
            updateSci();
        }
    }

    private void updateSci() {
        boolean level = (status & enable & SCI_SOURCES) != 0;
        if (level != sciLevel) {
            sciLevel = level;
            sci.set(level);
        }
    }
}
