package org.jkvm.pci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PciConfigSpaceTest {
    private final PciConfigSpace c = new PciConfigSpace(0x1af4, 0x1042, 0x010000, 1, 0x1af4, 0x1100);

    @Test
    void headerIsReadOnly() {
        c.write(0, 4, 0xdeadbeefL);
        c.write(PciConfigSpace.CLASS_PROG, 4, -1);
        assertThat(c.read(0, 4)).isEqualTo(0x1042_1af4L);
        assertThat(c.read(PciConfigSpace.REVISION_ID, 4)).isEqualTo(0x0100_0001L);
        assertThat(c.read(PciConfigSpace.SUBSYSTEM_VENDOR_ID, 4)).isEqualTo(0x1100_1af4L);
        assertThat(c.read(PciConfigSpace.HEADER_TYPE, 1)).isZero();
    }

    @Test
    void commandKeepsOnlyDefinedBits() {
        c.write(PciConfigSpace.COMMAND, 2, 0xffff);
        assertThat(c.command()).isEqualTo(0x547);
        c.write(PciConfigSpace.INTERRUPT_LINE, 1, 11);
        assertThat(c.read(PciConfigSpace.INTERRUPT_LINE, 1)).isEqualTo(11);
    }

    @Test
    void bar32SizingAndProgramming() {
        c.addBar(1, 0x1000, false, false);
        int reg = PciConfigSpace.BAR0 + 4;
        c.write(reg, 4, 0xffff_ffffL);
        assertThat(c.read(reg, 4)).isEqualTo(0xffff_f000L);
        c.write(reg, 4, 0xc000_1234L);
        assertThat(c.read(reg, 4)).isEqualTo(0xc000_1000L);
        assertThat(c.barAddress(1)).isEqualTo(0xc000_1000L);
        assertThat(c.read(PciConfigSpace.BAR0, 4)).isZero(); // no BAR 0: read-only zero
        c.write(PciConfigSpace.BAR0, 4, -1);
        assertThat(c.read(PciConfigSpace.BAR0, 4)).isZero();
    }

    @Test
    void bar64SizingAndProgramming() {
        c.addBar(0, 0x8000, true, true);
        c.write(PciConfigSpace.BAR0, 4, 0xffff_ffffL);
        c.write(PciConfigSpace.BAR0 + 4, 4, 0xffff_ffffL);
        assertThat(c.read(PciConfigSpace.BAR0, 4)).isEqualTo(0xffff_800cL); // 64-bit, prefetchable
        assertThat(c.read(PciConfigSpace.BAR0 + 4, 4)).isEqualTo(0xffff_ffffL);
        c.write(PciConfigSpace.BAR0, 4, 0x4000_0000L);
        c.write(PciConfigSpace.BAR0 + 4, 4, 0x1);
        assertThat(c.barAddress(0)).isEqualTo(0x1_4000_0000L);
        assertThat(c.bar(1)).isNull();
        assertThatThrownBy(() -> c.addBar(1, 0x1000, false, false)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void romAndExtendedSpaceReadZero() {
        c.write(PciConfigSpace.ROM_ADDRESS, 4, -1);
        assertThat(c.read(PciConfigSpace.ROM_ADDRESS, 4)).isZero();
        assertThat(c.read(0x100, 4)).isZero();
        c.write(0xffe, 4, -1);
        assertThat(c.read(0xfff, 4)).isZero();
        assertThat(c.read(-4, 4)).isZero();
    }

    @Test
    void capabilitiesAreLinked() {
        int a = c.addCapability(0x11, 12);
        int b = c.addCapability(0x09, 16);
        assertThat(c.read(PciConfigSpace.STATUS, 2) & PciConfigSpace.STATUS_CAPABILITIES).isNotZero();
        assertThat(c.read(PciConfigSpace.CAPABILITIES_POINTER, 1)).isEqualTo(a);
        assertThat(c.read(a, 1)).isEqualTo(0x11);
        assertThat(c.read(a + 1, 1)).isEqualTo(b);
        assertThat(c.read(b, 1)).isEqualTo(0x09);
        assertThat(c.read(b + 1, 1)).isZero();
        assertThat(b % 4).isZero();
        c.write(a, 4, -1); // capability headers are read-only
        assertThat(c.read(a, 1)).isEqualTo(0x11);
    }
}
