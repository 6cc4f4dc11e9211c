package org.jkvm.loader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jkvm.loader.TestImages.le;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;

import org.junit.jupiter.api.Test;

class BzImageLoaderTest extends LoaderTestBase {
    private static final String CMDLINE = "console=ttyS0 root=/dev/vda rw";

    @Test
    void loadsAtPrefAddressAndFillsTheZeroPage() throws Exception {
        TestImages.BzImage bz = new TestImages.BzImage();
        byte[] image = bz.build();
        Path kernel = file("bzImage", image);
        byte[] initrdData = TestImages.pattern(10000, 3);
        Path initrd = file("initrd.img", initrdData);

        LoadedKernel k = load(kernel, CMDLINE, initrd);

        long expectedInitrd = 128 * MIB - 0x3000; // page-aligned, as high as possible below the end of RAM
        assertThat(k).isEqualTo(new LoadedKernel(KernelFormat.BZIMAGE, EntryMode.LINUX_64, 0x1000200, 0x7000,
                0x1000000, 0x1000000 + 0x400000, expectedInitrd, 10000));
        assertThat(read(0x1000000, bz.payload.length)).isEqualTo(bz.payload);
        assertThat(read(expectedInitrd, initrdData.length)).isEqualTo(initrdData);
        assertThat(cString(BootMemoryMap.CMDLINE)).isEqualTo(CMDLINE);

        ByteBuffer zp = le(zeroPage());
        // Copied from the kernel's setup header.
        assertThat(zp.get(0x1f1)).isEqualTo((byte) 4);
        assertThat(zp.getInt(0x1f4)).isEqualTo(8192 / 16);
        assertThat(zp.getShort(0x1fe)).isEqualTo((short) 0xAA55);
        assertThat(zp.get(0x200)).isEqualTo((byte) 0xeb);
        assertThat(zp.get(0x201)).isEqualTo((byte) 0x6a);
        assertThat(zp.getInt(0x202)).isEqualTo(0x53726448);
        assertThat(zp.getShort(0x206)).isEqualTo((short) 0x020f);
        assertThat(zp.getShort(0x20e)).isEqualTo((short) 0x1234);
        assertThat(zp.getInt(0x22c)).isEqualTo(0x7fffffff);
        assertThat(zp.getInt(0x230)).isEqualTo(0x200000);
        assertThat(zp.get(0x234)).isEqualTo((byte) 1);
        assertThat(zp.get(0x235)).isEqualTo((byte) 21);
        assertThat(zp.getShort(0x236)).isEqualTo((short) 3);
        assertThat(zp.getInt(0x238)).isEqualTo(2047);
        assertThat(zp.getLong(0x258)).isEqualTo(0x1000000);
        assertThat(zp.getInt(0x260)).isEqualTo(0x400000);
        // Written by the loader.
        assertThat(zp.getShort(0x1fa)).as("vid_mode").isEqualTo((short) 0xffff);
        assertThat(zp.get(0x210) & 0xff).as("type_of_loader").isEqualTo(0xff);
        assertThat(zp.get(0x211) & 0xff).as("loadflags").isEqualTo(0x81);
        assertThat(zp.getInt(0x214)).as("code32_start").isEqualTo(0x1000000);
        assertThat(zp.getInt(0x218)).as("ramdisk_image").isEqualTo((int) expectedInitrd);
        assertThat(zp.getInt(0x21c)).as("ramdisk_size").isEqualTo(10000);
        assertThat(zp.getShort(0x224) & 0xffff).as("heap_end_ptr").isEqualTo(0xde00);
        assertThat(zp.getInt(0x228)).as("cmd_line_ptr").isEqualTo(0x20000);
        assertThat(zp.getLong(0x070)).as("acpi_rsdp_addr").isEqualTo(0xE0000);
        assertThat(zp.get(0x1ef)).as("sentinel").isZero();
        assertE820(zp, new long[][] {{0, 0x9FC00, 1}, {0x9FC00, 0x400, 2}, {0xE0000, 0x20000, 2},
                {0x100000, 127 * MIB, 1}});
    }

