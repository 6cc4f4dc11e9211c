package org.jkvm.loader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Optional;

import org.jkvm.memory.PcMemoryLayout;
import org.junit.jupiter.api.Test;

class KernelLoaderDetectTest extends LoaderTestBase {
    @Test
    void detectsEachFormat() throws Exception {
        assertThat(KernelLoader.detect(file("bz", new TestImages.BzImage().build()))).isEqualTo(KernelFormat.BZIMAGE);
        assertThat(KernelLoader.detect(file("elf", Elf64LoaderTest.vmlinux().build()))).isEqualTo(KernelFormat.ELF64);
        assertThat(KernelLoader.detect(file("mb", MultibootLoaderTest.aout(0x102000, 0, 0x100000))))
                .isEqualTo(KernelFormat.MULTIBOOT);
    }

    @Test
    void refusesWhatIsNoKernel() throws Exception {
        Path junk = file("junk", TestImages.pattern(20000, 1));
        assertThatThrownBy(() -> KernelLoader.detect(junk)).isInstanceOf(KernelLoadException.class)
                .hasMessage(junk + ": not a bzImage, 64-bit ELF or multiboot image");
        Path empty = file("empty", new byte[0]);
        assertThatThrownBy(() -> KernelLoader.detect(empty)).hasMessage(empty + ": is empty");
        Path missing = dir.resolve("missing");
        assertThatThrownBy(() -> KernelLoader.detect(missing)).hasMessage(missing + ": no such file");
        assertThatThrownBy(() -> KernelLoader.detect(dir)).hasMessage(dir + ": is a directory, not a file");
    }

    @Test
    void refusesOldBzImagesAtDetection() throws Exception {
        TestImages.BzImage bz = new TestImages.BzImage();
        bz.version = 0x0205;
        Path k = file("old", bz.build());
        assertThatThrownBy(() -> KernelLoader.detect(k))
                .hasMessage(k + ": Linux boot protocol 2.05 is too old (2.06 or later is required)");
    }

    @Test
    void refuses32BitElfWithoutMultibootHeader() throws Exception {
        TestImages.Elf e = new TestImages.Elf();
        e.is64 = false;
        e.machine = ElfImage.EM_386;
        e.entry = 0x100000;
        e.segment(0x100000, TestImages.pattern(0x100, 1), 0x100);
        Path k = file("elf32", e.build());
        assertThatThrownBy(() -> KernelLoader.detect(k)).hasMessageContaining("is a 32-bit ELF without a multiboot "
                + "header; jkvm boots 32-bit kernels only through multiboot");

        TestImages.Elf arm = Elf64LoaderTest.vmlinux();
        arm.machine = 183; // AArch64
        Path a = file("arm64", arm.build());
        assertThatThrownBy(() -> KernelLoader.detect(a)).hasMessageContaining("machine 183, not a 64-bit x86-64 ELF");
    }

    @Test
    void namesABadMultibootChecksum() throws Exception {
        byte[] img = MultibootLoaderTest.aout(0x102000, 0, 0x100000);
        img[0x48] ^= 1; // checksum
        Path k = file("badsum", img);
        assertThatThrownBy(() -> KernelLoader.detect(k))
                .hasMessage(k + ": not a bzImage, 64-bit ELF or multiboot image (the multiboot header at 0x40 has a "
                        + "bad checksum)");
    }

    @Test
    void ignoresAMultibootHeaderPast8KiBOrUnaligned() throws Exception {
        byte[] far = TestImages.pattern(0x4000, 1);
        System.arraycopy(TestImages.multibootHeader(0x10003, 0x102000, 0x100000, 0, 0, 0x100000), 0, far, 8192, 32);
        Path k = file("far", far);
        assertThatThrownBy(() -> KernelLoader.detect(k)).hasMessageEndingWith("not a bzImage, 64-bit ELF or multiboot image");
        byte[] odd = TestImages.pattern(0x4000, 1);
        System.arraycopy(TestImages.multibootHeader(0x10003, 0x100042, 0x100000, 0, 0, 0x100000), 0, odd, 0x42, 32);
        Path o = file("odd", odd);
        assertThatThrownBy(() -> KernelLoader.detect(o)).hasMessageEndingWith("not a bzImage, 64-bit ELF or multiboot image");
    }

    @Test
    void bootConfigAndMemoryMismatchAreProgrammingErrors() throws Exception {
        assertThatThrownBy(() -> new BootConfig(layout, "", Optional.empty(), -1))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new BootConfig(layout, null, Optional.empty(), 0))
                .isInstanceOf(NullPointerException.class);
        Path k = file("bz", new TestImages.BzImage().build());
        BootConfig other = new BootConfig(PcMemoryLayout.of(256 * MIB), "", Optional.empty(), 0);
        assertThatThrownBy(() -> KernelLoader.load(k, other, memory())).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void exceptionMessagesStayOnOneLine() {
        KernelLoadException e = new KernelLoadException(Path.of("/k"), "bad\nthing\r\nhere");
        assertThat(e.getMessage()).isEqualTo("/k: bad thing here");
        assertThat(e.problem()).isEqualTo("bad thing here");
        assertThat(e.file()).isEqualTo(Path.of("/k"));
    }
}
