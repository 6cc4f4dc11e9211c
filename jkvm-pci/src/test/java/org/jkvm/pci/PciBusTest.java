package org.jkvm.pci;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.jkvm.devices.BusDevice;
import org.junit.jupiter.api.Test;

class PciBusTest {
    static final PciWindow LOW = new PciWindow(0xc000_0000L, 0x2000_0000L);
    static final PciWindow HIGH = new PciWindow(0x1_0000_0000L, 1L << 34);

    /** A device with one 4 KiB 32-bit BAR 0 of registers and a 64-bit BAR 2, remembering what it saw. */
    static final class Recorder implements PciDevice {
        final PciConfigSpace config = new PciConfigSpace(0x1234, 0x5678, 0xff0000, 0, 0, 0);
        final long[] regs = new long[512];
        final List<String> mappings = new ArrayList<>();

        Recorder() {
            config.addBar(0, 0x1000, false, false);
            config.addBar(2, 0x10000, true, false);
        }

        @Override
        public PciConfigSpace config() {
            return config;
        }

        @Override
        public long barRead(int bar, long offset, int size) {
            return bar == 0 ? regs[(int) (offset >>> 3)] : 0x22;
        }

        @Override
        public void barWrite(int bar, long offset, int size, long value) {
            if (bar == 0) {
                regs[(int) (offset >>> 3)] = value;
            }
        }

        @Override
        public void barMapped(int bar, long gpa) {
            mappings.add(bar + "@" + (gpa < 0 ? "-1" : Long.toHexString(gpa)));
        }

        @Override
        public String description() {
            return "recorder";
        }
    }

    private final PciBus bus = new PciBus(List.of(LOW, HIGH));
    private final PciConfigIo io = new PciConfigIo(bus);
    private final BusDevice address = io.address();
    private final BusDevice data = io.data();

    private long cf8Read(int dev, int reg, int size) {
        address.write(0, 4, 0x8000_0000L | (dev << 11) | (reg & 0xfc));
        return data.read(reg & 3, size);
    }

    private void cf8Write(int dev, int reg, int size, long value) {
        address.write(0, 4, 0x8000_0000L | (dev << 11) | (reg & 0xfc));
        data.write(reg & 3, size, value);
    }

    @Test
    void type1ConfigAccess() {
        bus.add(new HostBridge());
        assertThat(cf8Read(0, 0, 4)).isEqualTo(0x29c0_8086L);
        assertThat(cf8Read(0, 0x0a, 2)).isEqualTo(0x0600);
        assertThat(cf8Read(0, 2, 2)).isEqualTo(0x29c0);
        assertThat(cf8Read(1, 0, 4)).isEqualTo(0xffff_ffffL); // empty slot
        assertThat(cf8Read(1, 0, 2)).isEqualTo(0xffff);
        address.write(0, 4, 0x8000_0100L); // function 1
        assertThat(data.read(0, 4)).isEqualTo(0xffff_ffffL);
        address.write(0, 4, 0x8001_0000L); // bus 1
        assertThat(data.read(0, 4)).isEqualTo(0xffff_ffffL);
        address.write(0, 4, 0x0000_0000L); // enable bit clear
        assertThat(data.read(0, 4)).isEqualTo(0xffff_ffffL);
        // Linux's probe: the address register reads back what was written (bits 1:0 zero)
        address.write(0, 4, 0x8000_0003L);
        assertThat(address.read(0, 4)).isEqualTo(0x8000_0000L);
        address.write(0, 1, 0x55); // byte writes (0xCFB tricks) do not change it
        assertThat(address.read(0, 4)).isEqualTo(0x8000_0000L);
        assertThat(data.read(0, 3)).isEqualTo(0xff_ffffL); // odd sizes and offsets past the register: no access
        assertThat(data.read(2, 4)).isEqualTo(0xffff_ffffL);
        data.write(0, -5, 0);
    }