    @Test
    void copiesOnlyTheSetupHeaderIntoACleanZeroPage() throws Exception {
        byte[] image = new TestImages.BzImage().build();
        Arrays.fill(image, 0, 0x1f1, (byte) 0x5a); // boot sector junk
        Arrays.fill(image, 0x26c, 0x400, (byte) 0x5a); // past the header end (0x202 + 0x6a)
        load(file("bzImage", image), "", null);
        byte[] zp = zeroPage();
        for (int i = 0; i < 0x1f1; i++) {
            if ((i < 0x70 || i >= 0x78) && i != 0x1e8) { // acpi_rsdp_addr and e820_entries are written
                assertThat(zp[i]).as("byte %x", i).isZero();
            }
        }
        for (int i = 0x26c; i < 0x2d0; i++) {
            assertThat(zp[i]).as("byte %x", i).isZero();
        }
        assertThat(cString(BootMemoryMap.CMDLINE)).isEmpty();
        assertThat(le(zp).getInt(0x218)).as("no initrd").isZero();
        assertThat(le(zp).getInt(0x21c)).isZero();
    }

    @Test
    void fallsBackToOneMibWhenPrefAddressCannotHoldInitSize() throws Exception {
        TestImages.BzImage bz = new TestImages.BzImage();
        bz.initSize = 113 * MIB; // 16 MiB + 113 MiB > 128 MiB
        LoadedKernel k = load(file("bzImage", bz.build()), "", null);
        assertThat(k.entryGpa()).isEqualTo(0x100200);
        assertThat(k.kernelStartGpa()).isEqualTo(0x100000);
        assertThat(k.kernelEndGpa()).as("runtime start aligned up to 2 MiB, plus init_size")
                .isEqualTo(0x200000 + 113 * MIB);
        assertThat(read(0x100000, 8192)).isEqualTo(bz.payload);
        assertThat(le(zeroPage()).getInt(0x214)).isEqualTo(0x100000);
    }

    @Test
    void nonRelocatableKernelLoadsAtOneMib() throws Exception {
        TestImages.BzImage bz = new TestImages.BzImage();
        bz.relocatable = false;
        LoadedKernel k = load(file("bzImage", bz.build()), "", null);
        assertThat(k.entryGpa()).isEqualTo(0x100200);
        assertThat(k.kernelEndGpa()).as("it moves itself to pref_address").isEqualTo(0x1000000 + 0x400000);
    }

    @Test
    void protocolBefore214GetsNoRsdpAddress() throws Exception {
        TestImages.BzImage bz = new TestImages.BzImage();
        bz.version = 0x020d;
        bz.headerEndByte = 0x66; // 0x268
        load(file("bzImage", bz.build()), "", null);
        assertThat(le(zeroPage()).getLong(0x070)).isZero();
    }

    @Test
    void initrdStaysBelowInitrdAddrMaxAndTheMmioHole() throws Exception {
        useLayout(6 * GIB);
        TestImages.BzImage bz = new TestImages.BzImage();
        Path initrd = file("initrd", TestImages.pattern(5000, 1));
        LoadedKernel k = load(file("bzImage", bz.build()), "", initrd);
        assertThat(k.initrdGpa()).isEqualTo(0x80000000L - 0x2000);
        assertThat(read(k.initrdGpa(), 5000)).isEqualTo(TestImages.pattern(5000, 1));
        ByteBuffer zp = le(zeroPage());
        assertE820(zp, new long[][] {{0, 0x9FC00, 1}, {0x9FC00, 0x400, 2}, {0xE0000, 0x20000, 2},
                {0x100000, 3 * GIB - MIB, 1}, {4 * GIB, 3 * GIB, 1}});

        bz.initrdAddrMax = 0; // absent: 0x37FFFFFF
        useLayout(6 * GIB);
        k = load(file("bzImage2", bz.build()), "", initrd);
        assertThat(k.initrdGpa()).isEqualTo(0x38000000L - 0x2000);
    }

    @Test
    void refusesOldProtocols() throws Exception {
        TestImages.BzImage bz = new TestImages.BzImage();
        bz.version = 0x0204;
        Path kernel = file("old", bz.build());
        assertRefused(kernel).hasMessageContaining("Linux boot protocol 2.04 is too old (2.06 or later");
        bz.version = 0x020b;
        assertRefused(file("old2", bz.build())).hasMessageContaining("predates xloadflags");
    }

    @Test
    void refusesKernelWithout64BitEntry() throws Exception {
        TestImages.BzImage bz = new TestImages.BzImage();
        bz.xloadflags = 0;
        assertRefused(file("k32", bz.build())).hasMessageContaining("no 64-bit entry point");
    }

    @Test
    void refusesZImageAndBadBootFlag() throws Exception {
        TestImages.BzImage bz = new TestImages.BzImage();
        bz.loadflags = 0;
        assertRefused(file("zImage", bz.build())).hasMessageContaining("zImage");
        bz = new TestImages.BzImage();
        bz.bootFlag = 0x1234;
        assertRefused(file("flag", bz.build())).hasMessageContaining("boot_flag is 0x1234");
    }

