package org.jkvm.loader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jkvm.loader.TestImages.le;

import java.nio.ByteBuffer;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

class MultibootLoaderTest extends LoaderTestBase {
    private static final long FLAGS = MultibootHeader.PAGE_ALIGN | MultibootHeader.MEMORY_INFO
            | MultibootHeader.AOUT_KLUDGE;

    /** An a.out-kludge image: {@code size} bytes, header at file offset {@code hdrOff}. */
    static byte[] aout(int size, int hdrOff, long flags, long headerAddr, long loadAddr, long loadEnd, long bssEnd,
                       long entry) {
        byte[] img = TestImages.pattern(size, 9);
        byte[] h = TestImages.multibootHeader(flags, headerAddr, loadAddr, loadEnd, bssEnd, entry);
        System.arraycopy(h, 0, img, hdrOff, h.length);
        return img;
    }

    static byte[] aout(long loadEnd, long bssEnd, long entry) {
        return aout(0x2000, 0x40, FLAGS, 0x100040, 0x100000, loadEnd, bssEnd, entry);
    }

    @Test
    void loadsAnAoutKludgeImageAndBuildsTheInfoStructure() throws Exception {
        byte[] img = aout(0x102000, 0x105000, 0x100080);
        Path kernel = file("kernel.mb", img);
        Path initrd = file("initrd.img", TestImages.pattern(0x1234, 4));
        memory().fill(0x102000, 0x3000, (byte) 0x66); // the bss must come out zeroed

        LoadedKernel k = load(kernel, "hello multiboot", initrd);

        assertThat(k).isEqualTo(new LoadedKernel(KernelFormat.MULTIBOOT, EntryMode.MULTIBOOT_32, 0x100080, 0x10000,
                0x100000, 0x105000, 0x105000, 0x1234));
        assertThat(read(0x100000, 0x2000)).isEqualTo(img);
        assertThat(read(0x102000, 0x3000)).as("bss").containsOnly(0);
        assertThat(read(0x105000, 0x1234)).isEqualTo(TestImages.pattern(0x1234, 4));

        ByteBuffer info = le(read(0x10000, 0x80));
        assertThat(info.getInt(0)).as("flags: mem, cmdline, mods, mmap, loader name").isEqualTo(0x24d);
        assertThat(info.getInt(4)).as("mem_lower").isEqualTo(639);
        assertThat(info.getInt(8)).as("mem_upper").isEqualTo(127 * 1024);
        assertThat(info.getInt(12)).as("boot_device (absent)").isZero();
        assertThat(info.getInt(16)).as("cmdline").isEqualTo(0x20000);
        assertThat(cString(0x20000)).isEqualTo("hello multiboot");
        assertThat(info.getInt(20)).as("mods_count").isEqualTo(1);
        int modsAddr = info.getInt(24);
        assertThat(info.getInt(44)).as("mmap_length").isEqualTo(4 * 24);
        int mmapAddr = info.getInt(48);
        assertThat(mmapAddr).isEqualTo(0x10080);
        assertThat(cString(info.getInt(64))).isEqualTo("jkvm");
        assertMmap(mmapAddr, new long[][] {{0, 0x9FC00, 1}, {0x9FC00, 0x400, 2}, {0xE0000, 0x20000, 2},
                {0x100000, 127 * MIB, 1}});

        ByteBuffer mod = le(read(modsAddr, 16));
        assertThat(mod.getInt(0)).as("mod_start").isEqualTo(0x105000);
        assertThat(mod.getInt(4)).as("mod_end").isEqualTo(0x105000 + 0x1234);
        assertThat(cString(mod.getInt(8))).isEqualTo("initrd.img");
        assertThat(mod.getInt(12)).isZero();
        assertThat(modsAddr).isBetween(0x10000, 0x1ffff);
    }

