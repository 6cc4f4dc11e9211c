package org.jkvm.pci;

import org.jkvm.devices.BusDevice;

/**
 * The PCI Express Enhanced Configuration Access Mechanism (PCIe base spec 7.2.2, the ACPI MCFG table describes it):
 * 4 KiB of configuration space per function, at {@code base + (bus << 20 | device << 15 | function << 12)}.
 * jkvm's window covers bus 0 only (1 MiB). Accesses of 1, 2 or 4 bytes that stay inside one function's 4 KiB;
 * anything else reads as all ones and is dropped on write.
 */
public final class PciEcam implements BusDevice {
    /** One bus's worth: 32 devices x 8 functions x 4 KiB. */
    public static final long BUS_SIZE = 1L << 20;

    private final PciBus bus;

    public PciEcam(PciBus bus) {
        this.bus = bus;
    }

    @Override
    public long read(long offset, int size) {
        if (!valid(offset, size)) {
            return PciBus.allOnes(size);
        }
        return bus.configRead(0, device(offset), function(offset), register(offset), size);
    }

    @Override
    public void write(long offset, int size, long value) {
        if (valid(offset, size)) {
            bus.configWrite(0, device(offset), function(offset), register(offset), size, value);
        }
    }

    private static boolean valid(long offset, int size) {
        return offset >= 0 && offset < BUS_SIZE && (size == 1 || size == 2 || size == 4)
                && (offset & (PciConfigSpace.ECAM_SIZE - 1)) + size <= PciConfigSpace.ECAM_SIZE;
    }

    private static int device(long offset) {
        return (int) (offset >>> 15) & 0x1f;
    }

    private static int function(long offset) {
        return (int) (offset >>> 12) & 7;
    }

    private static int register(long offset) {
        return (int) offset & (PciConfigSpace.ECAM_SIZE - 1);
    }
}
