package org.jkvm.devices.irq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class IoApicTest {

    record Message(int destination, boolean logical, int vector, int mode, boolean level, boolean levelTriggered) {
    }

    final List<Message> sent = new ArrayList<>();
    final IoApic ioapic = new IoApic((d, l, v, m, lv, t) -> sent.add(new Message(d, l, v, m, lv, t)));

    int readReg(int reg) {
        ioapic.write(IoApic.IOREGSEL, 4, reg);
        return (int) ioapic.read(IoApic.IOWIN, 4);
    }

    void writeReg(int reg, int value) {
        ioapic.write(IoApic.IOREGSEL, 4, reg);
        ioapic.write(IoApic.IOWIN, 4, value & 0xFFFF_FFFFL);
    }

    /** As Linux's ioapic_write_entry: the high dword first, then the low dword. */
    void writeEntry(int pin, long entry) {
        writeReg(0x11 + 2 * pin, (int) (entry >>> 32));
        writeReg(0x10 + 2 * pin, (int) entry);
    }

    @Test
    void identification() {
        assertThat(readReg(0x01)).isEqualTo(0x0017_0020);
        writeReg(0x00, 0x0200_0000); // Linux sets the ID from the MADT
        assertThat(readReg(0x00)).isEqualTo(0x0200_0000);
        assertThat(readReg(0x02)).as("arbitration ID").isEqualTo(0x0200_0000);
        writeReg(0x01, 0);
        assertThat(readReg(0x01)).isEqualTo(0x0017_0020);
        assertThat(ioapic.read(IoApic.IOREGSEL, 4)).isEqualTo(0x01);
        assertThat(readReg(0x10 + 2 * 23)).as("entries reset masked").isEqualTo(0x0001_0000);
        assertThat(readReg(0x60)).isZero();
    }

    @Test
    void edgeEntryDeliversOncePerRisingEdge() {
        writeEntry(2, 0x0100_0000_0000_0030L); // vector 0x30, fixed, physical, edge, unmasked, to APIC 1
        assertThat(readReg(0x14)).isEqualTo(0x30);
        assertThat(readReg(0x15)).isEqualTo(0x0100_0000);
        ioapic.setIrq(2, true);
        ioapic.setIrq(2, true); // no new edge
        ioapic.setIrq(2, false);
        assertThat(sent).containsExactly(new Message(1, false, 0x30, 0, true, false));
        ioapic.setIrq(2, true);
        assertThat(sent).hasSize(2);
    }

    @Test
    void edgesWhileMaskedAreDropped() {
        writeEntry(4, 1L << 16 | 0x34);
        ioapic.setIrq(4, true);
        ioapic.setIrq(4, false);
        writeEntry(4, 0x34);
        assertThat(sent).isEmpty();
    }

    @Test
    void levelEntryUsesRemoteIrrAndEoi() {
        writeEntry(9, 1L << 15 | 1L << 13 | 1L << 11 | 1L << 8 | 0x41); // level, active low, logical, lowest prio
        ioapic.setIrq(9, true);
        assertThat(sent).containsExactly(new Message(0, true, 0x41, 1, true, true));
        assertThat(readReg(0x10 + 18) & 1 << 14).as("remote IRR").isNotZero();
        ioapic.setIrq(9, false);
        ioapic.setIrq(9, true);
        assertThat(sent).as("remote IRR blocks until EOI").hasSize(1);
        ioapic.endOfInterrupt(0x41);
        assertThat(sent).as("still asserted after EOI: sent again").hasSize(2);
        ioapic.setIrq(9, false);
        ioapic.endOfInterrupt(0x41);
        assertThat(sent).hasSize(2);
        assertThat(readReg(0x10 + 18) & 1 << 14).isZero();
        ioapic.endOfInterrupt(0x99);
        assertThat(sent).hasSize(2);
    }

    @Test
    void eoiRegisterOfVersion20() {
        writeEntry(10, 1L << 15 | 0x50);
        ioapic.setIrq(10, true);
        ioapic.write(IoApic.EOI, 4, 0x50);
        assertThat(sent).hasSize(2);
        assertThat(ioapic.read(IoApic.EOI, 4)).isZero();
    }

    @Test
    void switchingToEdgeClearsRemoteIrr() {
        writeEntry(11, 1L << 15 | 0x51);
        ioapic.setIrq(11, true);
        ioapic.setIrq(11, false);
        // Linux's __eoi_ioapic_pin for version 0x11: mask and set edge, then restore
        writeEntry(11, 1L << 16 | 0x51);
        writeEntry(11, 1L << 15 | 0x51);
        assertThat(readReg(0x10 + 22) & 1 << 14).isZero();
        ioapic.setIrq(11, true);
        assertThat(sent).hasSize(2);
    }

    @Test
    void unmaskingAnAssertedLevelInputDelivers() {
        writeEntry(16, 1L << 16 | 1L << 15 | 0x60);
        ioapic.setIrq(16, true);
        assertThat(sent).isEmpty();
        writeEntry(16, 1L << 15 | 0x60);
        assertThat(sent).containsExactly(new Message(0, false, 0x60, 0, true, true));
    }

    @Test
    void deliveryModesPassThrough() {
        writeEntry(0, 7 << 8); // ExtINT (virtual wire through the 8259A)
        writeEntry(1, 4 << 8); // NMI
        ioapic.setIrq(0, true);
        ioapic.setIrq(1, true);
        assertThat(sent).extracting(Message::mode).containsExactly(ApicDelivery.EXTINT, ApicDelivery.NMI);
    }

    @Test
    void byteAccessesToIowin() {
        writeReg(0x10, 0x0001_0000);
        ioapic.write(IoApic.IOWIN, 1, 0x77);
        ioapic.write(IoApic.IOWIN + 2, 1, 0x00); // unmask through the third byte
        assertThat(readReg(0x10)).isEqualTo(0x77);
        assertThat(ioapic.read(IoApic.IOWIN + 1, 1) & 0xFF).isZero();
    }

    @Test
    void outOfRangePinsIgnored() {
        ioapic.setIrq(-1, true);
        ioapic.setIrq(24, true);
        ioapic.endOfInterrupt(-5);
        assertThat(ioapic.redirectionEntry(99)).isZero();
        assertThat(sent).isEmpty();
    }

    @Test
    void hostileAccessesNeverThrow() {
        long[] offsets = {-1, 0, 1, 3, 0x10, 0x13, 0x14, 0x40, 0xFFF, 0x1000, 1L << 40, Long.MIN_VALUE};
        int[] sizes = {-1, 0, 1, 2, 3, 4, 8, 1000};
        for (int reg : new int[] {0, 1, 2, 0x10, 0x3F, 0x40, 0xFF}) {
            for (long o : offsets) {
                for (int s : sizes) {
                    assertThatCode(() -> {
                        ioapic.write(IoApic.IOREGSEL, 1, reg);
                        ioapic.read(o, s);
                        ioapic.write(o, s, -1L);
                    }).doesNotThrowAnyException();
                }
            }
        }
    }
}
