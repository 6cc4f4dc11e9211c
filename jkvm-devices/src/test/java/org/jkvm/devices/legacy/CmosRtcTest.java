package org.jkvm.devices.legacy;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import org.jkvm.devices.RecordingLine;
import org.junit.jupiter.api.Test;

class CmosRtcTest {

    static final Instant LEAP_DAY = Instant.parse("2024-02-29T13:45:07.250Z"); // a Thursday

    final MutableClock clock = new MutableClock(LEAP_DAY);
    final RecordingLine irq8 = new RecordingLine();
    final CmosRtc rtc = new CmosRtc(clock, irq8);

    int reg(int index) {
        rtc.write(0, 1, index);
        return (int) rtc.read(1, 1);
    }

    void set(int index, int value) {
        rtc.write(0, 1, index);
        rtc.write(1, 1, value);
    }

    int[] time() {
        return new int[] {reg(0), reg(2), reg(4), reg(6), reg(7), reg(8), reg(9), reg(0x32)};
    }

    @Test
    void writesThatCanMoveTheNextInterruptAskForAReschedule() {
        int[] calls = {0};
        CmosRtc r = new CmosRtc(clock, irq8, () -> calls[0]++);
        r.write(0, 1, 0x0B);
        assertThat(calls[0]).as("selecting a register").isZero();
        r.write(1, 1, 0x42); // PIE on
        assertThat(calls[0]).isEqualTo(1);
        r.write(0, 1, 0x01);
        r.write(1, 1, 0x30); // alarm seconds
        assertThat(calls[0]).isEqualTo(2);
        r.write(0, 1, 0x20);
        r.write(1, 1, 0x55); // plain CMOS RAM
        assertThat(calls[0]).isEqualTo(2);
    }

    @Test
    void bcdTwentyFourHourIsTheDefault() {
        assertThat(reg(0x0B)).isEqualTo(0x02);
        assertThat(time()).containsExactly(0x07, 0x45, 0x13, 5, 0x29, 0x02, 0x24, 0x20);
    }

    @Test
    void binaryMode() {
        set(0x0B, 0x06);
        assertThat(time()).containsExactly(7, 45, 13, 5, 29, 2, 24, 20);
    }

    @Test
    void twelveHourModeMarksPmInBit7() {
        set(0x0B, 0x00);
        assertThat(reg(4)).isEqualTo(0x81); // 1 PM
        CmosRtc midnight = new CmosRtc(Clock.fixed(Instant.parse("2001-01-01T00:30:00Z"), ZoneOffset.UTC), irq8);
        midnight.write(0, 1, 0x0B);
        midnight.write(1, 1, 0x00);
        midnight.write(0, 1, 4);
        assertThat(midnight.read(1, 1)).isEqualTo(0x12); // 12 AM
        CmosRtc noon = new CmosRtc(Clock.fixed(Instant.parse("2001-01-01T12:00:00Z"), ZoneOffset.UTC), irq8);
        noon.write(0, 1, 0x0B);
        noon.write(1, 1, 0x04); // binary, 12 h
        noon.write(0, 1, 4);
        assertThat(noon.read(1, 1)).isEqualTo(0x80 | 12); // 12 PM
    }

    @Test
    void timeFollowsTheClockAcrossMidnightAndCentury() {
        MutableClock c = new MutableClock(Instant.parse("2099-12-31T23:59:59.500Z"));
        CmosRtc r = new CmosRtc(c, irq8);
        c.advanceMillis(1000);
        r.write(0, 1, 0x32);
        assertThat(r.read(1, 1)).isEqualTo(0x21);
        r.write(0, 1, 9);
        assertThat(r.read(1, 1)).isEqualTo(0x00);
        r.write(0, 1, 8);
        assertThat(r.read(1, 1)).isEqualTo(0x01);
        r.write(0, 1, 7);
        assertThat(r.read(1, 1)).isEqualTo(0x01);
        r.write(0, 1, 6);
        assertThat(r.read(1, 1)).isEqualTo(6); // 2100-01-01 is a Friday (Sunday = 1)
    }

