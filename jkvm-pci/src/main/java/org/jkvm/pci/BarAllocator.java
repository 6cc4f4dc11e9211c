package org.jkvm.pci;

/**
 * Assigns BAR addresses as firmware does before the OS starts: naturally aligned (a BAR's address is a multiple of
 * its size), upwards through a window. 32-bit BARs go in the 32-bit window (below the IOAPIC/LAPIC area); 64-bit
 * BARs in the 64-bit window above RAM, or in the 32-bit window when there is no 64-bit window.
 */
public final class BarAllocator {
    private final PciWindow low;
    private final PciWindow high;
    private long nextLow;
    private long nextHigh;

    /** Allocates from {@code low} (32-bit) and {@code high} (64-bit, may be null). */
    public BarAllocator(PciWindow low, PciWindow high) {
        this.low = low;
        this.high = high;
        this.nextLow = low.baseGpa();
        this.nextHigh = high == null ? 0 : high.baseGpa();
    }

    /**
     * Returns the address for {@code bar} and reserves it.
     *
     * @throws IllegalStateException when the window is full
     */
    public long allocate(PciBar bar) {
        if (bar.is64() && high != null) {
            long at = align(nextHigh, bar.sizeBytes());
            if (at + bar.sizeBytes() <= high.endGpa()) {
                nextHigh = at + bar.sizeBytes();
                return at;
            }
        }
        long at = align(nextLow, bar.sizeBytes());
        if (at + bar.sizeBytes() > low.endGpa()) {
            throw new IllegalStateException("PCI MMIO window full: no room for a " + bar.sizeBytes() + "-byte BAR");
        }
        nextLow = at + bar.sizeBytes();
        return at;
    }

    /** Assigns every BAR of {@code device} and enables its memory decoding and bus mastering. */
    public void assign(PciDevice device) {
        PciConfigSpace c = device.config();
        boolean any = false;
        for (int i = 0; i < PciConfigSpace.BAR_COUNT; i++) {
            PciBar bar = c.bar(i);
            if (bar != null) {
                c.setBarAddress(i, allocate(bar));
                any = true;
            }
        }
        if (any) {
            c.setCommand(c.command() | PciConfigSpace.COMMAND_MEMORY | PciConfigSpace.COMMAND_BUS_MASTER);
        }
    }

    private static long align(long value, long alignment) {
        return (value + alignment - 1) & -alignment;
    }
}
