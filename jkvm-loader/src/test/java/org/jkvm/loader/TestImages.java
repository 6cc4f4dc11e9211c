package org.jkvm.loader;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Builders for the synthetic kernel images the tests load and corrupt. */
final class TestImages {
    private TestImages() {
    }

    static Path write(Path dir, String name, byte[] data) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, data);
        return p;
    }

    static byte[] pattern(int len, int seed) {
        byte[] b = new byte[len];
        for (int i = 0; i < len; i++) {
            b[i] = (byte) (i * 31 + seed);
        }
        return b;
    }

    static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** A minimal bzImage: boot sector + setup sectors with a setup header, then the protected-mode payload. */
    static final class BzImage {
        int setupSects = 4;
        int version = 0x020f;
        int loadflags = ZeroPage.LOADED_HIGH;
        int xloadflags = ZeroPage.XLF_KERNEL_64 | 2;
        boolean relocatable = true;
        long kernelAlignment = 0x200000;
        long prefAddress = 0x1000000;
        long initSize = 0x400000;
        long cmdlineSize = 2047;
        long initrdAddrMax = 0x7fffffff;
        int headerEndByte = 0x6a; // jump displacement at 0x201: header ends at 0x26c (protocol 2.15)
        int bootFlag = 0xAA55;
        byte[] payload = pattern(8192, 7);
        Long syssizeOverride;

        byte[] build() {
            int setup = (setupSects == 0 ? 4 : setupSects) + 1;
            byte[] img = new byte[setup * 512 + payload.length];
            ByteBuffer b = le(img);
            b.put(0x1f1, (byte) setupSects);
            long syssize = syssizeOverride != null ? syssizeOverride : (payload.length + 15) / 16;
            b.putInt(0x1f4, (int) syssize);
            b.putShort(0x1fa, (short) 0xfffd); // the kernel's default vid_mode ("ask"), which the loader overrides
            b.putShort(0x1fe, (short) bootFlag);
            b.put(0x200, (byte) 0xeb);
            b.put(0x201, (byte) headerEndByte);
            b.putInt(0x202, ZeroPage.HDRS_MAGIC);
            b.putShort(0x206, (short) version);
            b.putShort(0x20e, (short) 0x1234); // kernel_version pointer: copied through untouched
            b.put(0x211, (byte) loadflags);
            b.putInt(0x214, 0x100000);
            b.putInt(0x22c, (int) initrdAddrMax);
            b.putInt(0x230, (int) kernelAlignment);
            b.put(0x234, (byte) (relocatable ? 1 : 0));
            b.put(0x235, (byte) 21);
            b.putShort(0x236, (short) xloadflags);
            b.putInt(0x238, (int) cmdlineSize);
            b.putLong(0x258, prefAddress);
            b.putInt(0x260, (int) initSize);
            System.arraycopy(payload, 0, img, setup * 512, payload.length);
            return img;
        }
    }

    /** A minimal ELF executable (ELFCLASS32 or ELFCLASS64) with PT_LOAD segments; data follows the headers. */
    static final class Elf {
        record Seg(long paddr, long vaddr, byte[] data, long memsz) {
        }

        boolean is64 = true;
        int machine = ElfImage.EM_X86_64;
        int type = ElfImage.ET_EXEC;
        long entry;
        List<Seg> segs = new ArrayList<>();
        /** Bytes to put in front of everything after the ELF header (e.g. a multiboot header), at offset 0x100. */
        byte[] prefix;

        Elf segment(long paddr, byte[] data, long memsz) {
            segs.add(new Seg(paddr, paddr, data, memsz));
            return this;
        }

        Elf segment(long paddr, long vaddr, byte[] data, long memsz) {
            segs.add(new Seg(paddr, vaddr, data, memsz));
            return this;
        }

        int phoff() {
            return is64 ? 64 : 52;
        }

        int phentsize() {
            return is64 ? 56 : 32;
        }

        /** File offset of segment {@code i}'s data. */
        int dataOffset(int i) {
            int off = 0x1000;
            for (int k = 0; k < i; k++) {
                off += segs.get(k).data().length;
            }
            return off;
        }

        /** File offset of program header {@code i}. */
        int phdrOffset(int i) {
            return phoff() + i * phentsize();
        }

        byte[] build() {
            int size = dataOffset(segs.size());
            byte[] img = new byte[size];
            ByteBuffer b = le(img);
            img[0] = 0x7f;
            img[1] = 'E';
            img[2] = 'L';
            img[3] = 'F';
            img[4] = (byte) (is64 ? 2 : 1);
            img[5] = 1;
            img[6] = 1;
            b.putShort(16, (short) type);
            b.putShort(18, (short) machine);
            b.putInt(20, 1);
            if (is64) {
                b.putLong(24, entry);
                b.putLong(32, phoff());
                b.putShort(52, (short) 64);
                b.putShort(54, (short) 56);
                b.putShort(56, (short) segs.size());
            } else {
                b.putInt(24, (int) entry);
                b.putInt(28, phoff());
                b.putShort(40, (short) 52);
                b.putShort(42, (short) 32);
                b.putShort(44, (short) segs.size());
            }
            for (int i = 0; i < segs.size(); i++) {
                Seg s = segs.get(i);
                int o = phdrOffset(i);
                int dataOff = dataOffset(i);
                b.putInt(o, 1);
                if (is64) {
                    b.putInt(o + 4, 5);
                    b.putLong(o + 8, dataOff);
                    b.putLong(o + 16, s.vaddr());
                    b.putLong(o + 24, s.paddr());
                    b.putLong(o + 32, s.data().length);
                    b.putLong(o + 40, s.memsz());
                    b.putLong(o + 48, 0x1000);
                } else {
                    b.putInt(o + 4, dataOff);
                    b.putInt(o + 8, (int) s.vaddr());
                    b.putInt(o + 12, (int) s.paddr());
                    b.putInt(o + 16, s.data().length);
                    b.putInt(o + 20, (int) s.memsz());
                    b.putInt(o + 24, 5);
                    b.putInt(o + 28, 0x1000);
                }
                System.arraycopy(s.data(), 0, img, dataOff, s.data().length);
            }
            if (prefix != null) {
                System.arraycopy(prefix, 0, img, 0x100, prefix.length);
            }
            return img;
        }
    }

    /** A multiboot header (12 bytes, or 32 with the address fields), checksum computed. */
    static byte[] multibootHeader(long flags, long headerAddr, long loadAddr, long loadEndAddr, long bssEndAddr,
                                  long entryAddr) {
        boolean aout = (flags & MultibootHeader.AOUT_KLUDGE) != 0;
        byte[] h = new byte[aout ? 32 : 12];
        ByteBuffer b = le(h);
        b.putInt(0, (int) MultibootHeader.MAGIC);
        b.putInt(4, (int) flags);
        b.putInt(8, (int) -(MultibootHeader.MAGIC + flags));
        if (aout) {
            b.putInt(12, (int) headerAddr);
            b.putInt(16, (int) loadAddr);
            b.putInt(20, (int) loadEndAddr);
            b.putInt(24, (int) bssEndAddr);
            b.putInt(28, (int) entryAddr);
        }
        return h;
    }
}
