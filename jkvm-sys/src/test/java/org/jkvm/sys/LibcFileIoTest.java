package org.jkvm.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/** The block-device calls: vectored positional I/O, fdatasync, fallocate, lseek and OFD locks. */
class LibcFileIoTest {
    @TempDir
    Path dir;

    @Test
    void vectoredIoRoundTripsAndLseekGivesTheSize() throws Exception {
        Path p = dir.resolve("f");
        Files.write(p, new byte[8192]);
        int fd = Libc.open(p.toString(), Libc.O_RDWR | Libc.O_CLOEXEC, 0);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = arena.allocate(100);
            MemorySegment b = arena.allocate(28);
            a.fill((byte) 1);
            b.fill((byte) 2);
            MemorySegment iov = arena.allocate(2 * Libc.IOVEC_SIZE, 8);
            iov.set(ValueLayout.JAVA_LONG, 0, a.address());
            iov.set(ValueLayout.JAVA_LONG, 8, 100);
            iov.set(ValueLayout.JAVA_LONG, 16, b.address());
            iov.set(ValueLayout.JAVA_LONG, 24, 28);
            assertThat(Libc.pwritevRaw(fd, iov, 2, 4096)).isEqualTo(128);
            assertThat(Libc.fdatasyncRaw(fd)).isZero();
            MemorySegment back = arena.allocate(128);
            assertThat(Libc.preadRaw(fd, back, 128, 4096)).isEqualTo(128);
            assertThat(back.get(ValueLayout.JAVA_BYTE, 99)).isEqualTo((byte) 1);
            assertThat(back.get(ValueLayout.JAVA_BYTE, 100)).isEqualTo((byte) 2);
            a.fill((byte) 0);
            assertThat(Libc.preadvRaw(fd, iov, 2, 4096)).isEqualTo(128);
            assertThat(a.get(ValueLayout.JAVA_BYTE, 0)).isEqualTo((byte) 1);
            assertThat(Libc.lseek(fd, 0, Libc.SEEK_END)).isEqualTo(8192);
            assertThat(Libc.preadvRaw(-1, iov, 2, 0)).isEqualTo(-Errno.EBADF);
            // Punching a hole keeps the size and reads back zeroes (or the filesystem says it cannot).
            int r = Libc.fallocateRaw(fd, Libc.FALLOC_FL_PUNCH_HOLE | Libc.FALLOC_FL_KEEP_SIZE, 4096, 4096);
            assertThat(r).isIn(0, -Errno.EOPNOTSUPP);
            if (r == 0) {
                assertThat(Libc.preadRaw(fd, back, 128, 4096)).isEqualTo(128);
                assertThat(back.get(ValueLayout.JAVA_BYTE, 0)).isZero();
            }
            assertThat(Libc.lseek(fd, 0, Libc.SEEK_END)).isEqualTo(8192);
        } finally {
            Libc.close(fd);
        }
    }

    @Test
    void ofdLocksConflictBetweenOpensOfOneProcess() throws Exception {
        Path p = dir.resolve("l");
        Files.write(p, new byte[1]);
        int a = Libc.open(p.toString(), Libc.O_RDWR | Libc.O_CLOEXEC, 0);
        int b = Libc.open(p.toString(), Libc.O_RDWR | Libc.O_CLOEXEC, 0);
        try {
            assertThat(Libc.ofdSetLockRaw(a, Libc.F_WRLCK)).isZero();
            assertThat(Libc.ofdSetLockRaw(b, Libc.F_RDLCK)).isIn(-Errno.EAGAIN, -Errno.EACCES);
            assertThat(Libc.ofdSetLockRaw(a, Libc.F_RDLCK)).isZero();
            assertThat(Libc.ofdSetLockRaw(b, Libc.F_RDLCK)).isZero();
            assertThat(Libc.ofdSetLockRaw(a, Libc.F_WRLCK)).isIn(-Errno.EAGAIN, -Errno.EACCES);
            assertThat(Libc.ofdSetLockRaw(b, Libc.F_UNLCK)).isZero();
            assertThat(Libc.ofdSetLockRaw(a, Libc.F_WRLCK)).isZero();
        } finally {
            Libc.close(b);
            Libc.close(a);
        }
    }
}