    @Test
    void settingTheTimeTheWayLinuxDoes() {
        // drivers/rtc/rtc-mc146818-lib.c mc146818_set_time: SET, divider reset, write, restore
        int b = reg(0x0B);
        set(0x0B, b | 0x80);
        int a = reg(0x0A);
        set(0x0A, a | 0x70);
        set(9, 0x31);
        set(8, 0x12);
        set(7, 0x25);
        set(4, 0x08);
        set(2, 0x00);
        set(0, 0x00);
        set(0x32, 0x20);
        clock.advanceMillis(10_000);
        assertThat(reg(0)).as("frozen while SET").isEqualTo(0x00);
        set(0x0A, a);
        set(0x0B, b);
        clock.advanceMillis(5_000);
        assertThat(time()).containsExactly(0x05, 0x00, 0x08, 5, 0x25, 0x12, 0x31, 0x20); // 2031-12-25 is a Thursday
        assertThat(reg(0x0B) & 0x80).isZero();
    }

    @Test
    void writingOneFieldWhileRunningKeepsTheOthers() {
        set(9, 0x30);
        clock.advanceMillis(2000);
        // 2030 has no 29 February: the day clamps to the 28th (a Thursday), never an exception
        assertThat(time()).containsExactly(0x09, 0x45, 0x13, 5, 0x28, 0x02, 0x30, 0x20);
    }

    @Test
    void updateInProgressJustBeforeEachSecond() {
        assertThat(reg(0x0A)).isEqualTo(0x26);
        clock.advanceMillis(749); // .999
        assertThat(reg(0x0A) & 0x80).isEqualTo(0x80);
        clock.advanceMillis(2);
        assertThat(reg(0x0A) & 0x80).isZero();
        assertThat(reg(0x0D)).isEqualTo(0x80);
    }