    @Test
    void refusesTruncatedImages() throws Exception {
        byte[] image = new TestImages.BzImage().build();
        assertRefused(file("cut1", Arrays.copyOf(image, 0x240))).hasMessageContaining("truncated");
        assertRefused(file("cut2", Arrays.copyOf(image, 5 * 512))).hasMessageContaining("truncated: the setup code");
        assertRefused(file("cut3", Arrays.copyOf(image, 5 * 512 + 100)))
                .hasMessageContaining("truncated: syssize says");
        TestImages.BzImage bz = new TestImages.BzImage();
        bz.setupSects = 60; // the setup code would run past the end of the file
        bz.payload = new byte[0];
        byte[] img = bz.build();
        assertRefused(file("cut4", Arrays.copyOf(img, 4 * 512))).hasMessageContaining("setup_sects 60");
    }

    @Test
    void refusesBadHeaderLengths() throws Exception {
        TestImages.BzImage bz = new TestImages.BzImage();
        bz.headerEndByte = 0xff;
        assertRefused(file("long", bz.build())).hasMessageContaining("past boot_params' limit 0x290");
        bz.headerEndByte = 0x20;
        assertRefused(file("short", bz.build())).hasMessageContaining("before cmdline_size");
    }

    @Test
    void refusesBadAlignmentAndOversizedInitSize() throws Exception {
        TestImages.BzImage bz = new TestImages.BzImage();
        bz.kernelAlignment = 0x300000;
        assertRefused(file("align", bz.build())).hasMessageContaining("kernel_alignment 0x300000 is not a power");
        bz = new TestImages.BzImage();
        bz.initSize = 127 * MIB;
        assertRefused(file("huge", bz.build())).hasMessageContaining("init_size")
                .hasMessageContaining("give the guest more memory");
        bz = new TestImages.BzImage();
        bz.relocatable = false;
        bz.prefAddress = 0x7ff0000000L;
        assertRefused(file("nonreloc", bz.build())).hasMessageContaining("from 0x7ff0000000");
    }

    @Test
    void refusesCommandLinesTheKernelCannotTake() throws Exception {
        TestImages.BzImage bz = new TestImages.BzImage();
        bz.cmdlineSize = 10;
        Path kernel = file("k", bz.build());
        assertRefused(kernel, config("12345678901", null, 0), kernel)
                .hasMessageContaining("command line is 11 bytes; at most 10 fit (the kernel's cmdline_size)");
        KernelLoader.load(kernel, config("1234567890", null, 0), memory());
        assertThat(cString(BootMemoryMap.CMDLINE)).isEqualTo("1234567890");
        assertThat(read(BootMemoryMap.CMDLINE + 10, 1)).containsExactly(0);

        memory.close();
        memory = null;
        TestImages.BzImage unlimited = new TestImages.BzImage();
        unlimited.cmdlineSize = 0xFFFFFFFFL;
        Path big = file("big", unlimited.build());
        assertRefused(big, config("x".repeat(0x10000), null, 0), big)
                .hasMessageContaining("at most 65535 fit (jkvm's command line area)");
        assertRefused(big, config("a\0b", null, 0), big).hasMessageContaining("NUL");
    }

    @Test
    void refusesInitrdsThatDoNotFit() throws Exception {
        Path kernel = file("bzImage", new TestImages.BzImage().build());
        Path initrd = sparseFile("initrd", 110 * MIB);
        assertRefused(kernel, config("", initrd, 0), initrd)
                .hasMessageContaining("initrd of " + 110 * MIB + " bytes does not fit between the kernel's end "
                        + "0x1400000");
        Path empty = file("empty", new byte[0]);
        assertRefused(kernel, config("", empty, 0), empty).hasMessageContaining("initrd is empty");
        Path missing = dir.resolve("nope");
        assertRefused(kernel, config("", missing, 0), missing).hasMessageContaining("no such file");
    }

    static void assertE820(ByteBuffer zp, long[][] expected) {
        assertThat(zp.get(0x1e8) & 0xff).as("e820_entries").isEqualTo(expected.length);
        for (int i = 0; i < expected.length; i++) {
            int o = 0x2d0 + 20 * i;
            assertThat(new long[] {zp.getLong(o), zp.getLong(o + 8), zp.getInt(o + 16)}).as("e820 entry %d", i)
                    .containsExactly(expected[i]);
        }
        assertThat(zp.getInt(0x2d0 + 20 * expected.length + 16)).as("after the last entry").isZero();
    }
}
