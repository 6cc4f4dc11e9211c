package org.jkvm.devices.timer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.jkvm.devices.InterruptLine;
import org.jkvm.devices.RecordingLine;
import org.jkvm.devices.irq.GsiSink;
import org.junit.jupiter.api.Test;

class HpetTest {

    static final long START = 7_000_000_000L;
    static final int CFG = 0x10, STS = 0x20, CNT = 0xF0;
    static final long ENABLE = 1, LEGACY = 2;
    static final long TN_LEVEL = 1 << 1, TN_ENABLE = 1 << 2, TN_PERIODIC = 1 << 3, TN_SETVAL = 1 << 6,
            TN_32BIT = 1 << 8;

    record Edge(int gsi, boolean level) {
    }

    final AtomicLong clock = new AtomicLong(START);
    final List<Edge> edges = new ArrayList<>();
    final GsiSink sink = (gsi, level) -> edges.add(new Edge(gsi, level));
    final Hpet hpet = new Hpet(sink, clock::get, () -> { });

    static int tcfg(int n) {
        return 0x100 + 0x20 * n;
    }

    static int tcmp(int n) {
        return 0x108 + 0x20 * n;
    }

    long rd(int offset) {
        return hpet.read(offset, 4) & 0xFFFF_FFFFL;
    }

    void wr(int offset, long value) {
        hpet.write(offset, 4, value);
    }

    void advanceNanos(long nanos) {
        clock.addAndGet(nanos);
    }

    long rises(int gsi) {
        return edges.stream().filter(e -> e.gsi() == gsi && e.level()).count();
    }

    @Test
    void capabilities() {
        assertThat(rd(0x000)).as("vendor 8086, legacy capable, 64-bit, 3 timers, rev 1").isEqualTo(0x8086_A201L);
        assertThat(rd(0x004)).as("HPET_PERIOD in fs").isEqualTo(10_000_000L);
        assertThat(hpet.read(0, 8)).isEqualTo(Hpet.CAPABILITIES_VALUE);
        long t0 = hpet.read(tcfg(0), 8);
        assertThat(t0 & 0x30).as("periodic and 64-bit capable").isEqualTo(0x30);
        assertThat(t0 >>> 32).isEqualTo(Hpet.ROUTE_CAPABILITY);
        assertThat(hpet.read(tcmp(0), 8)).as("comparators reset to all ones").isEqualTo(-1L);
        assertThat(rd(0x110)).as("no FSB route").isZero();
    }

    @Test
    void mainCounterRunsAt100MhzOnlyWhenEnabled() {
        advanceNanos(1_000_000);
        assertThat(hpet.read(CNT, 8)).isZero();
        wr(CFG, ENABLE);
        advanceNanos(1_000_000);
        assertThat(hpet.read(CNT, 8)).isEqualTo(100_000);
        assertThat(rd(CNT)).isEqualTo(100_000);
        wr(CFG, 0);
        advanceNanos(5_000_000);
        assertThat(hpet.read(CNT, 8)).as("halted").isEqualTo(100_000);
        wr(CNT, 0); // Linux's hpet_restart_counter: halt, zero both halves, start
        wr(CNT + 4, 0);
        wr(CFG, ENABLE);
        advanceNanos(10);
        assertThat(hpet.read(CNT, 8)).isEqualTo(1);
        wr(CNT, 12345);
        assertThat(hpet.read(CNT, 8)).as("writes while running are ignored").isEqualTo(1);
    }

