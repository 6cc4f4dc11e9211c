package org.jkvm.loader;

import static org.jkvm.loader.ZeroPage.*;

import org.jkvm.memory.GuestMemory;
import org.jkvm.memory.PcMemoryLayout;

/**
 * Loads a Linux bzImage for the 64-bit boot protocol (Documentation/arch/x86/boot.rst: "The Real-Mode Kernel
 * Header", "Loading The Rest of The Kernel", "64-bit Boot Protocol"). The real-mode setup code is not loaded: the
 * VMM enters the protected-mode code's 64-bit entry (load address + 0x200) in long mode with RSI at the zero page.
 */
final class BzImageLoader {
    static final int MIN_VERSION = 0x0206;
    static final int XLOADFLAGS_VERSION = 0x020c;
    static final int ACPI_RSDP_VERSION = 0x020e;
    static final int RELOC_FIELDS_VERSION = 0x020a;
    static final long DEFAULT_INITRD_ADDR_MAX = 0x37FFFFFFL;
    static final int ENTRY_64_OFFSET = 0x200;
    private static final int SECTOR = 512;
    private static final int HEAD_BYTES = 1024;

    private BzImageLoader() {
    }

    /** True if "HdrS" is at 0x202. */
    static boolean hasHdrS(byte[] head) {
        return head.length >= HEADER + 4 && (int) Le.u32(head, HEADER) == HDRS_MAGIC;
    }

    /** Refuses boot protocols older than 2.06 (the first with cmdline_size). */
    static void checkVersion(ImageFile f, byte[] head) throws KernelLoadException {
        if (head.length < VERSION + 2) {
            throw f.error("truncated: the Linux setup header is cut off at " + head.length + " bytes");
        }
        int version = Le.u16(head, VERSION);
        if (version < MIN_VERSION) {
            throw f.error("Linux boot protocol " + versionString(version) + " is too old (2.06 or later is required)");
        }
    }

    static String versionString(int version) {
        return (version >> 8) + "." + String.format("%02d", version & 0xff);
    }

