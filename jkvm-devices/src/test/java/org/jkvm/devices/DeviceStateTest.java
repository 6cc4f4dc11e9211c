package org.jkvm.devices;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import org.jkvm.devices.acpi.AcpiPm;
import org.jkvm.devices.irq.IoApic;
import org.jkvm.devices.irq.Pic8259;
import org.jkvm.devices.legacy.CmosRtc;
import org.jkvm.devices.legacy.I8042;
import org.jkvm.devices.legacy.Serial16550;
import org.jkvm.devices.timer.Hpet;
import org.jkvm.devices.timer.Pit;
import org.jkvm.hypervisor.state.PicState;
import org.jkvm.hypervisor.state.PitChannelState;
import org.jkvm.hypervisor.state.PitState;
import org.junit.jupiter.api.Test;

/**
 * Snapshot state of the legacy devices: each device saved, loaded into a fresh one (a new process, another clock
 * origin) and saved again gives the same state, and the loaded device behaves as the saved one did: the PIC
 * delivers the same vectors, the PIT and HPET counters and the PM timer go on from their saved values, the UART
 * keeps unread input. Out-of-range state is refused by the records.
 */
class DeviceStateTest {
    @Test
    void picPairRoundTripsAndDeliversTheSameVectors() {
        RecordingLine intr = new RecordingLine();
        Pic8259 a = new Pic8259(intr);
        program(a);
        a.setIrq(3, true);
        a.setIrq(9, true);
        PicState[] saved = a.saveState();
        Pic8259 b = new Pic8259(new RecordingLine());
        b.restoreState(saved[0], saved[1]);
        assertThat(b.saveState()).containsExactly(saved);
        assertThat(b.acknowledge()).isEqualTo(a.acknowledge());
        assertThat(b.acknowledge()).isEqualTo(a.acknowledge());
    }

    private static void program(Pic8259 p) {
        p.master().write(0, 1, 0x11);
        p.master().write(1, 1, 0x20);
        p.master().write(1, 1, 0x04);
        p.master().write(1, 1, 0x01);
        p.slave().write(0, 1, 0x11);
        p.slave().write(1, 1, 0x28);
        p.slave().write(1, 1, 0x02);
        p.slave().write(1, 1, 0x01);
        p.master().write(1, 1, 0x00);
        p.slave().write(1, 1, 0x00);
    }

    @Test
    void ioApicRoundTrips() {
        List<Integer> sent = new ArrayList<>();
        IoApic a = new IoApic((d, l, v, m, lv, t) -> sent.add(v));
        a.write(0, 4, 0x10 + 2 * 5);
        a.write(0x10, 4, 0x8035); // level, vector 0x35
        a.setIrq(5, true);
        assertThat(sent).containsExactly(0x35);
        var s = a.saveState();
        List<Integer> sentB = new ArrayList<>();
        IoApic b = new IoApic((d, l, v, m, lv, t) -> sentB.add(v));
        b.restoreState(s);
        assertThat(b.saveState()).usingRecursiveComparison().isEqualTo(s);
        assertThat(sentB).as("nothing is resent on restore").isEmpty();
        b.endOfInterrupt(0x35); // remote IRR was restored: the still-asserted level input is sent again
        assertThat(sentB).containsExactly(0x35);
    }

    @Test
    void pitCountsOnFromItsSavedValue() {
        AtomicLong clockA = new AtomicLong(1_000_000_000L);
        RecordingLine irq0 = new RecordingLine();
        Pit a = new Pit(irq0, clockA::get, () -> { });
        a.write(3, 1, 0x34); // channel 0, word, mode 2
        a.write(0, 1, 0x9c);
        a.write(0, 1, 0x2e); // 11932
        clockA.addAndGet(3_000_000); // 3 ms: 3579 ticks into the period
        PitState s = a.saveState();
        assertThat(s.channels().get(0).count()).isEqualTo(11932);
        assertThat(s.channels().get(0).mode()).isEqualTo(2);
        AtomicLong clockB = new AtomicLong(77_000_000_000L); // another process: another clock origin
        Pit b = new Pit(new RecordingLine(), clockB::get, () -> { });
        b.restoreState(s);
        a.write(3, 1, 0x00); // latch channel 0
        b.write(3, 1, 0x00);
        int countA = (int) a.read(0, 1) | (int) a.read(0, 1) << 8;
        int countB = (int) b.read(0, 1) | (int) b.read(0, 1) << 8;
        assertThat(Math.abs(countA - countB)).isLessThanOrEqualTo(2);
        // the next IRQ 0 falls at the same point of the period, to within the tick rounding (838 ns a tick)
        assertThat(b.nextEventNanos() - clockB.get()).isCloseTo(a.nextEventNanos() - clockA.get(),
                org.assertj.core.data.Offset.offset(2000L));
    }