    /** Linux's hpet_clkevt_set_state_periodic on timer 0 in legacy replacement mode (HZ = 1000). */
    @Test
    void linuxLegacyPeriodicTimer() {
        wr(CFG, ENABLE | LEGACY);
        wr(CFG, LEGACY); // hpet_stop_counter
        long delta = 100_000; // 1 ms
        long now = rd(CNT);
        wr(tcfg(0), rd(tcfg(0)) | TN_ENABLE | TN_PERIODIC | TN_SETVAL | TN_32BIT);
        wr(tcmp(0), now + delta);
        wr(tcmp(0), delta); // the AMD 81xx second write: period only
        wr(CFG, ENABLE | LEGACY); // hpet_start_counter
        assertThat(rd(tcfg(0)) & TN_SETVAL).as("VAL_SET clears itself").isZero();
        assertThat(hpet.nextEventNanos()).isEqualTo(START + 1_000_000);
        hpet.service(START + 1_000_000);
        assertThat(edges).containsExactly(new Edge(2, true), new Edge(2, false));
        assertThat(rd(tcmp(0))).as("comparator advanced by the period").isEqualTo(2 * delta);
        hpet.service(START + 5_500_000);
        assertThat(rises(2)).as("late periods coalesce").isEqualTo(2);
        assertThat(hpet.nextEventNanos()).isEqualTo(START + 6_000_000);
    }

    /** Linux's hpet_clkevt_set_next_event in one-shot 32-bit mode. */
    @Test
    void oneShotFiresOnceUntilThe32BitWrap() {
        wr(CFG, ENABLE | LEGACY);
        wr(tcfg(0), TN_ENABLE | TN_32BIT);
        advanceNanos(1_000);
        long cnt = rd(CNT) + 5_000;
        wr(tcmp(0), cnt);
        assertThat((int) (cnt - rd(CNT))).as("Linux's -ETIME check passes").isGreaterThan(0);
        assertThat(hpet.nextEventNanos()).isEqualTo(START + (cnt * 10));
        hpet.service(START + cnt * 10 - 1);
        assertThat(edges).isEmpty();
        clock.set(START + cnt * 10 + 20_000);
        hpet.read(STS, 4); // any access catches up
        assertThat(rises(2)).isEqualTo(1);
        assertThat(hpet.nextEventNanos()).as("the next match is one 32-bit wrap later")
                .isEqualTo(START + (cnt + (1L << 32)) * 10);
    }

    @Test
    void oneShot64BitDoesNotRepeat() {
        wr(CFG, ENABLE);
        wr(tcfg(2), TN_ENABLE | 20L << 9);
        hpet.write(tcmp(2), 8, 300);
        hpet.service(START + 3_000);
        assertThat(edges).containsExactly(new Edge(20, true), new Edge(20, false));
        assertThat(hpet.nextEventNanos()).isEqualTo(TimerDevice.NO_EVENT);
        hpet.service(START + 100_000_000_000L);
        assertThat(edges).hasSize(2);
    }

    @Test
    void periodic64BitWithByteAccesses() {
        wr(CFG, ENABLE);
        hpet.write(tcfg(1), 8, TN_ENABLE | TN_PERIODIC | TN_SETVAL | 21L << 9);
        hpet.write(tcmp(1), 8, 1000);
        for (int i = 1; i <= 5; i++) {
            hpet.service(START + i * 10_000L);
        }
        assertThat(rises(21)).isEqualTo(5);
        assertThat(hpet.read(tcmp(1) + 4, 4)).isZero();
        assertThat(hpet.read(tcmp(1), 2)).isEqualTo(6000);
    }

    @Test
    void levelTriggeredStatusAndClear() {
        wr(CFG, ENABLE);
        wr(tcfg(2), TN_LEVEL | TN_ENABLE | 22L << 9);
        hpet.write(tcmp(2), 8, 100);
        hpet.service(START + 1_000);
        assertThat(edges).containsExactly(new Edge(22, true));
        assertThat(rd(STS)).isEqualTo(4);
        wr(STS, 1); // another timer's bit: nothing
        assertThat(rd(STS)).isEqualTo(4);
        wr(STS, 4);
        assertThat(rd(STS)).isZero();
        assertThat(edges).containsExactly(new Edge(22, true), new Edge(22, false));
    }

