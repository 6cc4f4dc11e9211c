package org.jkvm.devices.irq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.jkvm.devices.InterruptLine;
import org.jkvm.devices.RecordingLine;
import org.junit.jupiter.api.Test;

class IrqRouterTest {

    final RecordingLine intr = new RecordingLine();
    final Pic8259 pic = new Pic8259(intr);
    final List<Integer> vectors = new ArrayList<>();
    final IoApic ioapic = new IoApic((d, l, v, m, lv, t) -> vectors.add(v));
    final IrqRouter router = new IrqRouter(pic, ioapic);

    void initPic() {
        pic.master().write(0, 1, 0x11);
        pic.master().write(1, 1, 0x30);
        pic.master().write(1, 1, 0x04);
        pic.master().write(1, 1, 0x01);
        pic.master().write(1, 1, 0x00);
        pic.slave().write(0, 1, 0x11);
        pic.slave().write(1, 1, 0x38);
        pic.slave().write(1, 1, 0x02);
        pic.slave().write(1, 1, 0x01);
        pic.slave().write(1, 1, 0x00);
    }

    void unmask(int pin, int vector) {
        ioapic.write(IoApic.IOREGSEL, 1, 0x10 + 2 * pin);
        ioapic.write(IoApic.IOWIN, 4, vector);
    }

    @Test
    void isaIrq0ReachesPicIrq0AndIoApicPin2() {
        initPic();
        unmask(2, 0x92);
        unmask(0, 0x90);
        router.isaLine(0).pulse();
        assertThat(pic.acknowledge()).isEqualTo(0x30);
        assertThat(vectors).containsExactly(0x92);
        assertThat(IrqRouter.isaIrqToGsi(0)).isEqualTo(2);
        assertThat(IrqRouter.isaIrqToGsi(8)).isEqualTo(8);
    }

    @Test
    void pciGsisReachOnlyTheIoApic() {
        initPic();
        unmask(20, 0xA0);
        router.gsiLine(20).set(true);
        assertThat(intr.level()).isFalse();
        assertThat(vectors).containsExactly(0xA0);
    }

    @Test
    void sharedGsiIsWiredOr() {
        initPic();
        pic.elcr().write(1, 1, 0x04); // IRQ 10 level
        InterruptLine a = router.gsiLine(10);
        InterruptLine b = router.gsiLine(10);
        a.set(true);
        b.set(true);
        a.set(false);
        assertThat(intr.level()).as("b still holds IRQ 10").isTrue();
        b.set(false);
        assertThat(intr.level()).isFalse();
        b.set(false); // a stray lower is ignored
        a.set(true);
        assertThat(intr.level()).isTrue();
    }

    @Test
    void invalidLinesRefused() {
        assertThatThrownBy(() -> router.isaLine(2)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> router.isaLine(16)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> router.gsiLine(24)).isInstanceOf(IllegalArgumentException.class);
        router.setGsi(99, true);
        router.setGsi(-1, false);
    }
}
