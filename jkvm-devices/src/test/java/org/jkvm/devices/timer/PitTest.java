package org.jkvm.devices.timer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.jkvm.devices.BusDevice;
import org.jkvm.devices.RecordingLine;
import org.junit.jupiter.api.Test;

class PitTest {

    static final long START = 5_000_000_000L;
    final AtomicLong clock = new AtomicLong(START);
    final RecordingLine irq0 = new RecordingLine();
    final AtomicInteger reschedules = new AtomicInteger();
    final Pit pit = new Pit(irq0, clock::get, reschedules::incrementAndGet);
    final BusDevice portB = pit.portB();

    /** Nanoseconds for {@code ticks} PIT clocks, rounded up (the instant the tick count is reached). */
    static long nanos(long ticks) {
        return (ticks * 1_000_000_000L + Pit.FREQUENCY_HZ - 1) / Pit.FREQUENCY_HZ;
    }

    void at(long ticks) {
        clock.set(START + nanos(ticks));
    }

    void program(int channel, int controlWord, int count) {
        pit.write(3, 1, controlWord);
        pit.write(channel, 1, count & 0xFF);
        pit.write(channel, 1, count >> 8 & 0xFF);
    }

    int readCount(int channel) {
        int lo = (int) pit.read(channel, 1);
        return lo | (int) pit.read(channel, 1) << 8;
    }

    @Test
    void mode2IsPeriodicAsLinuxsPeriodicTick() {
        program(0, 0x34, 1193); // Linux init_pit_timer periodic: channel 0, LSB/MSB, mode 2, LATCH for HZ=1000
        assertThat(reschedules.get()).isEqualTo(1);
        assertThat(pit.nextEventNanos()).isEqualTo(START + nanos(1193));
        pit.service(START + nanos(1193) - 1);
        assertThat(irq0.rises()).isZero();
        pit.service(START + nanos(1193));
        assertThat(irq0.rises()).isEqualTo(1);
        assertThat(irq0.level()).as("a pulse").isFalse();
        assertThat(pit.nextEventNanos()).isEqualTo(START + nanos(2 * 1193));
        pit.service(START + nanos(10 * 1193) + 5);
        assertThat(irq0.rises()).as("late ticks are coalesced").isEqualTo(2);
        assertThat(pit.nextEventNanos()).isEqualTo(START + nanos(11 * 1193));
        at(1193 * 11 + 100);
        assertThat(readCount(0)).isEqualTo(1193 - 100);
    }

    @Test
    void mode2OutGoesLowOnTheLastTick() {
        program(0, 0x34, 10);
        at(8);
        pit.write(3, 1, 0xE2); // read-back status of channel 0
        assertThat(pit.read(0, 1) & 0x80).isEqualTo(0x80);
        at(9);
        pit.write(3, 1, 0xE2);
        assertThat(pit.read(0, 1)).as("OUT low, LSB/MSB, mode 2").isEqualTo(0x34);
    }

    @Test
    void mode3SquareWave() {
        program(0, 0x36, 1000);
        at(100);
        assertThat(readCount(0)).as("counts down by two").isEqualTo(800);
        pit.write(3, 1, 0xE2);
        assertThat(pit.read(0, 1) & 0x80).as("high for the first half").isEqualTo(0x80);
        at(600);
        pit.write(3, 1, 0xE2);
        assertThat(pit.read(0, 1) & 0x80).as("low for the second half").isZero();
        pit.service(START + nanos(3000));
        assertThat(irq0.rises()).isEqualTo(1);
        assertThat(pit.nextEventNanos()).isEqualTo(START + nanos(4000));
    }

    @Test
    void periodicInterruptsAreRateLimited() {
        program(0, 0x34, 2);
        long next = pit.nextEventNanos() - START;
        assertThat(next).isGreaterThanOrEqualTo(Pit.MIN_PERIOD_NANOS);
        at(2);
        assertThat(readCount(0)).as("the counter itself still runs at the programmed rate").isEqualTo(2);
    }

    @Test
    void mode0OneShot() {
        program(0, 0x30, 500);
        pit.write(3, 1, 0xE2);
        assertThat(pit.read(0, 1) & 0x80).as("OUT low while counting").isZero();
        pit.service(START + nanos(500));
        assertThat(irq0.rises()).isEqualTo(1);
        assertThat(pit.nextEventNanos()).isEqualTo(TimerDevice.NO_EVENT);
        at(510);
        assertThat(readCount(0)).as("the counter wraps and goes on").isEqualTo(65536 - 10);
        pit.service(START + nanos(100_000));
        assertThat(irq0.rises()).isEqualTo(1);
    }

    @Test
    void mode4OneShotAsLinuxsClockevent() {
        pit.write(3, 1, 0x38); // Linux pit_set_oneshot
        pit.write(0, 1, 0xE8);
        pit.write(0, 1, 0x03); // 1000 ticks
        assertThat(pit.nextEventNanos()).isEqualTo(START + nanos(1000));
        at(2000);
        pit.read(0, 1); // a guest access fires a due event even without the timer thread
        assertThat(irq0.rises()).isEqualTo(1);
        pit.write(3, 1, 0x30); // Linux pit_shutdown: mode 0, count 0
        pit.write(0, 1, 0);
        pit.write(0, 1, 0);
        assertThat(pit.nextEventNanos()).isEqualTo(START + nanos(2000 + 65536));
    }

    @Test
    void counterLatchHoldsTheCount() {
        program(0, 0x34, 1000);
        at(100);
        pit.write(3, 1, 0x00); // latch channel 0
        at(300);
        pit.write(3, 1, 0x00); // ignored: a latched count is unread
        assertThat(readCount(0)).isEqualTo(900);
        assertThat(readCount(0)).as("released after both bytes").isEqualTo(700);
    }