    @Test
    void aoutLoadAddressMapsIntoTheFileAndDefaultsToTheWholeFile() throws Exception {
        // The header sits 0x40 into the text; load_addr therefore corresponds to file offset 0x1000.
        byte[] img = aout(0x3000, 0x1040, FLAGS, 0x200040, 0x200000, 0, 0, 0x200000);
        LoadedKernel k = load(file("k", img), "", null);
        assertThat(k.kernelStartGpa()).isEqualTo(0x200000);
        assertThat(k.kernelEndGpa()).isEqualTo(0x202000);
        assertThat(read(0x200000, 0x2000)).isEqualTo(java.util.Arrays.copyOfRange(img, 0x1000, 0x3000));
        assertThat(read(0x1ff000, 0x1000)).containsOnly(0);
        ByteBuffer info = le(read(0x10000, 0x80));
        assertThat(info.getInt(20)).as("mods_count").isZero();
        assertThat(info.getInt(24)).as("mods_addr").isZero();
    }

    @Test
    void loadsAnElf32ImageWithAMultibootHeader() throws Exception {
        TestImages.Elf e = new TestImages.Elf();
        e.is64 = false;
        e.machine = ElfImage.EM_386;
        e.entry = 0xC0100010L; // higher-half link address, translated through the segment
        e.segment(0x100000, 0xC0100000L, TestImages.pattern(0x1000, 1), 0x1000);
        e.segment(0x200000, 0xC0200000L, TestImages.pattern(0x800, 2), 0x4000);
        e.prefix = TestImages.multibootHeader(3, 0, 0, 0, 0, 0);
        Path kernel = file("elf32", e.build());
        assertThat(KernelLoader.detect(kernel)).isEqualTo(KernelFormat.MULTIBOOT);

        LoadedKernel k = load(kernel, "", file("mod", TestImages.pattern(10, 1)));
        assertThat(k.entryGpa()).isEqualTo(0x100010);
        assertThat(k.entryMode()).isEqualTo(EntryMode.MULTIBOOT_32);
        assertThat(k.kernelEndGpa()).isEqualTo(0x204000);
        assertThat(k.initrdGpa()).isEqualTo(0x204000);
        assertThat(read(0x100000, 0x1000)).isEqualTo(TestImages.pattern(0x1000, 1));
        assertThat(read(0x200000, 0x800)).isEqualTo(TestImages.pattern(0x800, 2));
        assertThat(read(0x200800, 0x3800)).containsOnly(0);
    }

    @Test
    void multibootHeaderWinsOverElf64() throws Exception {
        TestImages.Elf e = Elf64LoaderTest.vmlinux();
        e.prefix = TestImages.multibootHeader(0, 0, 0, 0, 0, 0);
        Path kernel = file("elf64mb", e.build());
        assertThat(KernelLoader.detect(kernel)).isEqualTo(KernelFormat.MULTIBOOT);
        assertThat(load(kernel, "", null).entryMode()).isEqualTo(EntryMode.MULTIBOOT_32);
    }

    @Test
    void memoryMapAndMemUpperOnABigGuest() throws Exception {
        useLayout(6 * GIB);
        load(file("k", aout(0x102000, 0, 0x100000)), "", null);
        ByteBuffer info = le(read(0x10000, 0x80));
        assertThat(info.getInt(8) & 0xffffffffL).isEqualTo((3 * GIB - MIB) / 1024);
        assertThat(info.getInt(44)).isEqualTo(5 * 24);
        assertMmap(info.getInt(48), new long[][] {{0, 0x9FC00, 1}, {0x9FC00, 0x400, 2}, {0xE0000, 0x20000, 2},
                {0x100000, 3 * GIB - MIB, 1}, {4 * GIB, 3 * GIB, 1}});
    }

    @Test
    void refusesRequiredFeaturesItDoesNotProvide() throws Exception {
        assertRefused(file("video", aout(0x2000, 0x40, FLAGS | 4, 0x100040, 0x100000, 0, 0, 0x100000)))
                .hasMessageContaining("flag bits 2; bit 2 asks for a graphics video mode");
        assertRefused(file("bit5", aout(0x2000, 0x40, FLAGS | 0x20 | 0x8000, 0x100040, 0x100000, 0, 0, 0x100000)))
                .hasMessageContaining("flag bits 5, 15)");
    }

