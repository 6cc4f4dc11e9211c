package org.jkvm.devices.irq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import org.jkvm.devices.BusDevice;
import org.jkvm.devices.RecordingLine;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class Pic8259Test {

    final RecordingLine intr = new RecordingLine();
    final Pic8259 pic = new Pic8259(intr);
    final BusDevice master = pic.master();
    final BusDevice slave = pic.slave();

    /** Linux's init_8259A(0) (arch/x86/kernel/i8259.c) after probe_8259A, then its cached masks. */
    @BeforeEach
    void linuxInit() {
        master.write(1, 1, 0xFB); // probe_8259A: write ~(1 << cascade) to the IMR and read it back
        assertThat(master.read(1, 1)).isEqualTo(0xFB);
        master.write(1, 1, 0xFF);
        slave.write(1, 1, 0xFF);
        master.write(0, 1, 0x11); // ICW1: edge, cascade, ICW4 needed
        master.write(1, 1, 0x30); // ICW2: ISA_IRQ_VECTOR(0)
        master.write(1, 1, 0x04); // ICW3: slave on IR2
        master.write(1, 1, 0x01); // ICW4: 8086 mode, normal EOI
        slave.write(0, 1, 0x11);
        slave.write(1, 1, 0x38); // ISA_IRQ_VECTOR(8)
        slave.write(1, 1, 0x02); // slave ID 2
        slave.write(1, 1, 0x01);
        master.write(1, 1, 0x00); // everything unmasked (cached_irq_mask after the drivers' unmasks)
        slave.write(1, 1, 0x00);
    }

    int isr(BusDevice chip) {
        chip.write(0, 1, 0x0B); // OCW3: read ISR
        int v = (int) chip.read(0, 1);
        chip.write(0, 1, 0x0A); // back to IRR, as Linux does
        return v;
    }

    int irr(BusDevice chip) {
        chip.write(0, 1, 0x0A);
        return (int) chip.read(0, 1);
    }

    @Test
    void timerInterruptAndNonSpecificEoi() {
        assertThat(intr.level()).isFalse();
        pic.setIrq(0, true);
        pic.setIrq(0, false);
        assertThat(intr.level()).as("an edge is latched even after the line drops").isTrue();
        assertThat(pic.acknowledge()).isEqualTo(0x30);
        assertThat(intr.level()).isFalse();
        assertThat(isr(master)).isEqualTo(0x01);
        master.write(0, 1, 0x20); // non-specific EOI
        assertThat(isr(master)).isZero();
    }

    @Test
    void priorityAndNesting() {
        pic.setIrq(3, true);
        pic.setIrq(1, true);
        assertThat(irr(master)).isEqualTo(0x0A);
        assertThat(pic.acknowledge()).isEqualTo(0x31);
        assertThat(intr.level()).as("IRQ 3 waits behind IRQ 1 in service").isFalse();
        pic.setIrq(0, true);
        assertThat(intr.level()).as("IRQ 0 nests over IRQ 1").isTrue();
        assertThat(pic.acknowledge()).isEqualTo(0x30);
        assertThat(isr(master)).isEqualTo(0x03);
        master.write(0, 1, 0x20); // clears the highest: IRQ 0
        assertThat(isr(master)).isEqualTo(0x02);
        assertThat(intr.level()).isFalse();
        master.write(0, 1, 0x61); // specific EOI for IRQ 1, as Linux's mask_and_ack_8259A
        assertThat(intr.level()).isTrue();
        assertThat(pic.acknowledge()).isEqualTo(0x33);
    }

    @Test
    void slaveInterruptThroughCascade() {
        pic.setIrq(8, true);
        assertThat(intr.level()).isTrue();
        assertThat(pic.acknowledge()).isEqualTo(0x38);
        assertThat(isr(master)).isEqualTo(0x04);
        assertThat(isr(slave)).isEqualTo(0x01);
        pic.setIrq(8, false);
        pic.setIrq(12, true);
        assertThat(intr.level()).as("IRQ 12 waits behind IRQ 8").isFalse();
        slave.write(0, 1, 0x60); // Linux: specific EOI to the slave, then to the master's cascade
        assertThat(intr.level()).as("the master's IR2 is still in service").isFalse();
        master.write(0, 1, 0x62);
        assertThat(intr.level()).isTrue();
        assertThat(pic.acknowledge()).isEqualTo(0x3C);
    }

    @Test
    void masterIrqPreemptsSlaveInService() {
        pic.setIrq(10, true);
        assertThat(pic.acknowledge()).isEqualTo(0x3A);
        pic.setIrq(1, true);
        assertThat(intr.level()).isTrue();
        assertThat(pic.acknowledge()).isEqualTo(0x31);
        pic.setIrq(3, true);
        assertThat(intr.level()).as("IRQ 3 is below the cascade (IR2) in service").isFalse();
    }

    @Test
    void levelTriggeredThroughElcr() {
        pic.elcr().write(1, 1, 0x02); // IRQ 9 level (the ACPI SCI)
        assertThat(pic.elcr().read(0, 2)).isEqualTo(0x0200);
        pic.setIrq(9, true);
        assertThat(pic.acknowledge()).isEqualTo(0x39);
        slave.write(0, 1, 0x20);
        master.write(0, 1, 0x20);
        assertThat(intr.level()).as("still asserted: requests again after EOI").isTrue();
        pic.setIrq(9, false);
        assertThat(intr.level()).isFalse();
        assertThat(irr(slave)).isZero();
    }

    @Test
    void edgeHeldHighDoesNotRetrigger() {
        pic.setIrq(4, true);
        assertThat(pic.acknowledge()).isEqualTo(0x34);
        master.write(0, 1, 0x20);
        assertThat(intr.level()).isFalse();
        pic.setIrq(4, false);
        pic.setIrq(4, true);
        assertThat(intr.level()).isTrue();
    }

    @Test
    void elcrCannotMakeTimerOrCascadeLevel() {
        pic.elcr().write(0, 2, 0xFFFF);
        assertThat(pic.elcr().read(0, 1)).isEqualTo(0xF8);
        assertThat(pic.elcr().read(1, 1)).isEqualTo(0xDE);
    }

    @Test
    void maskingHoldsRequests() {
        master.write(1, 1, 0x10); // mask IRQ 4
        pic.setIrq(4, true);
        assertThat(intr.level()).isFalse();
        assertThat(irr(master)).as("IRR latches regardless of IMR").isEqualTo(0x10);
        master.write(1, 1, 0x00);
        assertThat(intr.level()).isTrue();
        assertThat(pic.acknowledge()).isEqualTo(0x34);
    }

    @Test
    void spuriousIrq7WhenTheRequestIsGone() {
        pic.elcr().write(0, 1, 0x20); // IRQ 5 level
        pic.setIrq(5, true);
        assertThat(intr.level()).isTrue();
        pic.setIrq(5, false); // removed before the CPU's INTA
        assertThat(pic.acknowledge()).isEqualTo(0x37);
        assertThat(isr(master)).as("a spurious IRQ 7 sets no ISR bit").isZero();
        pic.setIrq(7, true);
        assertThat(pic.acknowledge()).isEqualTo(0x37);
        assertThat(isr(master)).as("a real IRQ 7 does").isEqualTo(0x80);
    }

    @Test
    void autoEoi() {
        master.write(0, 1, 0x11);
        master.write(1, 1, 0x30);
        master.write(1, 1, 0x04);
        master.write(1, 1, 0x03); // ICW4: AEOI
        pic.setIrq(1, true);
        assertThat(pic.acknowledge()).isEqualTo(0x31);
        assertThat(isr(master)).isZero();
        pic.setIrq(3, true);
        assertThat(intr.level()).as("nothing in service blocks IRQ 3").isTrue();
    }

    @Test
    void icw1ResetsMaskAndEdgeSense() {
        master.write(1, 1, 0xFF);
        pic.setIrq(4, true);
        master.write(0, 1, 0x11);
        master.write(1, 1, 0x20);
        master.write(1, 1, 0x04);
        master.write(1, 1, 0x01);
        assertThat(master.read(1, 1)).isZero();
        assertThat(intr.level()).as("a line already high must make a new edge").isFalse();
        pic.setIrq(4, false);
        pic.setIrq(4, true);
        assertThat(pic.acknowledge()).isEqualTo(0x24);
    }

    @Test
    void poll() {
        pic.setIrq(6, true);
        master.write(0, 1, 0x0C); // OCW3: poll
        assertThat(master.read(0, 1)).isEqualTo(0x86);
        assertThat(isr(master)).as("the poll read is the acknowledge").isEqualTo(0x40);
        master.write(0, 1, 0x0C);
        assertThat(master.read(0, 1)).isZero();
    }

    @Test
    void rotationAndSetPriority() {
        master.write(0, 1, 0xC3); // set priority: IRQ 3 lowest, IRQ 4 highest
        pic.setIrq(1, true);
        pic.setIrq(5, true);
        assertThat(pic.acknowledge()).isEqualTo(0x35);
        master.write(0, 1, 0xA0); // rotate on non-specific EOI: IRQ 5 becomes lowest
        assertThat(pic.acknowledge()).isEqualTo(0x31);
        master.write(0, 1, 0xE1); // rotate on specific EOI 1
        pic.setIrq(0, true);
        pic.setIrq(7, true);
        assertThat(pic.acknowledge()).as("after IRQ 1 is lowest, IRQ 2.. then 7 before 0").isEqualTo(0x37);
    }

    @Test
    void specialMaskMode() {
        pic.setIrq(1, true);
        assertThat(pic.acknowledge()).isEqualTo(0x31);
        pic.setIrq(3, true);
        assertThat(intr.level()).isFalse();
        master.write(1, 1, 0x02); // mask the in-service IRQ 1
        master.write(0, 1, 0x68); // OCW3: set special mask mode
        assertThat(intr.level()).as("masked in-service levels no longer block").isTrue();
        master.write(0, 1, 0x48); // reset special mask mode
        assertThat(intr.level()).isFalse();
    }

    @Test
    void cascadeInputAndUnknownIrqsIgnored() {
        pic.setIrq(2, true);
        pic.setIrq(-1, true);
        pic.setIrq(16, true);
        assertThat(intr.level()).isFalse();
    }

    @Test
    void hostileAccessesNeverThrow() {
        long[] offsets = {-1, 0, 1, 2, 3, 1L << 40, Long.MIN_VALUE, Long.MAX_VALUE};
        int[] sizes = {-1, 0, 1, 2, 3, 4, 8, 1000};
        for (BusDevice d : new BusDevice[] {master, slave, pic.elcr()}) {
            for (long o : offsets) {
                for (int s : sizes) {
                    assertThatCode(() -> {
                        d.read(o, s);
                        d.write(o, s, -1L);
                    }).doesNotThrowAnyException();
                }
            }
        }
    }
}