    @Test
    void readBackLatchesStatusThenCount() {
        program(1, 0x74, 0x1234); // channel 1, LSB/MSB, mode 2
        at(4);
        pit.write(3, 1, 0xC4); // read-back count and status of channel 1
        at(50);
        assertThat(pit.read(1, 1)).as("OUT high, LSB/MSB, mode 2, binary").isEqualTo(0xB4);
        assertThat(readCount(1)).isEqualTo(0x1230);
        pit.write(3, 1, 0xE8); // status only, channel 2: never programmed
        assertThat(pit.read(2, 1) & 0x40).as("null count").isEqualTo(0x40);
    }

    @Test
    void lsbOnlyAndMsbOnlyAccess() {
        pit.write(3, 1, 0x14); // channel 0, LSB only, mode 2
        pit.write(0, 1, 200);
        at(50);
        assertThat(pit.read(0, 1)).isEqualTo(150);
        assertThat(pit.read(0, 1)).isEqualTo(150);
        pit.write(3, 1, 0x24); // MSB only
        pit.write(0, 1, 0x02); // 0x200
        at(50 + 0x100);
        assertThat(pit.read(0, 1)).isEqualTo(0x01);
    }

    @Test
    void bcdCounting() {
        program(0, 0x31, 0x1000); // mode 0, BCD, 1000
        at(1);
        assertThat(readCount(0)).isEqualTo(0x0999);
        at(1001);
        assertThat(readCount(0)).as("wraps to 9999").isEqualTo(0x9999);
    }

    /** Linux's pit_calibrate_tsc: channel 2 in mode 0 gated by port 0x61, OUT2 polled in bit 5. */
    @Test
    void linuxPitCalibrateTsc() {
        int latch = (int) (Pit.FREQUENCY_HZ / (1000 / 50)); // CAL2_LATCH
        portB.write(0, 1, portB.read(0, 1) & ~0x02 | 0x01);
        program(2, 0xB0, latch);
        at(latch - 1);
        assertThat(portB.read(0, 1) & 0x20).isZero();
        at(latch);
        assertThat(portB.read(0, 1) & 0x21).isEqualTo(0x21);
        assertThat(irq0.rises()).as("channel 2 raises no interrupt").isZero();
    }

    /** Linux's quick_pit_calibrate: count 0xFFFF and watch the MSB fall, reading LSB then MSB. */
    @Test
    void linuxQuickPitCalibrate() {
        portB.write(0, 1, portB.read(0, 1) & ~0x02 | 0x01);
        pit.write(3, 1, 0xB0);
        pit.write(2, 1, 0xFF);
        pit.write(2, 1, 0xFF);
        pit.read(2, 1);
        assertThat(pit.read(2, 1)).as("pit_verify_msb(0xff)").isEqualTo(0xFF);
        for (int i = 1; i < 20; i++) {
            at(256L * i);
            pit.read(2, 1);
            assertThat(pit.read(2, 1)).isEqualTo(0xFF - i);
        }
    }

    @Test
    void gateLowSuspendsMode0AndRestartsMode2() {
        program(2, 0xB0, 1000);
        at(100);
        assertThat(readCount(2)).as("gate low from reset: not counting").isEqualTo(1000);
        portB.write(0, 1, 0x01);
        at(300);
        portB.write(0, 1, 0x00);
        at(900);
        assertThat(readCount(2)).isEqualTo(800);
        program(2, 0xB4, 1000); // mode 2
        portB.write(0, 1, 0x01);
        at(1000);
        assertThat(readCount(2)).isEqualTo(900);
        portB.write(0, 1, 0x00);
        portB.write(0, 1, 0x01); // rising edge reloads
        at(1010);
        assertThat(readCount(2)).isEqualTo(990);
    }

    @Test
    void mode1WaitsForGateEdge() {
        program(2, 0xB2, 100);
        at(50);
        assertThat(portB.read(0, 1) & 0x20).as("OUT high until triggered").isEqualTo(0x20);
        portB.write(0, 1, 0x01);
        at(60);
        assertThat(portB.read(0, 1) & 0x20).as("OUT low during the one-shot").isZero();
        at(150);
        assertThat(portB.read(0, 1) & 0x20).isEqualTo(0x20);
    }

    @Test
    void portBKeepsLowBitsAndTogglesRefresh() {
        portB.write(0, 1, 0xFF);
        assertThat(portB.read(0, 1) & 0xCF).isEqualTo(0x0F);
        long first = portB.read(0, 1) & 0x10;
        clock.addAndGet(15_085);
        assertThat(portB.read(0, 1) & 0x10).isNotEqualTo(first);
    }

    @Test
    void hostileAccessesNeverThrow() {
        long[] offsets = {-1, 0, 1, 2, 3, 4, 1L << 40, Long.MIN_VALUE, Long.MAX_VALUE};
        int[] sizes = {-1, 0, 1, 2, 3, 4, 8, 1000};
        for (int cw : new int[] {0x00, 0x34, 0x3F, 0xC0, 0xFF, 0xB6}) {
            pit.write(3, 1, cw);
            for (long o : offsets) {
                for (int s : sizes) {
                    assertThatCode(() -> {
                        pit.read(o, s);
                        pit.write(o, s, -1L);
                        portB.read(o, s);
                        portB.write(o, s, -1L);
                        pit.service(clock.get());
                        pit.nextEventNanos();
                    }).doesNotThrowAnyException();
                }
            }
        }
    }
}