    @Test
    void refusesBadAddressFields() throws Exception {
        assertRefused(file("hdr", aout(0x2000, 0x40, FLAGS, 0xff000, 0x100000, 0, 0, 0x100000)))
                .hasMessageContaining("header_addr 0xff000 is below load_addr 0x100000");
        assertRefused(file("before", aout(0x2000, 0x40, FLAGS, 0x100040, 0xf0000, 0, 0, 0x100000)))
                .hasMessageContaining("before the beginning of the file");
        assertRefused(file("end", aout(0xff000, 0, 0x100000))).hasMessageContaining("load_end_addr 0xff000 is below");
        assertRefused(file("trunc", aout(0x103000, 0, 0x100000))).hasMessageContaining("truncated");
        assertRefused(file("bss", aout(0x102000, 0x101000, 0x100000))).hasMessageContaining("bss_end_addr 0x101000");
        assertRefused(file("entry", aout(0x102000, 0x103000, 0x103000)))
                .hasMessageContaining("entry_addr 0x103000 is outside the loaded image");
        assertRefused(file("low", aout(0x2000, 0x40, FLAGS, 0x8040, 0x8000, 0, 0, 0x8000)))
                .hasMessageContaining("below 1 MiB");
        assertRefused(file("ram", aout(0x2000, 0x40, FLAGS, 0x9000040L, 0x9000000L, 0, 0, 0x9000000L)))
                .hasMessageContaining("beyond guest RAM");
        assertRefused(file("hole", aout(0x2000, 0x40, FLAGS, 0xC0000040L, 0xC0000000L, 0, 0, 0xC0000000L)))
                .hasMessageContaining("MMIO hole");
        assertRefused(file("bsshole", aout(0x2000, 0x40, FLAGS, 0x100040, 0x100000, 0, 0xFFFFFFFFL, 0x100000)))
                .hasMessageContaining("multiboot image [0x100000, 0xffffffff) overlaps the 32-bit MMIO hole");
        byte[] img = aout(0x3000, 8192 - 16, FLAGS, 0x100000 + 8192 - 16, 0x100000, 0, 0, 0x100000);
        assertRefused(file("cut", img)).hasMessageContaining("is cut off");
    }

    @Test
    void refusesModulesThatDoNotFitAfterTheImage() throws Exception {
        Path kernel = file("k", aout(0x2000, 0x40, FLAGS, 0x7F00040L, 0x7F00000L, 0, 0x7FFF000L, 0x7F00000L));
        Path initrd = file("initrd", TestImages.pattern(0x2000, 1));
        assertRefused(kernel, config("", initrd, 0), initrd)
                .hasMessageContaining("module of 8192 bytes does not fit between the image's end 0x7fff000");
    }

    @Test
    void refusesBadElfMultibootImages() throws Exception {
        byte[] notElf = TestImages.pattern(0x2000, 3);
        System.arraycopy(TestImages.multibootHeader(3, 0, 0, 0, 0, 0), 0, notElf, 0x100, 12);
        assertRefused(file("raw", notElf)).hasMessageContaining("flag 16 clear) and the image is not ELF");

        TestImages.Elf e = new TestImages.Elf();
        e.is64 = false;
        e.machine = 40; // ARM
        e.entry = 0x100000;
        e.segment(0x100000, TestImages.pattern(0x100, 1), 0x100);
        e.prefix = TestImages.multibootHeader(3, 0, 0, 0, 0, 0);
        assertRefused(file("arm", e.build())).hasMessageContaining("machine 40 is not i386 or x86-64");

        e.machine = ElfImage.EM_386;
        e.segs.set(0, new TestImages.Elf.Seg(0xC0000000L, 0xC0000000L, TestImages.pattern(0x100, 1), 0x100));
        e.entry = 0xC0000000L;
        assertRefused(file("hole", e.build())).hasMessageContaining("MMIO hole");
    }

    private void assertMmap(long gpa, long[][] expected) {
        ByteBuffer m = le(read(gpa, expected.length * 24));
        for (int i = 0; i < expected.length; i++) {
            int o = 24 * i;
            assertThat(m.getInt(o)).as("entry %d size", i).isEqualTo(20);
            assertThat(new long[] {m.getLong(o + 4), m.getLong(o + 12), m.getInt(o + 20)}).as("mmap entry %d", i)
                    .containsExactly(expected[i]);
        }
    }
}
