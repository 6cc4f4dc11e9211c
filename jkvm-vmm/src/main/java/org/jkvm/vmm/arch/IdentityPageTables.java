package org.jkvm.vmm.arch;

import org.jkvm.loader.BootMemoryMap;
import org.jkvm.memory.GuestMemory;

/**
 * The boot page tables for long-mode entry: the first 4 GiB identity-mapped with 2 MiB pages (one PML4 entry, four
 * PDPT entries, four page directories). That covers the kernel, boot data and the MMIO hole (LAPIC, IOAPIC), as the
 * 64-bit boot protocol asks (boot.rst, "64-bit Boot Protocol"). Intel SDM vol. 3A 4.5.
 */
public final class IdentityPageTables {
    private static final long PRESENT = 1;
    private static final long WRITABLE = 1 << 1;
    private static final long PAGE_SIZE_2M = 1 << 7;
    private static final int DIRECTORIES = 4;

    private IdentityPageTables() {}

    /** Writes the tables; returns the CR3 value. */
    public static long write(GuestMemory memory) {
        memory.fill(BootMemoryMap.PML4, 0x1000, (byte) 0);
        memory.fill(BootMemoryMap.PDPT, 0x1000, (byte) 0);
        memory.writeLong(BootMemoryMap.PML4, BootMemoryMap.PDPT | PRESENT | WRITABLE);
        for (int d = 0; d < DIRECTORIES; d++) {
            long pd = BootMemoryMap.PD + d * 0x1000L;
            memory.writeLong(BootMemoryMap.PDPT + 8L * d, pd | PRESENT | WRITABLE);
            for (int e = 0; e < 512; e++) {
                long phys = ((long) d * 512 + e) << 21;
                memory.writeLong(pd + 8L * e, phys | PRESENT | WRITABLE | PAGE_SIZE_2M);
            }
        }
        return BootMemoryMap.PML4;
    }
}
