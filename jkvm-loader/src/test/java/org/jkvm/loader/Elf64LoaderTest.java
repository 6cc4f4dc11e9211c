package org.jkvm.loader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jkvm.loader.TestImages.le;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;

import org.junit.jupiter.api.Test;

class Elf64LoaderTest extends LoaderTestBase {
    private static final byte[] TEXT = TestImages.pattern(0x3000, 11);
    private static final byte[] DATA = TestImages.pattern(0x800, 22);

    /** A vmlinux-like ELF64: text at 16 MiB, data + bss at 18 MiB, linked high (vaddr != paddr). */
    static TestImages.Elf vmlinux() {
        TestImages.Elf e = new TestImages.Elf();
        e.entry = 0x1000000;
        e.segment(0x1000000, 0xffffffff81000000L, TEXT, TEXT.length);
        e.segment(0x1200000, 0xffffffff81200000L, DATA, 0x2000);
        return e;
    }

    @Test
    void loadsSegmentsAtPaddrZeroesBssAndFillsTheZeroPage() throws Exception {
        Path kernel = file("vmlinux", vmlinux().build());
        Path initrd = file("initrd", TestImages.pattern(0x1800, 5));
        memory().fill(0x1200000, 0x2000, (byte) 0x77); // stale data (e.g. from before a reboot) must be cleared

        LoadedKernel k = load(kernel, "console=ttyS0 earlyprintk", initrd);

        assertThat(k).isEqualTo(new LoadedKernel(KernelFormat.ELF64, EntryMode.LINUX_64, 0x1000000, 0x7000,
                0x1000000, 0x1202000, 128 * MIB - 0x2000, 0x1800));
        assertThat(read(0x1000000, TEXT.length)).isEqualTo(TEXT);
        assertThat(read(0x1200000, DATA.length)).isEqualTo(DATA);
        assertThat(read(0x1200000 + DATA.length, 0x2000 - DATA.length)).as("bss").containsOnly(0);
        assertThat(read(k.initrdGpa(), 0x1800)).isEqualTo(TestImages.pattern(0x1800, 5));
        assertThat(cString(BootMemoryMap.CMDLINE)).isEqualTo("console=ttyS0 earlyprintk");

        ByteBuffer zp = le(zeroPage());
        assertThat(zp.getShort(0x1fe)).isEqualTo((short) 0xAA55);
        assertThat(zp.getInt(0x202)).isEqualTo(0x53726448);
        assertThat(zp.getShort(0x206)).isEqualTo((short) 0x020f);
        assertThat(zp.get(0x210) & 0xff).isEqualTo(0xff);
        assertThat(zp.getInt(0x230)).isEqualTo(0x1000000);
        assertThat(zp.getInt(0x228)).isEqualTo(0x20000);
        assertThat(zp.getInt(0x238)).isEqualTo(2047);
        assertThat(zp.getInt(0x218)).isEqualTo((int) (128 * MIB - 0x2000));
        assertThat(zp.getInt(0x21c)).isEqualTo(0x1800);
        assertThat(zp.getLong(0x070)).isEqualTo(0xE0000);
        assertThat(zp.getShort(0x1fa)).isEqualTo((short) 0xffff);
        BzImageLoaderTest.assertE820(zp, new long[][] {{0, 0x9FC00, 1}, {0x9FC00, 0x400, 2},
                {0xE0000, 0x20000, 2}, {0x100000, 127 * MIB, 1}});
        byte[] raw = zeroPage();
        assertThat(Arrays.copyOfRange(raw, 0x78, 0x1e8)).containsOnly(0);
        assertThat(Arrays.copyOfRange(raw, 0x23c, 0x2d0)).containsOnly(0);
    }

    @Test
    void initrdDefaultsBelowInitrdAddrMaxOnBigGuestsAndNoRsdpMeansZero() throws Exception {
        useLayout(6 * GIB);
        Path kernel = file("vmlinux", vmlinux().build());
        Path initrd = file("initrd", TestImages.pattern(100, 5));
        LoadedKernel k = KernelLoader.load(kernel, config("", initrd, 0), memory());
        assertThat(k.initrdGpa()).isEqualTo(0x38000000L - 0x1000);
        assertThat(le(zeroPage()).getLong(0x070)).isZero();
        BzImageLoaderTest.assertE820(le(zeroPage()), new long[][] {{0, 0x9FC00, 1}, {0x9FC00, 0x400, 2},
                {0xE0000, 0x20000, 2}, {0x100000, 3 * GIB - MIB, 1}, {4 * GIB, 3 * GIB, 1}});
    }

    @Test
    void translatesAVirtualEntryPointThroughItsSegment() throws Exception {
        TestImages.Elf e = vmlinux();
        e.entry = 0xffffffff81000040L;
        assertThat(load(file("v", e.build()), "", null).entryGpa()).isEqualTo(0x1000040);
    }

