package org.jkvm.sys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class LibcTest {
    @Test
    void openOfMissingFileNamesCallAndErrno() {
        assertThatThrownBy(() -> Libc.open("/nonexistent/jkvm", Libc.O_RDONLY, 0))
                .isInstanceOf(NativeException.class)
                .hasMessageContaining("open(/nonexistent/jkvm)")
                .hasMessageContaining("ENOENT")
                .satisfies(e -> assertThat(((NativeException) e).errno()).isEqualTo(Errno.ENOENT));
    }

    @Test
    void ioctlOnNonDeviceReportsEnotty() {
        int fd = Libc.open("/dev/null", Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        try {
            // KVM_GET_API_VERSION on /dev/null: the kernel answers ENOTTY.
            assertThatThrownBy(() -> Libc.ioctl(fd, Ioctl.io(0xAE, 0x00), 0, "KVM_GET_API_VERSION"))
                    .isInstanceOf(NativeException.class)
                    .hasMessageStartingWith("ioctl(KVM_GET_API_VERSION) failed: ENOTTY");
        } finally {
            Libc.close(fd);
        }
    }

    @Test
    void getrandomFillsTheBufferAndNamesTheCallOnFailure() {
        try (java.lang.foreign.Arena a = java.lang.foreign.Arena.ofConfined()) {
            java.lang.foreign.MemorySegment buf = a.allocate(4096);
            assertThat(Libc.getrandom(buf, 4096)).isEqualTo(4096);
            long nonZero = 0;
            for (long i = 0; i < 4096; i++) {
                nonZero += buf.get(java.lang.foreign.ValueLayout.JAVA_BYTE, i) != 0 ? 1 : 0;
            }
            assertThat(nonZero).as("random bytes, not zeros").isGreaterThan(3900);
            // A buffer the kernel cannot write: EFAULT, named.
            assertThatThrownBy(() -> Libc.getrandom(java.lang.foreign.MemorySegment.ofAddress(8).reinterpret(16), 16))
                    .isInstanceOf(NativeException.class).hasMessageContaining("getrandom(16 bytes)")
                    .hasMessageContaining("EFAULT");
        }
    }

    @Test
    void closeOfBadFdThrowsEbadf() {
        assertThatThrownBy(() -> Libc.close(1_000_000))
                .isInstanceOf(NativeException.class)
                .satisfies(e -> assertThat(((NativeException) e).errno()).isEqualTo(Errno.EBADF));
    }

    @Test
    void eventfdRoundTrip() {
        int fd = Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(8);
            assertThat(Libc.readRaw(fd, buf, 8)).isEqualTo(-Errno.EAGAIN);
            buf.set(ValueLayout.JAVA_LONG, 0, 5);
            Libc.write(fd, buf, 8);
            Libc.write(fd, buf, 8);
            assertThat(Libc.read(fd, buf, 8)).isEqualTo(8);
            assertThat(buf.get(ValueLayout.JAVA_LONG, 0)).isEqualTo(10);
        } finally {
            Libc.close(fd);
        }
    }

    @Test
    void mmapIsZeroedAndUsable() {
        long addr = Libc.mmap(0, 1 << 20, Libc.PROT_READ | Libc.PROT_WRITE,
                Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_NORESERVE, -1, 0);
        MemorySegment m = Libc.segment(addr, 1 << 20);
        assertThat(m.get(ValueLayout.JAVA_LONG, 4096)).isZero();
        m.set(ValueLayout.JAVA_LONG, 4096, 42);
        Libc.madvise(addr, 1 << 20, Libc.MADV_DONTNEED);
        assertThat(m.get(ValueLayout.JAVA_LONG, 4096)).isZero();
        Libc.munmap(addr, 1 << 20);
    }

    @Test
    void setAffinityPinsTheCallingThread() throws Exception {
        String[] allowed = new String[1];
        Thread t = new Thread(() -> {
            Libc.setAffinity(0);
            try {
                allowed[0] = java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/thread-self/status"))
                        .stream().filter(l -> l.startsWith("Cpus_allowed_list:")).findFirst().orElseThrow();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        t.start();
        t.join();
        assertThat(allowed[0]).matches("Cpus_allowed_list:\\s+0");
        assertThatThrownBy(() -> Libc.setAffinity(-1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void strerrorDescribes() {
        assertThat(Libc.strerror(Errno.EACCES)).isEqualTo("Permission denied");
        assertThat(Errno.name(Errno.EACCES)).isEqualTo("EACCES");
        assertThat(Errno.name(200)).isEqualTo("errno 200");
    }

    @Test
    void kickInterruptsBlockingSyscall() throws Exception {
        int fd = Libc.eventfd(0, Libc.EFD_CLOEXEC);
        long[] pthread = new long[1];
        long[] result = new long[1];
        var ready = new java.util.concurrent.CountDownLatch(1);
        Thread t = new Thread(() -> {
            pthread[0] = Libc.pthreadSelf();
            ready.countDown();
            try (Arena arena = Arena.ofConfined()) {
                result[0] = Libc.readRaw(fd, arena.allocate(8), 8); // blocks: counter is 0
            }
        });
        t.start();
        ready.await();
        for (int i = 0; i < 200 && t.isAlive(); i++) {
            VcpuKicker.kick(pthread[0]);
            t.join(10);
        }
        assertThat(t.isAlive()).isFalse();
        assertThat(result[0]).isEqualTo(-Errno.EINTR);
        Libc.close(fd);
    }
}
