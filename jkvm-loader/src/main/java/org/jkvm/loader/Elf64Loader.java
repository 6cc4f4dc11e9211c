package org.jkvm.loader;

import static org.jkvm.loader.ZeroPage.*;

import org.jkvm.memory.GuestMemory;
import org.jkvm.memory.PcMemoryLayout;

/**
 * Loads a 64-bit x86-64 ELF kernel such as Linux's vmlinux: each PT_LOAD segment at its p_paddr (bss zeroed), entry
 * at e_entry (physical), entered with the Linux 64-bit boot protocol (boot.rst "64-bit Boot Protocol"). Since there
 * is no setup header in the file, the zero page's header fields are filled in by hand the way a bzImage would carry
 * them (boot_flag, "HdrS", protocol 2.15, kernel_alignment 16 MiB).
 */
final class Elf64Loader {
    static final int PROTOCOL_VERSION = 0x020f;
    static final long KERNEL_ALIGNMENT_VALUE = 0x1000000;
    /** Linux/x86's COMMAND_LINE_SIZE (arch/x86/include/asm/setup.h) less the NUL. */
    static final long MAX_CMDLINE_CHARS = 2047;

    private Elf64Loader() {
    }

    static LoadedKernel load(ImageFile f, BootConfig config, GuestMemory memory, ImageFile initrd)
            throws KernelLoadException {
        PcMemoryLayout layout = config.layout();
        ElfImage elf = ElfImage.parse(f);
        if (elf.elfClass() != ElfImage.CLASS_64 || elf.machine() != ElfImage.EM_X86_64) {
            throw f.error("not a 64-bit x86-64 ELF (class " + elf.elfClass() + ", machine " + elf.machine() + ")");
        }
        LoadPlan plan = new LoadPlan(f);
        for (ElfImage.Segment s : elf.segments()) {
            String name = "segment " + s.index();
            Placement.check(f, name, s.paddr(), s.memSize(), layout, true);
            plan.copy(name, f, s.fileOffset(), s.fileSize(), s.paddr(), s.memSize());
        }
        long entry = elf.entryPhysical(f);
        long kernelEnd = elf.endGpa();
        byte[] cmdline = CommandLine.encode(f, config.cmdline(), MAX_CMDLINE_CHARS, "Linux's COMMAND_LINE_SIZE");

        long initrdGpa = 0;
        long initrdSize = 0;
        if (initrd != null) {
            initrdSize = initrd.sizeBytes();
            long limit = Math.min(BzImageLoader.DEFAULT_INITRD_ADDR_MAX + 1, layout.lowRamEnd());
            initrdGpa = InitrdPlacement.highBelow(initrd, initrdSize, kernelEnd, limit);
            plan.copy("initrd", initrd, 0, initrdSize, initrdGpa, initrdSize);
        }

        ZeroPage zp = new ZeroPage();
        Le.put16(zp.bytes, BOOT_FLAG, BOOT_FLAG_MAGIC);
        Le.put32(zp.bytes, HEADER, HDRS_MAGIC);
        Le.put16(zp.bytes, VERSION, PROTOCOL_VERSION);
        Le.put32(zp.bytes, KERNEL_ALIGNMENT, KERNEL_ALIGNMENT_VALUE);
        Le.put32(zp.bytes, CMDLINE_SIZE, MAX_CMDLINE_CHARS);
        zp.fillCommon(BootMemoryMap.CMDLINE, initrdGpa, initrdSize, E820.forLayout(layout), config.acpiRsdpGpa());
        plan.blob("zero page", BootMemoryMap.ZERO_PAGE, zp.bytes);
        plan.blob("command line", BootMemoryMap.CMDLINE, cmdline);
        plan.apply(memory);
        return new LoadedKernel(KernelFormat.ELF64, EntryMode.LINUX_64, entry, BootMemoryMap.ZERO_PAGE,
                elf.startGpa(), kernelEnd, initrdGpa, initrdSize);
    }
}