    @Test
    void loadsABssOnlySegmentWhateverItsFileOffset() throws Exception {
        TestImages.Elf e = vmlinux();
        e.segment(0x1400000, new byte[0], 0x3000);
        byte[] b = e.build();
        le(b).putLong(e.phdrOffset(2) + 8, 0x7fff0000L); // p_offset past the end, but p_filesz is 0
        memory().fill(0x1400000, 0x3000, (byte) 0x55);
        LoadedKernel k = load(file("bss", b), "", null);
        assertThat(k.kernelEndGpa()).isEqualTo(0x1403000);
        assertThat(read(0x1400000, 0x3000)).containsOnly(0);
    }

    @Test
    void refusesSegmentsInForbiddenPlaces() throws Exception {
        assertRefused(file("low", one(0x90000))).hasMessageContaining("segment 0 [0x90000, 0x91000) starts below 1 MiB");
        assertRefused(file("hole", one(0xC0000000L - 0x800)))
                .hasMessageContaining("overlaps the 32-bit MMIO hole");
        assertRefused(file("beyond", one(200 * MIB))).hasMessageContaining("lies beyond guest RAM");
        assertRefused(file("high", one(5 * GIB))).hasMessageContaining("above 4 GiB");
        assertRefused(file("wrap", one(-4096))).hasMessageContaining("overflows");
        TestImages.Elf e = vmlinux();
        e.segs.set(1, new TestImages.Elf.Seg(0x1002000, 0x1002000, DATA, 0x800));
        assertRefused(file("overlap", e.build()))
                .hasMessageContaining("segment 0 [0x1000000, 0x1003000) overlaps segment 1 [0x1002000, 0x1002800)");
    }

    @Test
    void refusesCorruptHeaders() throws Exception {
        TestImages.Elf e = vmlinux();
        byte[] good = e.build();

        byte[] b = good.clone();
        le(b).putLong(e.phdrOffset(1) + 32, 0x3000); // p_filesz > p_memsz (0x2000)
        assertRefused(file("filesz", b)).hasMessageContaining("segment 1 has p_filesz 0x3000 larger than p_memsz 0x2000");

        b = good.clone();
        le(b).putLong(e.phdrOffset(0) + 8, 0x7fffffffffff0000L); // p_offset beyond the file
        assertRefused(file("offset", b)).hasMessageContaining("truncated: segment 0");

        b = good.clone();
        le(b).putLong(e.phdrOffset(0) + 8, -16); // p_offset + p_filesz wraps
        assertRefused(file("wrapoff", b)).hasMessageContaining("truncated: segment 0");

        b = good.clone();
        le(b).putLong(32, 0x10000000L); // e_phoff beyond the file
        assertRefused(file("phoff", b)).hasMessageContaining("program header table");

        b = good.clone();
        le(b).putShort(54, (short) 20); // e_phentsize too small
        assertRefused(file("phentsize", b)).hasMessageContaining("program header size 20");

        b = good.clone();
        le(b).putShort(56, (short) 0);
        assertRefused(file("phnum", b)).hasMessageContaining("no program headers");

        b = good.clone();
        le(b).putShort(16, (short) 3); // ET_DYN
        assertRefused(file("dyn", b)).hasMessageContaining("not an executable");

        b = good.clone();
        b[5] = 2; // big-endian
        assertRefused(file("be", b)).hasMessageContaining("not little-endian");

        b = good.clone();
        le(b).putInt(e.phdrOffset(0), 4);
        le(b).putInt(e.phdrOffset(1), 4); // no PT_LOAD left
        assertRefused(file("noload", b)).hasMessageContaining("no loadable");

        b = good.clone();
        le(b).putLong(24, 0x5000000); // e_entry outside every segment
        assertRefused(file("entry", b)).hasMessageContaining("entry point 0x5000000 is not inside");

        assertRefused(file("cut", Arrays.copyOf(good, 0x1800))).hasMessageContaining("truncated: segment 0");
        assertRefused(file("cuthdr", Arrays.copyOf(good, 40))).hasMessageContaining("truncated");
    }

    @Test
    void refusesTooLongCommandLinesAndInitrdsThatDoNotFit() throws Exception {
        Path kernel = file("vmlinux", vmlinux().build());
        assertRefused(kernel, config("y".repeat(2048), null, 0), kernel)
                .hasMessageContaining("2048 bytes; at most 2047 fit (Linux's COMMAND_LINE_SIZE)");
        TestImages.Elf e = new TestImages.Elf();
        e.entry = 0x1000000;
        e.segment(0x1000000, TEXT, TEXT.length);
        e.segment(127 * MIB, DATA, MIB - 0x1000); // ends 4 KiB below the top: no room above the kernel
        Path top = file("top", e.build());
        Path initrd = file("initrd", TestImages.pattern(0x2000, 1));
        assertRefused(top, config("", initrd, 0), initrd).hasMessageContaining("does not fit");
    }

    private static byte[] one(long paddr) {
        TestImages.Elf e = new TestImages.Elf();
        e.entry = paddr;
        e.segment(paddr, TestImages.pattern(0x1000, 1), 0x1000);
        return e.build();
    }
}
