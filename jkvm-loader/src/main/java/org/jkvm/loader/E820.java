package org.jkvm.loader;

import java.util.ArrayList;
import java.util.List;

import org.jkvm.memory.PcMemoryLayout;

/**
 * The BIOS e820 memory map jkvm reports for a {@link PcMemoryLayout} (ACPI 6.x section 15 "System Address Map
 * Interfaces"; the entry format is Linux's struct boot_e820_entry in arch/x86/include/uapi/asm/bootparam.h and
 * multiboot's mmap entry). Conventional RAM ends at the EBDA; the EBDA and the BIOS/ACPI area 0xE0000-0xFFFFF are
 * reserved; the VGA hole 0xA0000-0xDFFFF is simply absent; RAM then runs from 1 MiB to the MMIO hole and from 4 GiB.
 */
public final class E820 {
    /** Usable RAM. */
    public static final int RAM = 1;
    /** Reserved: not to be used by the OS. */
    public static final int RESERVED = 2;
    /** ACPI reclaimable memory. */
    public static final int ACPI = 3;
    /** ACPI non-volatile storage. */
    public static final int NVS = 4;

    /** One range: {@code [addr, addr + size)} of {@code type}. */
    public record Entry(long addr, long size, int type) {
        public long end() {
            return addr + size;
        }
    }

    private E820() {
    }

    /** The map for {@code layout}, in ascending address order, without overlaps. */
    public static List<Entry> forLayout(PcMemoryLayout layout) {
        List<Entry> map = new ArrayList<>(5);
        map.add(new Entry(0, BootMemoryMap.EBDA, RAM));
        map.add(new Entry(BootMemoryMap.EBDA, 0xA0000 - BootMemoryMap.EBDA, RESERVED));
        map.add(new Entry(BootMemoryMap.ACPI_START, BootMemoryMap.ACPI_END - BootMemoryMap.ACPI_START, RESERVED));
        map.add(new Entry(BootMemoryMap.HIMEM_START, layout.lowRamEnd() - BootMemoryMap.HIMEM_START, RAM));
        List<PcMemoryLayout.Range> ranges = layout.ranges();
        for (int i = 1; i < ranges.size(); i++) {
            map.add(new Entry(ranges.get(i).gpa(), ranges.get(i).sizeBytes(), RAM));
        }
        return List.copyOf(map);
    }
}
