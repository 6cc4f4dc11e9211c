package org.jkvm.loader;

import java.util.ArrayList;
import java.util.List;

/**
 * The parts of an ELF executable a loader needs (System V gABI, "ELF Header" and "Program Header"; both ELFCLASS32
 * and ELFCLASS64, little-endian): the entry point and the PT_LOAD segments. Every field is checked against the file:
 * header and program header table inside the file, p_offset + p_filesz inside the file, p_filesz &lt;= p_memsz, no
 * address arithmetic that overflows.
 */
record ElfImage(int elfClass, int machine, long entry, List<Segment> segments) {
    static final int CLASS_32 = 1;
    static final int CLASS_64 = 2;
    static final int EM_386 = 3;
    static final int EM_X86_64 = 62;
    static final int ET_EXEC = 2;
    private static final int PT_LOAD = 1;
    private static final int PN_XNUM = 0xffff;

    /** One PT_LOAD segment with a nonzero memory size. */
    record Segment(int index, long fileOffset, long vaddr, long paddr, long fileSize, long memSize) {
        long paddrEnd() {
            return paddr + memSize;
        }
    }

    /** True if {@code head} starts with the ELF magic {@code 0x7f 'E' 'L' 'F'}. */
    static boolean isElf(byte[] head) {
        return head.length >= 20 && head[0] == 0x7f && head[1] == 'E' && head[2] == 'L' && head[3] == 'F';
    }

    /** e_ident[EI_CLASS] of an ELF header. */
    static int elfClass(byte[] head) {
        return head[4] & 0xff;
    }

    /** e_machine of an ELF header. */
    static int machine(byte[] head) {
        return Le.u16(head, 18);
    }

    static ElfImage parse(ImageFile f) throws KernelLoadException {
        byte[] h = f.readUpTo(0, 64);
        if (!isElf(h)) {
            throw f.error("not an ELF file (bad magic)");
        }
        int cls = elfClass(h);
        if (cls != CLASS_32 && cls != CLASS_64) {
            throw f.error("ELF class " + cls + " is neither ELFCLASS32 nor ELFCLASS64");
        }
        boolean is64 = cls == CLASS_64;
        h = f.read(0, is64 ? 64 : 52);
        if (h[5] != 1) {
            throw f.error("ELF data encoding " + h[5] + " is not little-endian (ELFDATA2LSB)");
        }
        if (h[6] != 1 || Le.u32(h, 20) != 1) {
            throw f.error("ELF version is not EV_CURRENT (1)");
        }
        int type = Le.u16(h, 16);
        if (type != ET_EXEC) {
            throw f.error("ELF type " + type + " is not an executable (ET_EXEC)");
        }
        int machine = machine(h);
        long entry = is64 ? Le.u64(h, 24) : Le.u32(h, 24);
        long phoff = is64 ? Le.u64(h, 32) : Le.u32(h, 28);
        int phentsize = Le.u16(h, is64 ? 54 : 42);
        int phnum = Le.u16(h, is64 ? 56 : 44);
        int minEntSize = is64 ? 56 : 32;
        if (phnum == 0) {
            throw f.error("ELF file has no program headers");
        }
        if (phnum == PN_XNUM) {
            throw f.error("ELF file uses extended program header numbering (PN_XNUM), which is not supported");
        }
        if (phentsize < minEntSize) {
            throw f.error("ELF program header size " + phentsize + " is smaller than " + minEntSize);
        }
        f.requireRange("the ELF program header table", phoff, (long) phnum * phentsize);
        byte[] ph = f.read(phoff, phnum * phentsize);
        List<Segment> segments = new ArrayList<>();
        for (int i = 0; i < phnum; i++) {
            int o = i * phentsize;
            if (Le.u32(ph, o) != PT_LOAD) {
                continue;
            }
            long offset = is64 ? Le.u64(ph, o + 8) : Le.u32(ph, o + 4);
            long vaddr = is64 ? Le.u64(ph, o + 16) : Le.u32(ph, o + 8);
            long paddr = is64 ? Le.u64(ph, o + 24) : Le.u32(ph, o + 12);
            long filesz = is64 ? Le.u64(ph, o + 32) : Le.u32(ph, o + 16);
            long memsz = is64 ? Le.u64(ph, o + 40) : Le.u32(ph, o + 20);
            String name = "segment " + i;
            if (Long.compareUnsigned(filesz, memsz) > 0) {
                throw f.error(name + " has p_filesz " + Le.hex(filesz) + " larger than p_memsz " + Le.hex(memsz));
            }
            if (memsz == 0) {
                continue;
            }
            f.requireRange(name, offset, filesz);
            if (paddr < 0 || memsz < 0 || paddr + memsz < paddr) {
                throw f.error(name + " at p_paddr " + Le.hex(paddr) + " with p_memsz " + Le.hex(memsz)
                        + " overflows the address space");
            }
            segments.add(new Segment(i, offset, vaddr, paddr, filesz, memsz));
        }
        if (segments.isEmpty()) {
            throw f.error("ELF file has no loadable (PT_LOAD) segments");
        }
        return new ElfImage(cls, machine, entry, List.copyOf(segments));
    }

    /**
     * The physical entry point: e_entry itself when it lies in a segment's physical range (Linux's vmlinux, most
     * multiboot kernels), else translated through the segment whose virtual range holds it (higher-half kernels).
     */
    long entryPhysical(ImageFile f) throws KernelLoadException {
        for (Segment s : segments) {
            if (entry >= s.paddr() && entry - s.paddr() < s.memSize()) {
                return entry;
            }
        }
        for (Segment s : segments) {
            if (Long.compareUnsigned(entry, s.vaddr()) >= 0 && Long.compareUnsigned(entry - s.vaddr(), s.memSize()) < 0) {
                return s.paddr() + (entry - s.vaddr());
            }
        }
        throw f.error("ELF entry point " + Le.hex(entry) + " is not inside any loadable segment");
    }

    /** Lowest p_paddr of the segments. */
    long startGpa() {
        return segments.stream().mapToLong(Segment::paddr).min().orElseThrow();
    }

    /** Highest p_paddr + p_memsz of the segments. */
    long endGpa() {
        return segments.stream().mapToLong(Segment::paddrEnd).max().orElseThrow();
    }
}