    @Test
    void levelStatusIsSetWithTheInterruptDisabled() {
        wr(CFG, ENABLE);
        wr(tcfg(2), TN_LEVEL | 22L << 9);
        hpet.write(tcmp(2), 8, 100);
        assertThat(hpet.nextEventNanos()).as("nothing to schedule").isEqualTo(TimerDevice.NO_EVENT);
        advanceNanos(2_000);
        assertThat(rd(STS)).isEqualTo(4);
        assertThat(edges).isEmpty();
        wr(tcfg(2), TN_LEVEL | TN_ENABLE | 22L << 9);
        assertThat(edges).containsExactly(new Edge(22, true));
    }

    @Test
    void unsupportedRouteDoesNotStick() {
        wr(tcfg(2), 5L << 9);
        assertThat(rd(tcfg(2)) >> 9 & 0x1F).isZero();
        wr(tcfg(2), 23L << 9);
        assertThat(rd(tcfg(2)) >> 9 & 0x1F).isEqualTo(23);
    }

    @Test
    void legacyReplacementRoutesTimer1ToIrq8AndGatesThePit() {
        RecordingLine pitIrq0 = new RecordingLine();
        InterruptLine gated = hpet.unlessLegacyReplacement(pitIrq0);
        gated.pulse();
        assertThat(pitIrq0.rises()).isEqualTo(1);
        gated.set(true);
        wr(CFG, ENABLE | LEGACY);
        assertThat(hpet.legacyReplacement()).isTrue();
        gated.set(false);
        assertThat(pitIrq0.level()).as("a raised line can still be lowered").isFalse();
        gated.pulse();
        assertThat(pitIrq0.rises()).as("disconnected").isEqualTo(2);

        wr(tcfg(1), TN_ENABLE | 20L << 9);
        hpet.write(tcmp(1), 8, 10);
        hpet.service(START + 100);
        assertThat(rises(8)).isEqualTo(1);
        assertThat(rises(20)).isZero();
    }

    @Test
    void disablingTheHpetLowersLevelOutputs() {
        wr(CFG, ENABLE);
        wr(tcfg(0), TN_LEVEL | TN_ENABLE | 16L << 9);
        hpet.write(tcmp(0), 8, 1);
        hpet.service(START + 10);
        wr(CFG, 0);
        assertThat(edges).containsExactly(new Edge(16, true), new Edge(16, false));
        assertThat(hpet.nextEventNanos()).isEqualTo(TimerDevice.NO_EVENT);
    }

    @Test
    void aTimerThreadAheadOfTheVcpuClockFiresNothingTwice() {
        wr(CFG, ENABLE);
        hpet.write(tcfg(1), 8, TN_ENABLE | TN_PERIODIC | TN_SETVAL | 21L << 9);
        hpet.write(tcmp(1), 8, 1000);
        hpet.service(START + 25_000); // the timer thread's clock reading is ahead of the vCPU's
        long counter = hpet.read(CNT, 8); // the vCPU's access at START
        assertThat(rises(21)).isEqualTo(1);
        assertThat(counter).as("the counter never reads backwards").isEqualTo(2500);
        clock.set(START + 26_000);
        hpet.read(STS, 4);
        assertThat(rises(21)).isEqualTo(1);
        clock.set(START + 30_000);
        hpet.read(STS, 4);
        assertThat(rises(21)).isEqualTo(2);
    }

    @Test
    void hostileAccessesNeverThrow() {
        long[] offsets = {-1, 0, 4, 7, 0xF4, 0xFC, 0x104, 0x10C, 0x3FF, 0x3FC, 0x400, 1L << 40, Long.MIN_VALUE};
        int[] sizes = {-1, 0, 1, 2, 3, 4, 5, 8, 1000};
        for (long o : offsets) {
            for (int s : sizes) {
                assertThatCode(() -> {
                    hpet.read(o, s);
                    hpet.write(o, s, -1L);
                    hpet.nextEventNanos();
                    hpet.service(clock.addAndGet(12345));
                }).doesNotThrowAnyException();
            }
        }
    }
}