    @Test
    void updateEndedInterruptThroughServiceAndRegisterC() {
        reg(0x0C);
        set(0x0B, 0x02 | 0x10); // UIE
        assertThat(rtc.service()).isEqualTo(750_000_000L);
        assertThat(irq8.level()).isFalse();
        clock.advanceMillis(800);
        rtc.service();
        assertThat(irq8.level()).isTrue();
        assertThat(reg(0x0C) & 0xB0).as("IRQF and UF; PF is set too, enabled or not").isEqualTo(0x90);
        assertThat(irq8.level()).isFalse();
        assertThat(reg(0x0C)).as("read clears").isZero();
        // a polling guest sees UF without anyone calling service()
        set(0x0B, 0x02);
        clock.advanceMillis(1000);
        assertThat(reg(0x0C) & 0xB0).isEqualTo(0x10);
        assertThat(rtc.service()).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void settingSetClearsUie() {
        set(0x0B, 0x12);
        set(0x0B, 0x92);
        assertThat(reg(0x0B)).isEqualTo(0x82);
    }

    @Test
    void periodicInterrupt() {
        set(0x0A, 0x2F); // 2 Hz
        reg(0x0C);
        set(0x0B, 0x42); // PIE
        long next = rtc.service();
        assertThat(next).isPositive().isLessThanOrEqualTo(500_000_000L);
        clock.advanceMillis(next / 1_000_000 + 1);
        rtc.service();
        assertThat(irq8.level()).isTrue();
        assertThat(reg(0x0C) & 0xC0).isEqualTo(0xC0);
        set(0x0A, 0x20); // rate 0: periodic off
        clock.advanceMillis(2000);
        assertThat(reg(0x0C) & 0x40).isZero();
    }

    @Test
    void restartingTheDividerDoesNotInventAPeriodicTick() {
        set(0x0B, 0x82); // SET: time frozen, divider still matters for PF
        set(0x0A, 0x76); // divider in reset, rate kept
        clock.advanceMillis(10_000);
        reg(0x0C);
        set(0x0A, 0x26);
        assertThat(reg(0x0C) & 0x40).isZero();
        clock.advanceMillis(2);
        assertThat(reg(0x0C) & 0x40).isEqualTo(0x40);
    }

    @Test
    void alarmInterruptWithExactAndDontCareFields() {
        set(1, 0x10);
        set(3, 0x45);
        set(5, 0x13); // 13:45:10
        reg(0x0C);
        set(0x0B, 0x22); // AIE
        clock.advanceMillis(1000); // 13:45:08
        assertThat(reg(0x0C) & 0x20).isZero();
        clock.advanceMillis(2000); // 13:45:10
        rtc.service();
        assertThat(irq8.level()).isTrue();
        assertThat(reg(0x0C) & 0xB0).isEqualTo(0x80 | 0x20 | 0x10);
        set(5, 0xC0); // any hour
        set(1, 0x00);
        clock.advanceMillis(3_600_000); // 14:45:10: passed 14:45:00
        assertThat(reg(0x0C) & 0x20).isEqualTo(0x20);
        set(1, 0x5A); // invalid BCD never matches
        clock.advanceMillis(3 * 86_400_000L);
        assertThat(reg(0x0C) & 0x20).isZero();
    }

    @Test
    void dividerResetStopsTheClock() {
        set(0x0A, 0x70);
        clock.advanceMillis(60_000);
        assertThat(reg(2)).isEqualTo(0x45);
        set(0x0A, 0x26);
        clock.advanceMillis(1_000);
        assertThat(reg(0)).isEqualTo(0x08);
        assertThat(reg(2)).isEqualTo(0x45);
    }

    @Test
    void memorySizesAsQemuWritesThem() {
        rtc.setMemorySizes(3L << 30, 1L << 30);
        assertThat(reg(0x15) | reg(0x16) << 8).isEqualTo(640);
        assertThat(reg(0x17) | reg(0x18) << 8).isEqualTo(65535);
        assertThat(reg(0x30) | reg(0x31) << 8).isEqualTo(65535);
        assertThat(reg(0x34) | reg(0x35) << 8).isEqualTo(((3L << 30) - (16 << 20)) / 65536);
        assertThat(reg(0x5B) | reg(0x5C) << 8 | reg(0x5D) << 16).isEqualTo(16384);
        rtc.setMemorySizes(8L << 20, 0);
        assertThat(reg(0x17) | reg(0x18) << 8).isEqualTo(7 * 1024);
        assertThat(reg(0x34) | reg(0x35) << 8).isZero();
    }

    @Test
    void cmosRamAndIndexMasking() {
        set(0x40, 0xAB);
        assertThat(reg(0x40)).isEqualTo(0xAB);
        assertThat(reg(0xC0)).as("index masked to 7 bits").isEqualTo(0xAB);
        assertThat(rtc.nmiMasked()).isTrue();
        set(0x7F, 0x11);
        assertThat(reg(0x7F)).isEqualTo(0x11);
        assertThat(rtc.nmiMasked()).isFalse();
        set(0x0D, 0);
        assertThat(reg(0x0D)).isEqualTo(0x80);
        assertThat(rtc.read(0, 1)).as("index port is write-only").isEqualTo(0xFF);
    }

    @Test
    void hostileTimeValuesAreClampedNotThrown() {
        set(0x0B, 0x82);
        for (int r : new int[] {0, 2, 4, 6, 7, 8, 9, 0x32}) {
            set(r, 0xFF);
        }
        set(0x0B, 0x02);
        int[] t = time();
        assertThat(t[1]).isEqualTo(0x59);
        assertThat(t[2]).isEqualTo(0x23);
        assertThat(t[5]).isEqualTo(0x12);
        assertThat(t[4]).isEqualTo(0x31);
        assertThat(t[7]).isEqualTo(0x99);
        for (long offset : new long[] {-1, 2, 7, 1L << 40}) {
            for (int size : new int[] {0, -1, 2, 4, 8}) {
                rtc.read(offset, size);
                rtc.write(offset, size, -1L);
            }
        }
    }
}
