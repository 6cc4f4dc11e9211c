package org.jkvm.loader;

import org.jkvm.memory.PcMemoryLayout;

/**
 * Checks that a range a kernel image asks for is a sane place to write: no arithmetic overflow, not below 1 MiB
 * (where the GDT, page tables, zero page, multiboot info and command line live), not in the 32-bit MMIO hole, inside
 * guest RAM, and (for the 32-bit and identity-mapped entries) below 4 GiB.
 */
final class Placement {
    private static final long FOUR_GIB = 1L << 32;

    private Placement() {
    }

    /**
     * Fails with a clear message unless {@code [gpa, gpa + sizeBytes)} is RAM at or above 1 MiB, outside the MMIO
     * hole, and, when {@code below4GiB}, entirely below 4 GiB.
     */
    static void check(ImageFile file, String what, long gpa, long sizeBytes, PcMemoryLayout layout, boolean below4GiB)
            throws KernelLoadException {
        String range = what + " [" + Le.hex(gpa) + ", " + Le.hex(gpa + sizeBytes) + ")";
        if (gpa < 0 || sizeBytes < 0 || gpa + sizeBytes < gpa) {
            throw file.error(what + " at " + Le.hex(gpa) + " of " + sizeBytes + " bytes overflows the address space");
        }
        if (gpa < BootMemoryMap.HIMEM_START) {
            throw file.error(range + " starts below 1 MiB, where jkvm's boot data lives");
        }
        long end = gpa + sizeBytes;
        if (below4GiB && end > FOUR_GIB) {
            throw file.error(range + " ends above 4 GiB, outside what the boot CPU state can reach");
        }
        if (gpa < PcMemoryLayout.MMIO_HOLE_END && end > PcMemoryLayout.MMIO_HOLE_START) {
            throw file.error(range + " overlaps the 32-bit MMIO hole [0xc0000000, 0x100000000)");
        }
        for (PcMemoryLayout.Range r : layout.ranges()) {
            if (gpa >= r.gpa() && end <= r.end()) {
                return;
            }
        }
        throw file.error(range + " lies beyond guest RAM (low RAM ends at " + Le.hex(layout.lowRamEnd())
                + ", RAM at " + Le.hex(layout.ramEnd()) + ")");
    }

    static long alignUp(long v, long align) {
        return (v + align - 1) & -align;
    }

    static long alignDown(long v, long align) {
        return v & -align;
    }
}
