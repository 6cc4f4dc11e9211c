package org.jkvm.loader;

import java.util.List;

/**
 * Linux's struct boot_params, the "zero page" (arch/x86/include/uapi/asm/bootparam.h, Documentation/arch/x86/
 * zero-page.rst, and boot.rst "Details of Header Fields" for the setup header at 0x1f1), built in a 4 KiB array
 * that starts all zero, as the 64-bit boot protocol requires.
 */
final class ZeroPage {
    static final int SIZE = 4096;

    // struct boot_params (zero-page.rst)
    static final int ACPI_RSDP_ADDR = 0x070;
    static final int E820_ENTRIES = 0x1e8;
    static final int SENTINEL = 0x1ef;
    static final int E820_TABLE = 0x2d0;
    static final int E820_MAX_ENTRIES = 128;
    static final int E820_ENTRY_SIZE = 20;

    // struct setup_header at 0x1f1 (boot.rst), offsets from the start of boot_params / the image
    static final int SETUP_HEADER = 0x1f1;
    static final int SETUP_SECTS = 0x1f1;
    static final int SYSSIZE = 0x1f4;
    static final int VID_MODE = 0x1fa;
    static final int BOOT_FLAG = 0x1fe;
    static final int JUMP = 0x200;
    static final int HEADER = 0x202;
    static final int VERSION = 0x206;
    static final int TYPE_OF_LOADER = 0x210;
    static final int LOADFLAGS = 0x211;
    static final int CODE32_START = 0x214;
    static final int RAMDISK_IMAGE = 0x218;
    static final int RAMDISK_SIZE = 0x21c;
    static final int HEAP_END_PTR = 0x224;
    static final int CMD_LINE_PTR = 0x228;
    static final int INITRD_ADDR_MAX = 0x22c;
    static final int KERNEL_ALIGNMENT = 0x230;
    static final int RELOCATABLE_KERNEL = 0x234;
    static final int XLOADFLAGS = 0x236;
    static final int CMDLINE_SIZE = 0x238;
    static final int PREF_ADDRESS = 0x258;
    static final int INIT_SIZE = 0x260;
    /** boot_params reserves up to 0x290 for the setup header (its _pad7 ends there). */
    static final int SETUP_HEADER_LIMIT = 0x290;

    static final int BOOT_FLAG_MAGIC = 0xAA55;
    static final int HDRS_MAGIC = 0x53726448;
    /** "Undefined" boot loader id (boot.rst type_of_loader: 0xFF). */
    static final int LOADER_UNDEFINED = 0xff;
    static final int LOADED_HIGH = 1;
    static final int CAN_USE_HEAP = 1 << 7;
    static final int XLF_KERNEL_64 = 1;
    /** vid_mode "normal" (boot.rst "Special Command Line Options": vga=normal is 0xFFFF). */
    static final int VID_MODE_NORMAL = 0xffff;
    /**
     * boot.rst's sample configuration puts the heap end at 0xE000 in the real-mode segment; heap_end_ptr is that
     * minus 0x200. jkvm never runs the real-mode setup code, so the value only needs to be sane.
     */
    static final int HEAP_END_PTR_VALUE = 0xe000 - 0x200;

    final byte[] bytes = new byte[SIZE];

    /** Copies the kernel's setup header {@code [0x1f1, headerEnd)} from {@code image}. */
    void copySetupHeader(byte[] image, int headerEnd) {
        System.arraycopy(image, SETUP_HEADER, bytes, SETUP_HEADER, headerEnd - SETUP_HEADER);
    }

    /** Fields every jkvm boot sets: loader id, command line, initrd, video mode, e820 map and the ACPI RSDP. */
    void fillCommon(long cmdlineGpa, long initrdGpa, long initrdSizeBytes, List<E820.Entry> e820,
                    long acpiRsdpGpa) {
        Le.put8(bytes, TYPE_OF_LOADER, LOADER_UNDEFINED);
        Le.put16(bytes, VID_MODE, VID_MODE_NORMAL);
        Le.put32(bytes, CMD_LINE_PTR, cmdlineGpa);
        Le.put32(bytes, RAMDISK_IMAGE, initrdGpa);
        Le.put32(bytes, RAMDISK_SIZE, initrdSizeBytes);
        if (acpiRsdpGpa != 0) {
            Le.put64(bytes, ACPI_RSDP_ADDR, acpiRsdpGpa);
        }
        writeE820(e820);
    }

    private void writeE820(List<E820.Entry> e820) {
        if (e820.size() > E820_MAX_ENTRIES) {
            throw new IllegalArgumentException("e820 map has " + e820.size() + " entries, more than 128");
        }
        Le.put8(bytes, E820_ENTRIES, e820.size());
        int o = E820_TABLE;
        for (E820.Entry e : e820) {
            Le.put64(bytes, o, e.addr());
            Le.put64(bytes, o + 8, e.size());
            Le.put32(bytes, o + 16, e.type());
            o += E820_ENTRY_SIZE;
        }
    }
}