    static LoadedKernel load(ImageFile f, BootConfig config, GuestMemory memory, ImageFile initrd)
            throws KernelLoadException {
        PcMemoryLayout layout = config.layout();
        byte[] head = f.readUpTo(0, HEAD_BYTES);
        if (!hasHdrS(head)) {
            throw f.error("not a bzImage: no \"HdrS\" signature at 0x202");
        }
        checkVersion(f, head);
        int version = Le.u16(head, VERSION);
        String proto = "protocol " + versionString(version);
        int headerEnd = JUMP + 2 + Le.u8(head, JUMP + 1);
        if (headerEnd > SETUP_HEADER_LIMIT) {
            throw f.error("setup header length (end at " + Le.hex(headerEnd) + ", from the jump at 0x200) runs past "
                    + "boot_params' limit 0x290");
        }
        if (headerEnd < CMDLINE_SIZE + 4) {
            throw f.error("setup header ends at " + Le.hex(headerEnd) + ", before cmdline_size, which " + proto
                    + " must have");
        }
        if (head.length < headerEnd) {
            throw f.error("truncated: the setup header needs " + headerEnd + " bytes but the file has " + head.length);
        }
        Header h = new Header(head, headerEnd);
        if (h.u16(BOOT_FLAG) != BOOT_FLAG_MAGIC) {
            throw f.error("boot_flag is " + Le.hex(h.u16(BOOT_FLAG)) + ", not 0xaa55");
        }
        if ((h.u8(LOADFLAGS) & LOADED_HIGH) == 0) {
            throw f.error("is a zImage (loadflags LOADED_HIGH clear); only bzImage kernels are supported");
        }
        if (version < XLOADFLAGS_VERSION) {
            throw f.error("Linux boot " + proto + " predates xloadflags (2.12), so the kernel declares no 64-bit "
                    + "entry point");
        }
        if ((h.u16(XLOADFLAGS) & XLF_KERNEL_64) == 0) {
            throw f.error("kernel has no 64-bit entry point (xloadflags XLF_KERNEL_64 clear); jkvm boots only "
                    + "64-bit kernels");
        }

        int setupSects = h.u8(SETUP_SECTS) == 0 ? 4 : h.u8(SETUP_SECTS);
        long setupBytes = (long) (setupSects + 1) * SECTOR;
        if (setupBytes >= f.sizeBytes()) {
            throw f.error("truncated: the setup code takes " + setupBytes + " bytes (setup_sects " + setupSects
                    + ") but the file has only " + f.sizeBytes());
        }
        long pmBytes = f.sizeBytes() - setupBytes;
        long syssizeBytes = h.u32(SYSSIZE) * 16;
        if (syssizeBytes > pmBytes + 15) {
            throw f.error("truncated: syssize says the protected-mode code is " + syssizeBytes + " bytes but the "
                    + "file holds only " + pmBytes);
        }

        boolean relocatable = h.u8(RELOCATABLE_KERNEL) != 0;
        long alignment = h.u32(KERNEL_ALIGNMENT);
        if (relocatable && (alignment == 0 || (alignment & (alignment - 1)) != 0)) {
            throw f.error("kernel_alignment " + Le.hex(alignment) + " is not a power of two");
        }
        long prefAddress = version >= RELOC_FIELDS_VERSION ? h.u64(PREF_ADDRESS) : 0;
        long initSize = version >= RELOC_FIELDS_VERSION ? h.u32(INIT_SIZE) : 0;
        long footprint = Math.max(pmBytes, initSize);
        long lowEnd = layout.lowRamEnd();

        // Load at pref_address when the kernel is relocatable and its footprint fits there, else at 1 MiB.
        long load = BootMemoryMap.HIMEM_START;
        if (relocatable && prefAddress >= BootMemoryMap.HIMEM_START && prefAddress < lowEnd
                && Placement.alignUp(prefAddress, alignment) <= lowEnd - footprint) {
            load = prefAddress;
        }
        long runtimeStart = relocatable ? Placement.alignUp(load, alignment) : (prefAddress != 0 ? prefAddress : load);
        Placement.check(f, "protected-mode code", load, pmBytes, layout, true);
        if (runtimeStart < BootMemoryMap.HIMEM_START || runtimeStart > lowEnd || footprint > lowEnd - runtimeStart) {
            throw f.error("kernel needs " + footprint + " bytes (init_size) from " + Le.hex(runtimeStart)
                    + " but RAM below the MMIO hole ends at " + Le.hex(lowEnd) + " (give the guest more memory)");
        }
        long kernelStart = Math.min(load, runtimeStart);
        long kernelEnd = Math.max(load + pmBytes, runtimeStart + footprint);

        byte[] cmdline = CommandLine.encode(f, config.cmdline(), h.u32(CMDLINE_SIZE),
                "the kernel's cmdline_size");

        long initrdGpa = 0;
        long initrdSize = 0;
        if (initrd != null) {
            long max = h.u32(INITRD_ADDR_MAX);
            long limit = Math.min((max == 0 ? DEFAULT_INITRD_ADDR_MAX : max) + 1, lowEnd);
            initrdSize = initrd.sizeBytes();
            initrdGpa = InitrdPlacement.highBelow(initrd, initrdSize, kernelEnd, limit);
        }

        ZeroPage zp = new ZeroPage();
        zp.copySetupHeader(head, headerEnd);
        zp.fillCommon(BootMemoryMap.CMDLINE, initrdGpa, initrdSize, E820.forLayout(layout),
                version >= ACPI_RSDP_VERSION ? config.acpiRsdpGpa() : 0);
        Le.put8(zp.bytes, LOADFLAGS, h.u8(LOADFLAGS) | CAN_USE_HEAP);
        Le.put16(zp.bytes, HEAP_END_PTR, HEAP_END_PTR_VALUE);
        Le.put32(zp.bytes, CODE32_START, load);

        LoadPlan plan = new LoadPlan(f);
        plan.copy("protected-mode code", f, setupBytes, pmBytes, load, pmBytes);
        if (initrd != null) {
            plan.copy("initrd", initrd, 0, initrdSize, initrdGpa, initrdSize);
        }
        plan.blob("zero page", BootMemoryMap.ZERO_PAGE, zp.bytes);
        plan.blob("command line", BootMemoryMap.CMDLINE, cmdline);
        plan.apply(memory);
        return new LoadedKernel(KernelFormat.BZIMAGE, EntryMode.LINUX_64, load + ENTRY_64_OFFSET,
                BootMemoryMap.ZERO_PAGE, kernelStart, kernelEnd, initrdGpa, initrdSize);
    }

    /** The kernel's setup header; fields past its end (older protocols) read as zero. */
    private record Header(byte[] head, int end) {
        int u8(int off) {
            return off + 1 <= end ? Le.u8(head, off) : 0;
        }

        int u16(int off) {
            return off + 2 <= end ? Le.u16(head, off) : 0;
        }

        long u32(int off) {
            return off + 4 <= end ? Le.u32(head, off) : 0;
        }

        long u64(int off) {
            return off + 8 <= end ? Le.u64(head, off) : 0;
        }
    }
}
