package org.jkvm.devices.acpi;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.jkvm.devices.RecordingLine;
import org.junit.jupiter.api.Test;

class AcpiPmTest {

    static final int STS = 0, EN = 2, CNT = 4, TMR = 8;

    final RecordingLine sci = new RecordingLine();
    final AtomicInteger powerOffs = new AtomicInteger();
    final AtomicLong nanos = new AtomicLong(1_000_000L);
    final AcpiPm pm = new AcpiPm(sci, powerOffs::incrementAndGet, 5, nanos::get);

    @Test
    void sciEnabledFromReset() {
        assertThat(pm.read(CNT, 2) & AcpiPm.SCI_EN).isEqualTo(1);
        pm.write(CNT, 2, 0);
        assertThat(pm.read(CNT, 2) & AcpiPm.SCI_EN).as("ACPI mode cannot be left").isEqualTo(1);
    }

    @Test
    void s5PowersOff() {
        pm.write(CNT, 2, 5 << 10); // SLP_TYP alone does nothing
        assertThat(powerOffs.get()).isZero();
        pm.write(CNT, 2, 5 << 10 | AcpiPm.SLP_EN | AcpiPm.SCI_EN);
        assertThat(powerOffs.get()).isEqualTo(1);
        assertThat(pm.read(CNT, 2) & AcpiPm.SLP_EN).as("SLP_EN reads 0").isZero();
        pm.write(CNT + 1, 1, (5 << 10 | AcpiPm.SLP_EN) >> 8); // byte access to the high half
        assertThat(powerOffs.get()).isEqualTo(2);
    }

    @Test
    void otherSleepStatesWakeAtOnce() {
        pm.write(CNT, 2, 3 << 10 | AcpiPm.SLP_EN);
        assertThat(powerOffs.get()).isZero();
        assertThat(pm.read(STS, 2) & AcpiPm.WAK_STS).isEqualTo(AcpiPm.WAK_STS);
        pm.write(STS, 2, AcpiPm.WAK_STS);
        assertThat(pm.read(STS, 2) & AcpiPm.WAK_STS).isZero();
    }

    @Test
    void powerButtonRaisesSciOnlyWhenEnabled() {
        pm.pressPowerButton();
        assertThat(pm.read(STS, 2) & AcpiPm.PWRBTN_STS).isEqualTo(AcpiPm.PWRBTN_STS);
        assertThat(sci.level()).isFalse();
        pm.write(EN, 2, AcpiPm.PWRBTN_STS);
        assertThat(sci.level()).as("SCI follows STS & EN").isTrue();
        pm.write(STS, 2, 0); // writing 0 clears nothing
        assertThat(sci.level()).isTrue();
        pm.write(STS, 2, AcpiPm.PWRBTN_STS); // write one to clear
        assertThat(sci.level()).isFalse();
        assertThat(pm.read(STS, 2) & AcpiPm.PWRBTN_STS).isZero();
        pm.pressPowerButton();
        assertThat(sci.level()).isTrue();
        pm.write(EN, 2, 0);
        assertThat(sci.level()).isFalse();
    }

    @Test
    void timerCountsAt3579545HzIn24Bits() {
        long t0 = pm.read(TMR, 4);
        nanos.addAndGet(1_000_000_000L);
        long t1 = pm.read(TMR, 4);
        assertThat(t1 - t0).isEqualTo(3_579_545L);
        nanos.addAndGet(10L * 1_000_000_000L); // past the 24-bit wrap
        long t2 = pm.read(TMR, 4);
        assertThat(t2).isLessThan(1 << 24);
        assertThat((t2 - t1) & 0xFF_FFFF).isEqualTo((10 * 3_579_545L) & 0xFF_FFFF);
        // a century of uptime does not overflow the conversion
        nanos.addAndGet(100L * 365 * 86_400 * 1_000_000_000L);
        assertThat(pm.read(TMR, 4)).isBetween(0L, 0xFF_FFFFL);
        assertThat(pm.read(TMR + 1, 2)).isEqualTo(pm.read(TMR, 4) >> 8 & 0xFFFF);
    }

    @Test
    void timerOverflowSetsTmrStsAndSciWhenEnabled() {
        pm.write(EN, 2, AcpiPm.TMR_STS);
        nanos.addAndGet(3_000_000_000L); // 2^23 ticks is about 2.34 s
        assertThat(pm.read(STS, 2) & AcpiPm.TMR_STS).isEqualTo(1);
        assertThat(sci.level()).isTrue();
        pm.write(STS, 1, 1);
        assertThat(sci.level()).isFalse();
    }

    @Test
    void realTimerIsMonotonicAtAbout3_58MHz() throws Exception {
        AcpiPm real = new AcpiPm(sci, () -> { }, 5);
        long t0 = real.read(TMR, 4);
        long n0 = System.nanoTime();
        Thread.sleep(50);
        long t1 = real.read(TMR, 4);
        long n1 = System.nanoTime();
        long ticks = (t1 - t0) & 0xFF_FFFF;
        double hz = ticks * 1e9 / (n1 - n0);
        assertThat(ticks).isPositive();
        assertThat(hz).isBetween(3.3e6, 3.7e6);
    }

    @Test
    void hostileAccesses() {
        assertThat(pm.read(12, 4)).isZero();
        assertThat(pm.read(-1, 4)).isZero();
        assertThat(pm.read(0, 0)).isZero();
        pm.write(0, 8, -1L); // clears status, sets every enable bit, writes SLP_TYP 7 with SLP_EN
        assertThat(powerOffs.get()).isZero();
        pm.write(10, 8, -1L);
        pm.write(Long.MAX_VALUE, 1, 0);
        assertThat(pm.read(STS, 4) >>> 16).as("a 4-byte read covers PM1_EN too").isEqualTo(0x4721);
        pm.write(0, Integer.MAX_VALUE, 0);
        assertThat(pm.read(EN, 2)).isZero();
    }
}
