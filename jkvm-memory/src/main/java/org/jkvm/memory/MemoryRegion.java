package org.jkvm.memory;

import java.lang.foreign.MemorySegment;

/**
 * One contiguous range of guest RAM: guest-physical {@code gpa} of {@code sizeBytes}, backed by host memory
 * {@code host} (whose address is the region's host virtual address, what KVM's memory slots take).
 */
public record MemoryRegion(int slot, long gpa, long sizeBytes, MemorySegment host) {
    public MemoryRegion {
        if (gpa < 0 || sizeBytes <= 0 || host.byteSize() != sizeBytes) {
            throw new IllegalArgumentException("bad region gpa=0x" + Long.toHexString(gpa) + " size=" + sizeBytes);
        }
    }

    public long endGpa() {
        return gpa + sizeBytes;
    }

    public long hva() {
        return host.address();
    }

    /** True if {@code [gpa, gpa+len)} lies entirely in this region (len may be 0). */
    public boolean contains(long addr, long len) {
        return len >= 0 && addr >= gpa && addr - gpa <= sizeBytes - len;
    }
}
