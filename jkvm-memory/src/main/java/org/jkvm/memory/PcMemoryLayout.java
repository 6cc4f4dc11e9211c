package org.jkvm.memory;

import java.util.ArrayList;
import java.util.List;

/**
 * The PC's guest-physical layout: RAM from 0 up to the 32-bit MMIO hole (3 GiB to 4 GiB, where PCI BARs, the IOAPIC,
 * LAPIC and HPET live), the rest of RAM from 4 GiB up.
 */
public final class PcMemoryLayout {
    public static final long MIB = 1L << 20;
    public static final long GIB = 1L << 30;
    /** Start of the 32-bit MMIO hole. */
    public static final long MMIO_HOLE_START = 3 * GIB;
    /** End of the 32-bit MMIO hole; high RAM starts here. */
    public static final long MMIO_HOLE_END = 4 * GIB;
    public static final long MIN_SIZE = 64 * MIB;
    public static final long MAX_SIZE = 1L << 40;

    /** A RAM range in guest-physical space. */
    public record Range(long gpa, long sizeBytes) {
        public long end() {
            return gpa + sizeBytes;
        }
    }

    private final long sizeBytes;
    private final List<Range> ranges;

    private PcMemoryLayout(long sizeBytes) {
        this.sizeBytes = sizeBytes;
        List<Range> r = new ArrayList<>(2);
        long low = Math.min(sizeBytes, MMIO_HOLE_START);
        r.add(new Range(0, low));
        if (sizeBytes > low) {
            r.add(new Range(MMIO_HOLE_END, sizeBytes - low));
        }
        this.ranges = List.copyOf(r);
    }

    /**
     * The layout for {@code sizeBytes} of RAM, a multiple of 2 MiB from 64 MiB to 1 TiB.
     *
     * @throws IllegalArgumentException naming the constraint that {@code sizeBytes} breaks
     */
    public static PcMemoryLayout of(long sizeBytes) {
        if (sizeBytes < MIN_SIZE) {
            throw new IllegalArgumentException("memory size " + sizeBytes + " bytes is below the minimum of 64 MiB");
        }
        if (sizeBytes > MAX_SIZE) {
            throw new IllegalArgumentException("memory size " + sizeBytes + " bytes is above the maximum of 1 TiB");
        }
        if (sizeBytes % (2 * MIB) != 0) {
            throw new IllegalArgumentException("memory size must be a multiple of 2 MiB, not " + sizeBytes + " bytes");
        }
        return new PcMemoryLayout(sizeBytes);
    }

    public long sizeBytes() {
        return sizeBytes;
    }

    /** RAM ranges in ascending guest-physical order: below the hole, then (if any) from 4 GiB. */
    public List<Range> ranges() {
        return ranges;
    }

    /** RAM below the hole (what the 32-bit e820 entry and the low-memory allocations see). */
    public long lowRamEnd() {
        return ranges.get(0).end();
    }

    /** One past the highest RAM address. */
    public long ramEnd() {
        return ranges.get(ranges.size() - 1).end();
    }
}
