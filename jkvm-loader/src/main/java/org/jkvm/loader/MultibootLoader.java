package org.jkvm.loader;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.jkvm.memory.GuestMemory;
import org.jkvm.memory.PcMemoryLayout;

/**
 * Loads a Multiboot 0.6.96 image: with header flag 16 through the a.out kludge address fields (section 3.1.3),
 * otherwise as an ELF executable (ELF32 i386, or ELF64 x86-64 with a 32-bit entry, as QEMU accepts) at its
 * p_paddr. Builds the multiboot information structure (section 3.3) at {@link BootMemoryMap#MULTIBOOT_INFO}:
 * mem_lower/mem_upper, the command line, the initrd as module 0 (page aligned, after the image), the memory map from
 * {@link E820} and boot_loader_name "jkvm".
 */
final class MultibootLoader {
    static final long BOOTLOADER_MAGIC = 0x2BADB002L;
    static final String LOADER_NAME = "jkvm";

    // multiboot_info flags (section 3.3)
    static final int INFO_MEMORY = 1;
    static final int INFO_CMDLINE = 1 << 2;
    static final int INFO_MODS = 1 << 3;
    static final int INFO_MMAP = 1 << 6;
    static final int INFO_LOADER_NAME = 1 << 9;

    // multiboot_info field offsets
    static final int FLAGS = 0;
    static final int MEM_LOWER = 4;
    static final int MEM_UPPER = 8;
    static final int CMDLINE = 16;
    static final int MODS_COUNT = 20;
    static final int MODS_ADDR = 24;
    static final int MMAP_LENGTH = 44;
    static final int MMAP_ADDR = 48;
    static final int BOOT_LOADER_NAME = 64;
    /** The info structure with every field up to the framebuffer info (0x74 bytes), rounded up. */
    static final int INFO_BYTES = 0x80;
    static final int MMAP_ENTRY_BYTES = 24;
    static final int MODULE_BYTES = 16;
    private static final long KIB = 1024;

    private MultibootLoader() {
    }

    static LoadedKernel load(ImageFile f, BootConfig config, GuestMemory memory, ImageFile initrd,
                             MultibootHeader hdr) throws KernelLoadException {
        PcMemoryLayout layout = config.layout();
        long unsupported = hdr.flags() & MultibootHeader.REQUIRED_MASK & ~MultibootHeader.SUPPORTED_REQUIRED;
        if (unsupported != 0) {
            throw f.error("multiboot header at " + Le.hex(hdr.fileOffset()) + " requires features jkvm does not "
                    + "provide (flag bits " + bitList(unsupported) + ((unsupported & MultibootHeader.VIDEO_MODE) != 0
                    ? "; bit 2 asks for a graphics video mode" : "") + ")");
        }
        LoadPlan plan = new LoadPlan(f);
        long start;
        long end;
        long entry;
        if (hdr.hasAddressFields()) {
            long[] r = planAout(f, hdr, layout, plan);
            start = r[0];
            end = r[1];
            entry = r[2];
        } else {
            ElfImage elf = parseElf(f);
            for (ElfImage.Segment s : elf.segments()) {
                String name = "segment " + s.index();
                Placement.check(f, name, s.paddr(), s.memSize(), layout, true);
                plan.copy(name, f, s.fileOffset(), s.fileSize(), s.paddr(), s.memSize());
            }
            start = elf.startGpa();
            end = elf.endGpa();
            entry = elf.entryPhysical(f);
        }
        byte[] cmdline = CommandLine.encode(f, config.cmdline(), BootMemoryMap.CMDLINE_MAX - 1,
                "jkvm's command line area");

        long modGpa = 0;
        long modSize = 0;
        byte[] modName = new byte[0];
        if (initrd != null) {
            modSize = initrd.sizeBytes();
            modGpa = InitrdPlacement.afterImage(initrd, modSize, end, layout.lowRamEnd());
            plan.copy("module 0 (initrd)", initrd, 0, modSize, modGpa, modSize);
            Object name = initrd.path().getFileName();
            modName = String.valueOf(name == null ? "" : name).getBytes(StandardCharsets.UTF_8);
        }
        byte[] info = buildInfo(f, layout, modGpa, modSize, modName);
        plan.blob("multiboot information", BootMemoryMap.MULTIBOOT_INFO, info);
        plan.blob("command line", BootMemoryMap.CMDLINE, cmdline);
        plan.apply(memory);
        return new LoadedKernel(KernelFormat.MULTIBOOT, EntryMode.MULTIBOOT_32, entry,
                BootMemoryMap.MULTIBOOT_INFO, start, end, modGpa, modSize);
    }

