package org.jkvm.devices.legacy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.jkvm.devices.IoBus;
import org.junit.jupiter.api.Test;

/** DebugExit, PostCode, ResetControl and PvPanic: the one-register ports. */
class SmallPortsTest {

    @Test
    void debugExitStatusIsValueShiftedLeftPlusOne() {
        List<Integer> statuses = new ArrayList<>();
        IoBus bus = new IoBus();
        bus.register(0xF4, 4, new DebugExit(statuses::add));
        bus.write(0xF4, 1, 0);
        bus.write(0xF4, 1, 1);
        bus.write(0xF4, 4, 0x10);
        bus.write(0xF6, 2, 0x7F); // any offset inside iosize 4
        bus.write(0xF4, 1, 0x1FF); // the bus keeps one byte: 0xFF
        assertThat(statuses).containsExactly(1, 3, 0x21, 0xFF, 0x1FF);
        assertThat(bus.read(0xF4, 4)).isZero();
    }

    @Test
    void debugExitIgnoresEmptyAccesses() {
        AtomicInteger calls = new AtomicInteger();
        DebugExit d = new DebugExit(s -> calls.incrementAndGet());
        d.write(0, 0, 5);
        d.write(0, -1, 5);
        assertThat(calls.get()).isZero();
        d.write(0, 8, -1L);
        assertThat(calls.get()).isEqualTo(1);
    }

    @Test
    void pvPanicAdvertisesItsEventsAndReportsPanicsOnly() {
        AtomicInteger panics = new AtomicInteger();
        IoBus bus = new IoBus();
        bus.register(0x505, 1, new PvPanic(panics::incrementAndGet));
        assertThat(bus.read(0x505, 1)).isEqualTo(3);
        bus.write(0x505, 1, PvPanic.CRASH_LOADED);
        bus.write(0x505, 1, 0);
        assertThat(panics.get()).isZero();
        bus.write(0x505, 1, PvPanic.PANICKED);
        bus.write(0x505, 1, 0xFF);
        assertThat(panics.get()).isEqualTo(2);
    }

    @Test
    void postCodeKeepsTheLastByte() {
        PostCode p = new PostCode();
        assertThat(p.lastCode()).isZero();
        p.write(0, 1, 0x1234);
        assertThat(p.lastCode()).isEqualTo(0x34);
        assertThat(p.read(0, 1)).isEqualTo(0x34);
        p.write(5, 1, 0x99);
        p.write(0, 0, 0x99);
        assertThat(p.lastCode()).isEqualTo(0x34);
    }

    @Test
    void resetControlResetsOnRstCpu() {
        AtomicInteger resets = new AtomicInteger();
        ResetControl r = new ResetControl(resets::incrementAndGet);
        r.write(0, 1, 0x02); // SYS_RST alone only selects the reset kind
        assertThat(resets.get()).isZero();
        assertThat(r.read(0, 1)).isEqualTo(0x02);
        r.write(0, 1, 0x06);
        assertThat(resets.get()).isEqualTo(1);
        r.write(0, 1, 0x0E);
        assertThat(resets.get()).isEqualTo(2);
        assertThat(r.read(0, 1) & 0x04).as("RST_CPU self-clears").isZero();
        r.write(1, 1, 0x06);
        r.write(0, 0, 0x06);
        r.write(0, 4, 0x0600); // low byte 0x00
        assertThat(resets.get()).isEqualTo(2);
    }
}
