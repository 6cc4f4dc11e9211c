package org.jkvm.pci;

import org.jkvm.devices.BusDevice;

/**
 * PCI configuration mechanism #1 (PCI Local Bus 3.0 section 3.2.2.3.2): the CONFIG_ADDRESS register at port 0xCF8
 * (enable bit 31, bus 23:16, device 15:11, function 10:8, register 7:2) and CONFIG_DATA at 0xCFC-0xCFF. Register
 * {@link #address()} at 0xCF8 with length 1 (0xCF9 is the reset control register: only 32-bit accesses at 0xCF8 are
 * the address register) and {@link #data()} at 0xCFC with length 4.
 */
public final class PciConfigIo {
    public static final int ADDRESS_PORT = 0xcf8;
    public static final int DATA_PORT = 0xcfc;
    private static final int ENABLE = 1 << 31;

    private final PciBus bus;
    private volatile int address;

    public PciConfigIo(PciBus bus) {
        this.bus = bus;
    }

    /** CONFIG_ADDRESS: only doubleword accesses reach it; bits 1:0 read as zero. */
    public BusDevice address() {
        return new BusDevice() {
            @Override
            public long read(long offset, int size) {
                return offset == 0 && size == 4 ? Integer.toUnsignedLong(address) : -1L;
            }

            @Override
            public void write(long offset, int size, long value) {
                if (offset == 0 && size == 4) {
                    address = (int) value & ~3;
                }
            }
        };
    }

    /** CONFIG_DATA: bytes 0-3 of the register CONFIG_ADDRESS selects; all ones when the enable bit is clear. */
    public BusDevice data() {
        return new BusDevice() {
            @Override
            public long read(long offset, int size) {
                int a = address;
                if ((a & ENABLE) == 0 || !validData(offset, size)) {
                    return PciBus.allOnes(size);
                }
                return bus.configRead(bus(a), device(a), function(a), register(a) + (int) offset, size);
            }

            @Override
            public void write(long offset, int size, long value) {
                int a = address;
                if ((a & ENABLE) != 0 && validData(offset, size)) {
                    bus.configWrite(bus(a), device(a), function(a), register(a) + (int) offset, size, value);
                }
            }
        };
    }

    /** Byte, word or doubleword accesses that stay inside CONFIG_DATA. */
    private static boolean validData(long offset, int size) {
        return (size == 1 || size == 2 || size == 4) && offset >= 0 && offset + size <= 4;
    }

    private static int bus(int a) {
        return (a >>> 16) & 0xff;
    }

    private static int device(int a) {
        return (a >>> 11) & 0x1f;
    }

    private static int function(int a) {
        return (a >>> 8) & 7;
    }

    private static int register(int a) {
        return a & 0xfc;
    }
}