    /** Plans the a.out kludge load; returns {start, end, entry}. */
    private static long[] planAout(ImageFile f, MultibootHeader h, PcMemoryLayout layout, LoadPlan plan)
            throws KernelLoadException {
        if (h.fieldBytes() < MultibootHeader.AOUT_HEADER_BYTES) {
            throw f.error("multiboot header at " + Le.hex(h.fileOffset()) + " is cut off: the address fields "
                    + "(flag 16) must lie within the first 8192 bytes");
        }
        if (h.headerAddr() < h.loadAddr()) {
            throw f.error("multiboot header_addr " + Le.hex(h.headerAddr()) + " is below load_addr "
                    + Le.hex(h.loadAddr()));
        }
        long fileOffset = h.fileOffset() - (h.headerAddr() - h.loadAddr());
        if (fileOffset < 0) {
            throw f.error("multiboot load_addr " + Le.hex(h.loadAddr()) + " would start "
                    + (-fileOffset) + " bytes before the beginning of the file");
        }
        long loadEnd = h.loadEndAddr() == 0 ? h.loadAddr() + (f.sizeBytes() - fileOffset) : h.loadEndAddr();
        if (loadEnd < h.loadAddr()) {
            throw f.error("multiboot load_end_addr " + Le.hex(loadEnd) + " is below load_addr "
                    + Le.hex(h.loadAddr()));
        }
        long fileBytes = loadEnd - h.loadAddr();
        f.requireRange("the multiboot text and data (load_addr to load_end_addr)", fileOffset, fileBytes);
        long end = loadEnd;
        if (h.bssEndAddr() != 0) {
            if (h.bssEndAddr() < loadEnd) {
                throw f.error("multiboot bss_end_addr " + Le.hex(h.bssEndAddr()) + " is below load_end_addr "
                        + Le.hex(loadEnd));
            }
            end = h.bssEndAddr();
        }
        Placement.check(f, "multiboot image", h.loadAddr(), end - h.loadAddr(), layout, true);
        if (h.entryAddr() < h.loadAddr() || h.entryAddr() >= end) {
            throw f.error("multiboot entry_addr " + Le.hex(h.entryAddr()) + " is outside the loaded image ["
                    + Le.hex(h.loadAddr()) + ", " + Le.hex(end) + ")");
        }
        plan.copy("multiboot image", f, fileOffset, fileBytes, h.loadAddr(), end - h.loadAddr());
        return new long[] {h.loadAddr(), end, h.entryAddr()};
    }

    private static ElfImage parseElf(ImageFile f) throws KernelLoadException {
        byte[] head = f.readUpTo(0, 64);
        if (!ElfImage.isElf(head)) {
            throw f.error("multiboot header has no address fields (flag 16 clear) and the image is not ELF");
        }
        ElfImage elf = ElfImage.parse(f);
        boolean ok = elf.elfClass() == ElfImage.CLASS_32 ? elf.machine() == ElfImage.EM_386
                : elf.machine() == ElfImage.EM_X86_64;
        if (!ok) {
            throw f.error("multiboot ELF machine " + elf.machine() + " is not i386 or x86-64");
        }
        return elf;
    }

    private static byte[] buildInfo(ImageFile f, PcMemoryLayout layout, long modGpa, long modSize, byte[] modName)
            throws KernelLoadException {
        List<E820.Entry> e820 = E820.forLayout(layout);
        int mmapOff = INFO_BYTES;
        int mmapLen = e820.size() * MMAP_ENTRY_BYTES;
        int modsOff = mmapOff + mmapLen;
        int namesOff = modsOff + (modSize > 0 ? MODULE_BYTES : 0);
        int loaderNameOff = namesOff;
        int modNameOff = loaderNameOff + LOADER_NAME.length() + 1;
        int total = modNameOff + (modSize > 0 ? modName.length + 1 : 0);
        long room = BootMemoryMap.CMDLINE - BootMemoryMap.MULTIBOOT_INFO;
        if (total > room) {
            throw f.error("the multiboot information (" + total + " bytes, with the module's name) does not fit in "
                    + room + " bytes");
        }
        byte[] b = new byte[total];
        long base = BootMemoryMap.MULTIBOOT_INFO;
        int flags = INFO_MEMORY | INFO_CMDLINE | INFO_MODS | INFO_MMAP | INFO_LOADER_NAME;
        Le.put32(b, FLAGS, flags);
        Le.put32(b, MEM_LOWER, BootMemoryMap.EBDA / KIB);
        Le.put32(b, MEM_UPPER, (layout.lowRamEnd() - BootMemoryMap.HIMEM_START) / KIB);
        Le.put32(b, CMDLINE, BootMemoryMap.CMDLINE);
        Le.put32(b, MODS_COUNT, modSize > 0 ? 1 : 0);
        Le.put32(b, MODS_ADDR, modSize > 0 ? base + modsOff : 0);
        Le.put32(b, MMAP_LENGTH, mmapLen);
        Le.put32(b, MMAP_ADDR, base + mmapOff);
        Le.put32(b, BOOT_LOADER_NAME, base + loaderNameOff);
        int o = mmapOff;
        for (E820.Entry e : e820) {
            Le.put32(b, o, MMAP_ENTRY_BYTES - 4); // size excludes the size field itself
            Le.put64(b, o + 4, e.addr());
            Le.put64(b, o + 12, e.size());
            Le.put32(b, o + 20, e.type());
            o += MMAP_ENTRY_BYTES;
        }
        if (modSize > 0) {
            Le.put32(b, modsOff, modGpa);
            Le.put32(b, modsOff + 4, modGpa + modSize);
            Le.put32(b, modsOff + 8, base + modNameOff);
            System.arraycopy(modName, 0, b, modNameOff, modName.length);
        }
        byte[] name = LOADER_NAME.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(name, 0, b, loaderNameOff, name.length);
        return b;
    }

    private static String bitList(long bits) {
        List<String> l = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            if ((bits & (1L << i)) != 0) {
                l.add(Integer.toString(i));
            }
        }
        return String.join(", ", l);
    }
}
