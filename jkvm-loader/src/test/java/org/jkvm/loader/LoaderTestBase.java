package org.jkvm.loader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.Optional;

import org.assertj.core.api.AbstractThrowableAssert;
import org.jkvm.memory.GuestMemory;
import org.jkvm.memory.MmapGuestMemory;
import org.jkvm.memory.PcMemoryLayout;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

/** Shared set-up: a temp dir for images, a 128 MiB guest, and helpers to read guest memory back. */
abstract class LoaderTestBase {
    static final long MIB = 1L << 20;
    static final long GIB = 1L << 30;

    @TempDir
    Path dir;

    PcMemoryLayout layout = PcMemoryLayout.of(128 * MIB);
    GuestMemory memory;

    GuestMemory memory() {
        if (memory == null) {
            memory = MmapGuestMemory.create(layout);
        }
        return memory;
    }

    void useLayout(long sizeBytes) {
        if (memory != null) {
            memory.close();
            memory = null;
        }
        layout = PcMemoryLayout.of(sizeBytes);
    }

    @AfterEach
    void closeMemory() {
        if (memory != null) {
            memory.close();
        }
    }

    Path file(String name, byte[] data) throws IOException {
        return TestImages.write(dir, name, data);
    }

    /** A sparse file of {@code sizeBytes} (cheap even when large). */
    Path sparseFile(String name, long sizeBytes) throws IOException {
        Path p = dir.resolve(name);
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(sizeBytes);
        }
        return p;
    }

    BootConfig config(String cmdline, Path initrd, long rsdp) {
        return new BootConfig(layout, cmdline, Optional.ofNullable(initrd), rsdp);
    }

    LoadedKernel load(Path kernel, String cmdline, Path initrd) throws KernelLoadException {
        return KernelLoader.load(kernel, config(cmdline, initrd, 0xE0000), memory());
    }

    byte[] read(long gpa, int len) {
        byte[] b = new byte[len];
        memory().read(gpa, b, 0, len);
        return b;
    }

    byte[] zeroPage() {
        return read(BootMemoryMap.ZERO_PAGE, 4096);
    }

    String cString(long gpa) {
        StringBuilder sb = new StringBuilder();
        for (long a = gpa; ; a++) {
            byte c = memory().readByte(a);
            if (c == 0) {
                return sb.toString();
            }
            sb.append((char) (c & 0xff));
        }
    }

    /** Loading {@code kernel} fails with a one-line message naming {@code file}; guest memory stays all zero. */
    AbstractThrowableAssert<?, ? extends Throwable> assertRefused(Path kernel, BootConfig config, Path file) {
        var a = assertThatThrownBy(() -> KernelLoader.load(kernel, config, memory()))
                .isInstanceOf(KernelLoadException.class)
                .hasMessageStartingWith(file + ": ")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        assertGuestUntouched();
        return a;
    }

    AbstractThrowableAssert<?, ? extends Throwable> assertRefused(Path kernel) {
        return assertRefused(kernel, config("console=ttyS0", null, 0), kernel);
    }

    void assertGuestUntouched() {
        assertThat(read(0, 0x30000)).as("low memory").containsOnly(0);
        assertThat(read(BootMemoryMap.HIMEM_START, 64 * 1024)).as("memory at 1 MiB").containsOnly(0);
        assertThat(read(16 * MIB, 64 * 1024)).as("memory at 16 MiB").containsOnly(0);
    }
}