    @Test
    void ecamConfigAccess() {
        bus.add(new HostBridge());
        Recorder r = new Recorder();
        int slot = bus.add(r);
        PciEcam ecam = new PciEcam(bus);
        assertThat(ecam.read(0, 4)).isEqualTo(0x29c0_8086L);
        assertThat(ecam.read((long) slot << 15, 4)).isEqualTo(0x5678_1234L);
        assertThat(ecam.read((long) slot << 15 | 1 << 12, 4)).isEqualTo(0xffff_ffffL);
        assertThat(ecam.read(((long) slot << 15) + 0x100, 4)).isZero(); // extended space of a present function
        assertThat(ecam.read(((long) slot << 15) + 0xffe, 4)).isEqualTo(0xffff_ffffL); // crosses the 4 KiB end
        ecam.write(((long) slot << 15) + PciConfigSpace.BAR0, 4, 0xffff_ffffL);
        assertThat(ecam.read(((long) slot << 15) + PciConfigSpace.BAR0, 4)).isEqualTo(0xffff_f000L);
        assertThat(ecam.read(PciEcam.BUS_SIZE, 4)).isEqualTo(0xffff_ffffL);
    }

    @Test
    void barsDecodeWhereProgrammedAndOnlyWhenEnabled() {
        Recorder r = new Recorder();
        int slot = bus.add(r);
        BusDevice low = bus.windowDevice(LOW);
        cf8Write(slot, PciConfigSpace.BAR0, 4, 0xc010_0000L);
        assertThat(r.mappings).isEmpty(); // memory decoding still off
        low.write(0x10_0008, 8, 42);
        assertThat(r.regs[1]).isZero();
        assertThat(low.read(0x10_0008, 4)).isEqualTo(-1L);

        cf8Write(slot, PciConfigSpace.COMMAND, 2, PciConfigSpace.COMMAND_MEMORY);
        assertThat(r.mappings).containsExactly("0@c0100000");
        low.write(0x10_0008, 8, 42);
        assertThat(r.regs[1]).isEqualTo(42);
        assertThat(bus.mmioRead(0xc010_0008L, 8)).isEqualTo(42);

        // BAR 2 (64-bit) at 0 is outside the windows: nothing decodes there
        cf8Write(slot, PciConfigSpace.BAR0 + 8, 4, 0);
        cf8Write(slot, PciConfigSpace.BAR0 + 12, 4, 1);
        assertThat(r.mappings).containsExactly("0@c0100000", "2@100000000");
        assertThat(bus.mmioRead(0x1_0000_0010L, 4)).isEqualTo(0x22);

        // move BAR 0; the old place no longer decodes
        cf8Write(slot, PciConfigSpace.BAR0, 4, 0xc020_0000L);
        assertThat(bus.mmioRead(0xc010_0008L, 8)).isEqualTo(-1L);
        assertThat(bus.mmioRead(0xc020_0008L, 8)).isEqualTo(42);

        // a BAR pointed at RAM (below the window) is not decoded and reported unmapped
        cf8Write(slot, PciConfigSpace.BAR0, 4, 0x0010_0000L);
        assertThat(r.mappings).last().isEqualTo("0@-1");

        cf8Write(slot, PciConfigSpace.COMMAND, 2, 0);
        assertThat(r.mappings).last().isEqualTo("2@-1");
    }

    @Test
    void allocatorAlignsAndEnables() {
        BarAllocator alloc = new BarAllocator(LOW, HIGH);
        Recorder a = new Recorder();
        Recorder b = new Recorder();
        alloc.assign(a);
        alloc.assign(b);
        assertThat(a.config.barAddress(0)).isEqualTo(0xc000_0000L);
        assertThat(b.config.barAddress(0)).isEqualTo(0xc000_1000L);
        assertThat(a.config.barAddress(2)).isEqualTo(0x1_0000_0000L);
        assertThat(b.config.barAddress(2)).isEqualTo(0x1_0001_0000L);
        assertThat(a.config.command() & PciConfigSpace.COMMAND_MEMORY).isNotZero();
        bus.add(a);
        assertThat(a.mappings).containsExactly("0@c0000000", "2@100000000");
    }

    @Test
    void fullBusIsRefused() {
        for (int i = 0; i < PciBus.SLOTS; i++) {
            bus.add(new HostBridge());
        }
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> bus.add(new HostBridge()))
                .isInstanceOf(IllegalStateException.class);
    }
}
