package org.jkvm.loader;

/**
 * jkvm's boot memory map (guest-physical addresses) shared by the loader, the VMM and test guests; docs/loader.md
 * has the table. The low areas follow boot.rst's "Memory Layout" advice for 2.02+ kernels (everything the loader
 * writes sits below 0xA0000, above the real-mode IVT/BDA) and the PC's reserved EBDA and BIOS areas.
 */
public final class BootMemoryMap {
    /** GDT: 0x00 null, 0x08 32-bit flat code, 0x10 64-bit code, 0x18 flat data, 0x20 TSS (written by the VMM). */
    public static final long GDT = 0x500;
    /** Empty IDT (interrupts are off at entry), after the five GDT entries. */
    public static final long IDT = 0x540;
    /** Linux's struct boot_params (the "zero page", 4 KiB). */
    public static final long ZERO_PAGE = 0x7000;
    /** Initial RSP/ESP. */
    public static final long BOOT_STACK = 0x8ff0;
    /** PML4 of the boot identity map. */
    public static final long PML4 = 0x9000;
    /** PDPT of the boot identity map. */
    public static final long PDPT = 0xA000;
    /** First of four page directories (0xB000-0xEFFF) mapping the first 4 GiB with 2 MiB pages. */
    public static final long PD = 0xB000;
    /** Multiboot information structure, followed by its memory map, module list and strings (to 0x1FFFF). */
    public static final long MULTIBOOT_INFO = 0x10000;
    /** Kernel command line, NUL-terminated. */
    public static final long CMDLINE = 0x20000;
    /** Bytes reserved for the command line, its NUL included. */
    public static final long CMDLINE_MAX = 0x10000;
    /** Extended BIOS data area (reserved in e820) up to 0xA0000. */
    public static final long EBDA = 0x9FC00;
    /** ACPI tables area (reserved in e820); the RSDP sits 16-byte aligned in here, where Linux scans for it. */
    public static final long ACPI_START = 0xE0000;
    /** End of the ACPI tables area. */
    public static final long ACPI_END = 0x100000;
    /** 1 MiB: kernels load from here up; nothing of a kernel image may land below. */
    public static final long HIMEM_START = 0x100000;

    private BootMemoryMap() {
    }
}