    @Test
    void neverProgrammedPitChannelsStayUnprogrammed() {
        Pit a = new Pit(new RecordingLine(), () -> 5, () -> { });
        PitState s = a.saveState();
        assertThat(s.channels().get(0).mode()).isEqualTo(PitChannelState.NEVER_PROGRAMMED);
        Pit b = new Pit(new RecordingLine(), () -> 9, () -> { });
        b.restoreState(s);
        assertThat(b.nextEventNanos()).isEqualTo(a.nextEventNanos());
        assertThatThrownBy(() -> new PitChannelState(70000, 0, 0, false, 0, 0, 0, 0, 3, 2, false, true, 0))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void hpetCounterGoesOnFromItsSavedValue() {
        AtomicLong clockA = new AtomicLong(500);
        Hpet a = new Hpet((gsi, level) -> { }, clockA::get, () -> { });
        a.write(0x10, 8, 1); // enable
        clockA.addAndGet(1_000_000); // 1 ms = 100000 ticks of 10 ns
        var s = a.saveState();
        assertThat(s.counter()).isEqualTo(100_000);
        AtomicLong clockB = new AtomicLong(123_456_789);
        Hpet b = new Hpet((gsi, level) -> { }, clockB::get, () -> { });
        b.restoreState(s);
        assertThat(b.read(0xf0, 8)).isEqualTo(100_000);
        clockB.addAndGet(10_000);
        assertThat(b.read(0xf0, 8)).isEqualTo(101_000);
    }

    @Test
    void serialKeepsUnreadInputAndRegisters() {
        Serial16550 a = new Serial16550(new RecordingLine(), new ByteArrayOutputStream()::write);
        a.write(2, 1, 0x07); // FIFO on
        a.write(3, 1, 0x03);
        a.write(7, 1, 0x5a);
        a.enqueueInput((byte) 'h');
        a.enqueueInput((byte) 'i');
        a.read(0, 1);
        var s = a.saveState();
        Serial16550 b = new Serial16550(new RecordingLine(), new ByteArrayOutputStream()::write);
        b.restoreState(s);
        assertThat(b.read(0, 1)).isEqualTo('i');
        assertThat(b.read(7, 1)).isEqualTo(0x5a);
        assertThat(b.read(3, 1)).isEqualTo(0x03);
    }

    @Test
    void rtcPmTimerAndI8042RoundTrip() {
        Clock fixed = Clock.fixed(Instant.parse("2026-01-02T03:04:05Z"), ZoneOffset.UTC);
        CmosRtc a = new CmosRtc(fixed, new RecordingLine());
        a.write(0, 1, 0x34);
        a.write(1, 1, 0x77);
        CmosRtc b = new CmosRtc(fixed, new RecordingLine());
        b.restoreState(a.saveState());
        b.write(0, 1, 0x34);
        assertThat(b.read(1, 1)).isEqualTo(0x77);
        assertThat(b.saveState().offsetMillis()).isEqualTo(a.saveState().offsetMillis());
        assertThat(b.saveState().cmos()[0x34]).isEqualTo((byte) 0x77);

        AcpiPm pmA = new AcpiPm(new RecordingLine(), () -> { }, 5);
        var pmState = pmA.saveState();
        AcpiPm pmB = new AcpiPm(new RecordingLine(), () -> { }, 5);
        pmB.restoreState(pmState);
        long tA = pmA.read(8, 4);
        long tB = pmB.read(8, 4);
        long d = Math.floorMod(tA - tB, 1 << 24);
        // B counts on from the saved value: it lags A by the time between save and restore, well under 100 ms
        assertThat(Math.min(d, (1 << 24) - d)).isLessThan(3_579_545 / 10);

        I8042 k = new I8042(new RecordingLine(), () -> { });
        k.write(4, 1, 0x60);
        k.write(0, 1, 0x45);
        I8042 k2 = new I8042(new RecordingLine(), () -> { });
        k2.restoreState(k.saveState());
        assertThat(k2.saveState()).usingRecursiveComparison().isEqualTo(k.saveState());
    }
}
