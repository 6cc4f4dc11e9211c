package org.jkvm.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The C library calls jkvm makes, bound through the Foreign Function &amp; Memory API. This module is the only place
 * in jkvm that touches native code.
 *
 * <p>Every call that can fail is bound with {@link Linker.Option#captureCallState(String...) captureCallState("errno")}
 * into a per-thread segment (allocated once per thread, so hot calls such as {@code ioctl(KVM_RUN)} allocate nothing)
 * and throws {@link NativeException} naming the call and the errno instead of returning -1. Callers that expect a
 * particular errno (EINTR from KVM_RUN, EAGAIN from a non-blocking read) use the {@code *Raw} variants, which return
 * {@code -errno}.
 */
public final class Libc {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final MemoryLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final ThreadLocal<MemorySegment> CALL_STATE_SEGMENT =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CALL_STATE));

    // open(2) flags and modes (asm-generic/fcntl.h).
    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 1;
    public static final int O_RDWR = 2;
    public static final int O_CREAT = 0100;
    public static final int O_EXCL = 0200;
    public static final int O_NOCTTY = 0400;
    public static final int O_TRUNC = 01000;
    public static final int O_NONBLOCK = 04000;
    public static final int O_DIRECT = 040000;
    public static final int O_CLOEXEC = 02000000;

    // mmap(2)
    public static final int PROT_NONE = 0;
    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;
    public static final int PROT_EXEC = 4;
    public static final int MAP_SHARED = 0x01;
    public static final int MAP_PRIVATE = 0x02;
    public static final int MAP_FIXED = 0x10;
    public static final int MAP_ANONYMOUS = 0x20;
    public static final int MAP_NORESERVE = 0x4000;
    public static final int MAP_HUGETLB = 0x40000;
    public static final long MAP_FAILED = -1L;

    // madvise(2)
    public static final int MADV_DONTNEED = 4;
    public static final int MADV_MERGEABLE = 12;
    public static final int MADV_HUGEPAGE = 14;
    public static final int MADV_DONTDUMP = 16;

    // eventfd(2)
    public static final int EFD_CLOEXEC = 02000000;
    public static final int EFD_NONBLOCK = 04000;

    /** Bound on first use: creating a downcall handle costs start-up time. */
    private static final class OPEN {
        static final MethodHandle H = errnoHandle("open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), 2);
    }

    private static final class CLOSE {
        static final MethodHandle H = errnoHandle("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT), -1);
    }

    private static final class READ {
        static final MethodHandle H = errnoHandle("read",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), -1);
    }

    private static final class WRITE {
        static final MethodHandle H = errnoHandle("write",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), -1);
    }

    private static final class IOCTL {
        static final MethodHandle H = errnoHandle("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), 2);
    }

    private static final class MMAP {
        static final MethodHandle H = errnoHandle("mmap",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG), -1);
    }

    private static final class MUNMAP {
        static final MethodHandle H = errnoHandle("munmap",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG), -1);
    }

    private static final class MPROTECT {
        static final MethodHandle H = errnoHandle("mprotect",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT), -1);
    }

    private static final class MADVISE {
        static final MethodHandle H = errnoHandle("madvise",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT), -1);
    }

    private static final class EVENTFD {
        static final MethodHandle H = errnoHandle("eventfd",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), -1);
    }

    private static final class SCHED_SETAFFINITY {
        static final MethodHandle H = errnoHandle("sched_setaffinity",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), -1);
    }

    private static final class PTHREAD_SELF {
        static final MethodHandle H = handle("pthread_self", FunctionDescriptor.of(JAVA_LONG));
    }

    private static final class PTHREAD_KILL {
        static final MethodHandle H = handle("pthread_kill",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT));
    }

    private static final class SIGACTION {
        static final MethodHandle H = errnoHandle("sigaction",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS), -1);
    }

    private static final class SIGRTMIN {
        static final MethodHandle H = handle("__libc_current_sigrtmin", FunctionDescriptor.of(JAVA_INT));
    }

    private static final class ISATTY {
        static final MethodHandle H = handle("isatty", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    }

    private static final class TCGETATTR {
        static final MethodHandle H = errnoHandle("tcgetattr",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS), -1);
    }

    private static final class TCSETATTR {
        static final MethodHandle H = errnoHandle("tcsetattr",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS), -1);
    }

    private static final class CFMAKERAW {
        static final MethodHandle H = handle("cfmakeraw", FunctionDescriptor.ofVoid(ADDRESS));
    }

    private static final class STRERROR {
        static final MethodHandle H = handle("strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));
    }

    private static final class EPOLL_CREATE1 {
        static final MethodHandle H = errnoHandle("epoll_create1", FunctionDescriptor.of(JAVA_INT, JAVA_INT), -1);
    }

    private static final class EPOLL_CTL {
        static final MethodHandle H = errnoHandle("epoll_ctl",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS), -1);
    }

    private static final class EPOLL_WAIT {
        static final MethodHandle H = errnoHandle("epoll_wait",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), -1);
    }

    private static final class GETTID {
        static final MethodHandle H = handle("gettid", FunctionDescriptor.of(JAVA_INT));
    }


    private static final class PREAD {
        static final MethodHandle H = errnoHandle("pread",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG), -1);
    }

    private static final class PWRITE {
        static final MethodHandle H = errnoHandle("pwrite",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG), -1);
    }

    private static final class PREADV {
        static final MethodHandle H = errnoHandle("preadv",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG), -1);
    }

    private static final class PWRITEV {
        static final MethodHandle H = errnoHandle("pwritev",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG), -1);
    }

    private static final class READV {
        static final MethodHandle H = errnoHandle("readv",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT), -1);
    }

    private static final class WRITEV {
        static final MethodHandle H = errnoHandle("writev",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT), -1);
    }

    private static final class SETNS {
        static final MethodHandle H = errnoHandle("setns", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), -1);
    }

    private static final class FDATASYNC {
        static final MethodHandle H = errnoHandle("fdatasync", FunctionDescriptor.of(JAVA_INT, JAVA_INT), -1);
    }

    private static final class FALLOCATE {
        static final MethodHandle H = errnoHandle("fallocate",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), -1);
    }

    private static final class FCNTL_PTR {
        static final MethodHandle H = errnoHandle("fcntl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS), 2);
    }

    private static final class GETRANDOM {
        static final MethodHandle H = errnoHandle("getrandom",
            FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_INT), -1);
    }

    private static final class LSEEK {
        static final MethodHandle H = errnoHandle("lseek",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT), -1);
    }

    private Libc() {}

    private static MethodHandle handle(String name, FunctionDescriptor fd) {
        MemorySegment symbol = LIBC.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        return LINKER.downcallHandle(symbol, fd);
    }

    private static MethodHandle errnoHandle(String name, FunctionDescriptor fd, int firstVariadicArg) {
        MemorySegment symbol = LIBC.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        Linker.Option errno = Linker.Option.captureCallState("errno");
        return firstVariadicArg < 0
                ? LINKER.downcallHandle(symbol, fd, errno)
                : LINKER.downcallHandle(symbol, fd, errno, Linker.Option.firstVariadicArg(firstVariadicArg));
    }

    private static MemorySegment callState() {
        return CALL_STATE_SEGMENT.get();
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }

    /** open(2). Returns the new fd. */
    public static int open(String path, int flags, int mode) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cpath = arena.allocateFrom(path);
            MemorySegment st = callState();
            int fd = (int) OPEN.H.invokeExact(st, cpath, flags, mode);
            if (fd < 0) {
                throw new NativeException("open(" + path + ")", errno(st));
            }
            return fd;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** close(2); errors other than EINTR are reported. */
    public static void close(int fd) {
        try {
            MemorySegment st = callState();
            int r = (int) CLOSE.H.invokeExact(st, fd);
            if (r < 0 && errno(st) != Errno.EINTR) {
                throw new NativeException("close(" + fd + ")", errno(st));
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** read(2) into native memory; returns bytes read or {@code -errno}. */
    public static long readRaw(int fd, MemorySegment buf, long len) {
        try {
            MemorySegment st = callState();
            long r = (long) READ.H.invokeExact(st, fd, buf, len);
            return r < 0 ? -errno(st) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** write(2) from native memory; returns bytes written or {@code -errno}. */
    public static long writeRaw(int fd, MemorySegment buf, long len) {
        try {
            MemorySegment st = callState();
            long r = (long) WRITE.H.invokeExact(st, fd, buf, len);
            return r < 0 ? -errno(st) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** read(2), throwing on failure (EINTR is retried). */
    public static long read(int fd, MemorySegment buf, long len) {
        long r;
        do {
            r = readRaw(fd, buf, len);
        } while (r == -Errno.EINTR);
        if (r < 0) {
            throw new NativeException("read(fd " + fd + ")", (int) -r);
        }
        return r;
    }

    /**
     * getrandom(2) from the kernel's CSPRNG (the urandom source, flags 0: blocks only until the pool is first
     * initialized), filling {@code len} bytes at {@code buf}; returns bytes written (up to 32 MiB per call). EINTR is
     * retried; anything else throws.
     */
    public static long getrandom(MemorySegment buf, long len) {
        try {
            while (true) {
                MemorySegment st = callState();
                long r = (long) GETRANDOM.H.invokeExact(st, buf, len, 0);
                if (r >= 0) {
                    return r;
                }
                int e = errno(st);
                if (e != Errno.EINTR) {
                    throw new NativeException("getrandom(" + len + " bytes)", e);
                }
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** write(2), throwing on failure (EINTR is retried). */
    public static long write(int fd, MemorySegment buf, long len) {
        long r;
        do {
            r = writeRaw(fd, buf, len);
        } while (r == -Errno.EINTR);
        if (r < 0) {
            throw new NativeException("write(fd " + fd + ")", (int) -r);
        }
        return r;
    }

    /**
     * ioctl(2) with an integer or pointer argument ({@code MemorySegment.address()}); returns the ioctl's
     * non-negative result or {@code -errno}. The caller decides which errnos are expected.
     */
    public static int ioctlRaw(int fd, long request, long arg) {
        try {
            MemorySegment st = callState();
            int r = (int) IOCTL.H.invokeExact(st, fd, request, arg);
            return r < 0 ? -errno(st) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** ioctl(2) that throws {@link NativeException} naming {@code name} (the kernel's name for the request). */
    public static int ioctl(int fd, long request, long arg, String name) {
        int r = ioctlRaw(fd, request, arg);
        if (r < 0) {
            throw new NativeException("ioctl(" + name + ")", -r);
        }
        return r;
    }

    /** ioctl(2) with a pointer argument. */
    public static int ioctl(int fd, long request, MemorySegment arg, String name) {
        return ioctl(fd, request, arg.address(), name);
    }

    /** mmap(2); returns the mapping's address. */
    public static long mmap(long addr, long length, int prot, int flags, int fd, long offset) {
        try {
            MemorySegment st = callState();
            long r = (long) MMAP.H.invokeExact(st, addr, length, prot, flags, fd, offset);
            if (r == MAP_FAILED) {
                throw new NativeException("mmap(" + length + " bytes)", errno(st));
            }
            return r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void munmap(long addr, long length) {
        try {
            MemorySegment st = callState();
            if ((int) MUNMAP.H.invokeExact(st, addr, length) < 0) {
                throw new NativeException("munmap", errno(st));
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void mprotect(long addr, long length, int prot) {
        try {
            MemorySegment st = callState();
            if ((int) MPROTECT.H.invokeExact(st, addr, length, prot) < 0) {
                throw new NativeException("mprotect", errno(st));
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void madvise(long addr, long length, int advice) {
        try {
            MemorySegment st = callState();
            if ((int) MADVISE.H.invokeExact(st, addr, length, advice) < 0) {
                throw new NativeException("madvise(" + advice + ")", errno(st));
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** eventfd(2). */
    public static int eventfd(int initval, int flags) {
        try {
            MemorySegment st = callState();
            int fd = (int) EVENTFD.H.invokeExact(st, initval, flags);
            if (fd < 0) {
                throw new NativeException("eventfd", errno(st));
            }
            return fd;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** sched_setaffinity(2) for the calling thread (tid 0) onto the given host CPUs. */
    public static void setAffinity(int... hostCpus) {
        int max = 0;
        for (int c : hostCpus) {
            if (c < 0) {
                throw new IllegalArgumentException("negative CPU " + c);
            }
            max = Math.max(max, c);
        }
        long bytes = ((max / 64) + 1) * 8L;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment set = arena.allocate(bytes, 8);
            for (int c : hostCpus) {
                long word = set.getAtIndex(JAVA_LONG, c / 64);
                set.setAtIndex(JAVA_LONG, c / 64, word | (1L << (c % 64)));
            }
            MemorySegment st = callState();
            if ((int) SCHED_SETAFFINITY.H.invokeExact(st, 0, bytes, set) < 0) {
                throw new NativeException("sched_setaffinity", errno(st));
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** pthread_self(3): the calling thread's pthread_t, for {@link #pthreadKill}. */
    public static long pthreadSelf() {
        try {
            return (long) PTHREAD_SELF.H.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The calling thread's kernel thread id. */
    public static int gettid() {
        try {
            return (int) GETTID.H.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** pthread_kill(3); returns 0 or an errno value (pthread functions do not set errno). */
    public static int pthreadKill(long thread, int signal) {
        try {
            return (int) PTHREAD_KILL.H.invokeExact(thread, signal);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** SIGRTMIN as this C library defines it (glibc reserves the first real-time signals). */
    public static int sigrtmin() {
        try {
            return (int) SIGRTMIN.H.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** sigaction(2) with a plain handler address, no flags beyond {@code flags}, and an empty mask. */
    public static void sigaction(int signal, long handlerAddress, int flags) {
        // glibc's struct sigaction on x86_64: sa_handler (8), sa_mask (128), sa_flags (4 + 4 pad), sa_restorer (8).
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment act = arena.allocate(152, 8);
            act.set(JAVA_LONG, 0, handlerAddress);
            act.set(JAVA_INT, 136, flags);
            MemorySegment st = callState();
            if ((int) SIGACTION.H.invokeExact(st, signal, act, MemorySegment.NULL) < 0) {
                throw new NativeException("sigaction(" + signal + ")", errno(st));
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static boolean isatty(int fd) {
        try {
            return (int) ISATTY.H.invokeExact(fd) == 1;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Size of glibc's struct termios on x86_64. */
    public static final long TERMIOS_SIZE = 60;
    public static final int TCSANOW = 0;

    public static void tcgetattr(int fd, MemorySegment termios) {
        try {
            MemorySegment st = callState();
            if ((int) TCGETATTR.H.invokeExact(st, fd, termios) < 0) {
                throw new NativeException("tcgetattr(" + fd + ")", errno(st));
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void tcsetattr(int fd, int action, MemorySegment termios) {
        try {
            MemorySegment st = callState();
            if ((int) TCSETATTR.H.invokeExact(st, fd, action, termios) < 0) {
                throw new NativeException("tcsetattr(" + fd + ")", errno(st));
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void cfmakeraw(MemorySegment termios) {
        try {
            CFMAKERAW.H.invokeExact(termios);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static final int EPOLL_CLOEXEC = 02000000;
    public static final int EPOLL_CTL_ADD = 1;
    public static final int EPOLL_CTL_DEL = 2;
    public static final int EPOLL_CTL_MOD = 3;

    /** epoll_create1(2). */
    public static int epollCreate1(int flags) {
        try {
            MemorySegment st = callState();
            int fd = (int) EPOLL_CREATE1.H.invokeExact(st, flags);
            if (fd < 0) {
                throw new NativeException("epoll_create1", errno(st));
            }
            return fd;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** epoll_ctl(2) with a struct epoll_event at {@code event} (12 bytes, packed on x86_64). */
    public static void epollCtl(int epfd, int op, int fd, MemorySegment event) {
        try {
            MemorySegment st = callState();
            if ((int) EPOLL_CTL.H.invokeExact(st, epfd, op, fd, event) < 0) {
                throw new NativeException("epoll_ctl(op " + op + ", fd " + fd + ")", errno(st));
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** epoll_wait(2); returns the number of ready events or {@code -errno} (EINTR is the caller's to handle). */
    public static int epollWaitRaw(int epfd, MemorySegment events, int maxEvents, int timeoutMillis) {
        try {
            MemorySegment st = callState();
            int n = (int) EPOLL_WAIT.H.invokeExact(st, epfd, events, maxEvents, timeoutMillis);
            return n < 0 ? -errno(st) : n;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** strerror(3). */
    public static String strerror(int errno) {
        try {
            MemorySegment s = (MemorySegment) STRERROR.H.invokeExact(errno);
            return s.reinterpret(256).getString(0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- positional and vectored file I/O (block devices) ----

    /** Size of struct iovec on x86_64: {@code void *iov_base; size_t iov_len}. */
    public static final long IOVEC_SIZE = 16;
    /** The most iovecs one preadv/pwritev takes (IOV_MAX). */
    public static final int IOV_MAX = 1024;

    /** pread(2) into native memory at {@code offset}; returns bytes read (0 at end of file) or {@code -errno}. */
    public static long preadRaw(int fd, MemorySegment buf, long len, long offset) {
        try {
            MemorySegment st = callState();
            long r = (long) PREAD.H.invokeExact(st, fd, buf, len, offset);
            return r < 0 ? -errno(st) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** pwrite(2) from native memory at {@code offset}; returns bytes written or {@code -errno}. */
    public static long pwriteRaw(int fd, MemorySegment buf, long len, long offset) {
        try {
            MemorySegment st = callState();
            long r = (long) PWRITE.H.invokeExact(st, fd, buf, len, offset);
            return r < 0 ? -errno(st) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * preadv(2): {@code iovcnt} struct iovec at {@code iov} ({@link #IOVEC_SIZE} bytes each); returns bytes read or
     * {@code -errno}. Allocates nothing: the request path of a block device.
     */
    public static long preadvRaw(int fd, MemorySegment iov, int iovcnt, long offset) {
        try {
            MemorySegment st = callState();
            long r = (long) PREADV.H.invokeExact(st, fd, iov, iovcnt, offset);
            return r < 0 ? -errno(st) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** pwritev(2); returns bytes written or {@code -errno}. */
    public static long pwritevRaw(int fd, MemorySegment iov, int iovcnt, long offset) {
        try {
            MemorySegment st = callState();
            long r = (long) PWRITEV.H.invokeExact(st, fd, iov, iovcnt, offset);
            return r < 0 ? -errno(st) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * readv(2): {@code iovcnt} struct iovec at {@code iov}; returns bytes read or {@code -errno} (EAGAIN on an empty
     * non-blocking descriptor). Allocates nothing: the receive path of a network device.
     */
    public static long readvRaw(int fd, MemorySegment iov, int iovcnt) {
        try {
            MemorySegment st = callState();
            long r = (long) READV.H.invokeExact(st, fd, iov, iovcnt);
            return r < 0 ? -errno(st) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** writev(2); returns bytes written or {@code -errno}. Allocates nothing: the transmit path of a network device. */
    public static long writevRaw(int fd, MemorySegment iov, int iovcnt) {
        try {
            MemorySegment st = callState();
            long r = (long) WRITEV.H.invokeExact(st, fd, iov, iovcnt);
            return r < 0 ? -errno(st) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** setns(2) namespace type: a network namespace. */
    public static final int CLONE_NEWNET = 0x40000000;

    /**
     * setns(2): moves the calling thread into the namespace {@code nsFd} refers to (of type {@code nsType}, e.g.
     * {@link #CLONE_NEWNET}); a network namespace applies to the sockets and TAP devices the thread creates after.
     */
    public static void setns(int nsFd, int nsType) {
        try {
            MemorySegment st = callState();
            int r = (int) SETNS.H.invokeExact(st, nsFd, nsType);
            if (r < 0) {
                throw new NativeException("setns(fd " + nsFd + ")", errno(st));
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** fdatasync(2); returns 0 or {@code -errno}. */
    public static int fdatasyncRaw(int fd) {
        try {
            MemorySegment st = callState();
            int r = (int) FDATASYNC.H.invokeExact(st, fd);
            return r < 0 ? -errno(st) : 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // fallocate(2) modes (linux/falloc.h).
    public static final int FALLOC_FL_KEEP_SIZE = 0x01;
    public static final int FALLOC_FL_PUNCH_HOLE = 0x02;
    public static final int FALLOC_FL_ZERO_RANGE = 0x10;

    /** fallocate(2); returns 0 or {@code -errno} (EOPNOTSUPP where the filesystem lacks the mode). */
    public static int fallocateRaw(int fd, int mode, long offset, long len) {
        try {
            MemorySegment st = callState();
            int r = (int) FALLOCATE.H.invokeExact(st, fd, mode, offset, len);
            return r < 0 ? -errno(st) : 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // lseek(2) whence.
    public static final int SEEK_SET = 0;
    public static final int SEEK_END = 2;

    /** lseek(2); returns the new offset (for SEEK_END with 0: the file's or block device's size). */
    public static long lseek(int fd, long offset, int whence) {
        try {
            MemorySegment st = callState();
            long r = (long) LSEEK.H.invokeExact(st, fd, offset, whence);
            if (r < 0) {
                throw new NativeException("lseek(fd " + fd + ")", errno(st));
            }
            return r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // Open file description locks (fcntl(2), asm-generic/fcntl.h).
    public static final int F_OFD_GETLK = 36;
    public static final int F_OFD_SETLK = 37;
    public static final short F_RDLCK = 0;
    public static final short F_WRLCK = 1;
    public static final short F_UNLCK = 2;

    /**
     * fcntl(F_OFD_SETLK) on the whole file: {@code type} is {@link #F_RDLCK} (shared), {@link #F_WRLCK} (exclusive)
     * or {@link #F_UNLCK}. The lock belongs to the open file description, not the process, so a second open of the
     * same file in this process conflicts too (as QEMU's image locking relies on). Returns 0, or {@code -errno}:
     * EAGAIN or EACCES when another open file description holds a conflicting lock.
     */
    public static int ofdSetLockRaw(int fd, short type) {
        // glibc struct flock on x86_64: short l_type, short l_whence, off_t l_start @8, off_t l_len @16,
        // pid_t l_pid @24 (0 for OFD locks); 32 bytes.
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment flock = arena.allocate(32, 8);
            flock.set(ValueLayout.JAVA_SHORT, 0, type);
            flock.set(ValueLayout.JAVA_SHORT, 2, (short) SEEK_SET);
            MemorySegment st = callState();
            int r = (int) FCNTL_PTR.H.invokeExact(st, fd, F_OFD_SETLK, flock);
            return r < 0 ? -errno(st) : 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** A view of native memory at {@code address} of {@code size} bytes (for mappings made with {@link #mmap}). */
    public static MemorySegment segment(long address, long size) {
        return MemorySegment.ofAddress(address).reinterpret(size);
    }
}
