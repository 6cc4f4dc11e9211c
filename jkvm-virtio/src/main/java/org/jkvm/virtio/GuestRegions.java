package org.jkvm.virtio;

import java.lang.foreign.MemorySegment;
import java.util.List;

import org.jkvm.memory.GuestMemory;
import org.jkvm.memory.MemoryRegion;

/**
 * The RAM regions of a {@link GuestMemory}, unpacked for the descriptor walk: which region holds a guest range, and
 * its host segment (every access the queue makes goes through a region's segment at an offset checked twice: here
 * and by {@link MemorySegment}'s own bounds check). Regions never change while a VM runs.
 */
final class GuestRegions {
    private final long[] gpa;
    private final long[] size;
    private final MemorySegment[] host;

    GuestRegions(GuestMemory memory) {
        List<MemoryRegion> regions = memory.regions();
        int n = regions.size();
        gpa = new long[n];
        size = new long[n];
        host = new MemorySegment[n];
        for (int i = 0; i < n; i++) {
            MemoryRegion r = regions.get(i);
            gpa[i] = r.gpa();
            size[i] = r.sizeBytes();
            host[i] = r.host();
        }
    }

    /** The index of the region holding all of {@code [addr, addr+len)} ({@code len >= 0}), or -1. */
    int find(long addr, long len) {
        for (int i = 0; i < gpa.length; i++) {
            if (addr >= gpa[i] && len <= size[i] && addr - gpa[i] <= size[i] - len) {
                return i;
            }
        }
        return -1;
    }

    long gpa(int region) {
        return gpa[region];
    }

    MemorySegment host(int region) {
        return host[region];
    }

    /** A view of {@code [addr, addr+len)} in region {@code region} (allocates: for set-up, not per request). */
    MemorySegment slice(int region, long addr, long len) {
        return host[region].asSlice(addr - gpa[region], len);
    }
}
