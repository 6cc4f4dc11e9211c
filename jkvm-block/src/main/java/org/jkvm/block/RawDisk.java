package org.jkvm.block;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import org.jkvm.sys.Errno;
import org.jkvm.sys.Libc;
import org.jkvm.sys.NativeException;

/**
 * A raw image file as a {@link BlockBackend}: sector {@code n} is bytes {@code [512n, 512n+512)} of the file; the
 * capacity is the file's size rounded down to a sector.
 *
 * <p><b>Locking.</b> The file gets an open-file-description lock (fcntl F_OFD_SETLK) on open: exclusive for a
 * writable disk, shared for a read-only one, so a second writer, or a writer beside readers, is refused with QEMU's
 * wording ({@code Failed to get "write" lock}). OFD locks belong to the open file, so two opens in one process
 * conflict too, and the lock goes away with the file descriptor (also when the process dies).
 *
 * <p><b>cache=none.</b> The file is opened with O_DIRECT (the host page cache is bypassed, as QEMU's cache=none).
 * Where the filesystem refuses O_DIRECT (EINVAL at open) the disk falls back to the page cache and says so in
 * {@link #direct()}. O_DIRECT needs the file offset, the length and the memory to be aligned; jkvm assumes 4096 (the
 * largest logical block size of common hosts). Requests with an unaligned offset or length go through a second,
 * buffered descriptor of the same file (Linux keeps the two coherent: direct I/O writes back and invalidates the
 * cached range); requests whose guest buffers are unaligned are bounced by the device through an aligned buffer
 * ({@link BlockRequestHandler}), so aligned requests keep O_DIRECT.
 */
public final class RawDisk implements BlockBackend {
    /** Alignment assumed for O_DIRECT (offset, length and memory). */
    public static final int DIRECT_ALIGN = 4096;
    private static final long ZERO_CHUNK = 1 << 20;

    private final String path;
    private final int fd;
    /** The buffered descriptor for unaligned requests under O_DIRECT, or {@link #fd} itself. */
    private final int bufferedFd;
    private final boolean direct;
    private final boolean readOnly;
    private final long sizeBytes;
    private volatile boolean closed;
    private MemorySegment zeroes;

    private RawDisk(String path, int fd, int bufferedFd, boolean direct, boolean readOnly, long sizeBytes) {
        this.path = path;
        this.fd = fd;
        this.bufferedFd = bufferedFd;
        this.direct = direct;
        this.readOnly = readOnly;
        this.sizeBytes = sizeBytes;
    }

    /**
     * Opens and locks the image of {@code config}.
     *
     * @throws IOException naming the file and the reason: missing, no permission, a directory, or locked by
     *     another user of the image
     */
    public static RawDisk open(DiskConfig config) throws IOException {
        String path = config.path().toString();
        boolean ro = config.readOnly();
        int base = (ro ? Libc.O_RDONLY : Libc.O_RDWR) | Libc.O_CLOEXEC;
        boolean direct = config.cache() == DiskConfig.CacheMode.NONE;
        int fd;
        try {
            fd = Libc.open(path, base | (direct ? Libc.O_DIRECT : 0), 0);
        } catch (NativeException e) {
            if (direct && e.errno() == Errno.EINVAL) {
                direct = false;
                fd = openOrThrow(path, base);
            } else {
                throw new IOException("disk " + path + ": cannot open: " + reason(e), e);
            }
        }
        int bufferedFd = fd;
        try {
            int r = Libc.ofdSetLockRaw(fd, ro ? Libc.F_RDLCK : Libc.F_WRLCK);
            if (r == -Errno.EAGAIN || r == -Errno.EACCES) {
                throw new IOException("disk " + path + ": Failed to get " + (ro ? "shared " : "")
                        + "\"write\" lock: is another process (or another disk of this VM) using the image?");
            }
            if (r < 0) {
                throw new IOException("disk " + path + ": cannot lock the image: " + Errno.name(-r) + " ("
                        + Libc.strerror(-r) + ")");
            }
            long size = Libc.lseek(fd, 0, Libc.SEEK_END);
            if (direct) {
                bufferedFd = openOrThrow(path, base);
            }
            return new RawDisk(path, fd, bufferedFd, direct, ro, size & ~(long) (VirtioBlk.SECTOR_SIZE - 1));
        } catch (IOException | RuntimeException e) {
            Libc.close(fd);
            if (bufferedFd != fd) {
                Libc.close(bufferedFd);
            }
            throw e;
        }
    }

    private static int openOrThrow(String path, int flags) throws IOException {
        try {
            return Libc.open(path, flags, 0);
        } catch (NativeException e) {
            throw new IOException("disk " + path + ": cannot open: " + reason(e), e);
        }
    }

    private static String reason(NativeException e) {
        return switch (e.errno()) {
            case Errno.ENOENT -> "no such file";
            case Errno.EACCES, Errno.EPERM -> "permission denied";
            case Errno.EISDIR -> "is a directory";
            case Errno.EROFS -> "read-only filesystem (use readonly=on)";
            default -> Errno.name(e.errno()) + " (" + Libc.strerror(e.errno()) + ")";
        };
    }

    public String path() {
        return path;
    }

    /** True if the image is read with O_DIRECT (cache=none on a filesystem that supports it). */
    public boolean direct() {
        return direct;
    }

    @Override
    public long sizeBytes() {
        return sizeBytes;
    }

    @Override
    public boolean readOnly() {
        return readOnly;
    }

    @Override
    public int memoryAlignment() {
        return direct ? DIRECT_ALIGN : 1;
    }

    private int fdFor(long offset, long len) {
        return direct && ((offset | len) & (DIRECT_ALIGN - 1)) == 0 ? fd : bufferedFd;
    }

    private static boolean iovAligned(MemorySegment iov, int iovcnt) {
        for (int i = 0; i < iovcnt; i++) {
            long base = iov.get(ValueLayout.JAVA_LONG, i * Libc.IOVEC_SIZE);
            long len = iov.get(ValueLayout.JAVA_LONG, i * Libc.IOVEC_SIZE + 8);
            if (((base | len) & (DIRECT_ALIGN - 1)) != 0) {
                return false;
            }
        }
        return true;
    }

    @Override
    public long readv(long offset, MemorySegment iov, int iovcnt, long totalBytes) {
        int f = fdFor(offset, totalBytes);
        if (f == fd && direct && !iovAligned(iov, iovcnt)) {
            f = bufferedFd;
        }
        return vectored(f, false, offset, iov, iovcnt, totalBytes);
    }

    @Override
    public long writev(long offset, MemorySegment iov, int iovcnt, long totalBytes) {
        if (readOnly) {
            return -Errno.EROFS;
        }
        int f = fdFor(offset, totalBytes);
        if (f == fd && direct && !iovAligned(iov, iovcnt)) {
            f = bufferedFd;
        }
        return vectored(f, true, offset, iov, iovcnt, totalBytes);
    }

    /** preadv/pwritev until done: a partial transfer advances the iovecs in place (EINTR is retried). */
    private static long vectored(int f, boolean write, long offset, MemorySegment iov, int iovcnt, long total) {
        long done = 0;
        int first = 0;
        while (done < total) {
            MemorySegment rest = first == 0 ? iov : iov.asSlice(first * Libc.IOVEC_SIZE);
            long r = write ? Libc.pwritevRaw(f, rest, iovcnt - first, offset + done)
                    : Libc.preadvRaw(f, rest, iovcnt - first, offset + done);
            if (r == -Errno.EINTR) {
                continue;
            }
            if (r < 0) {
                return r;
            }
            if (r == 0) {
                return -Errno.EIO;
            }
            done += r;
            // Skip the iovecs fully transferred; trim the partial one.
            while (r > 0 && first < iovcnt) {
                long at = first * Libc.IOVEC_SIZE;
                long len = iov.get(ValueLayout.JAVA_LONG, at + 8);
                if (r >= len) {
                    r -= len;
                    first++;
                } else {
                    iov.set(ValueLayout.JAVA_LONG, at, iov.get(ValueLayout.JAVA_LONG, at) + r);
                    iov.set(ValueLayout.JAVA_LONG, at + 8, len - r);
                    r = 0;
                }
            }
        }
        return done;
    }

    @Override
    public long read(long offset, MemorySegment buf, long len) {
        return single(fdFor(offset, len), false, offset, buf, len);
    }

    @Override
    public long write(long offset, MemorySegment buf, long len) {
        if (readOnly) {
            return -Errno.EROFS;
        }
        return single(fdFor(offset, len), true, offset, buf, len);
    }

    private static long single(int f, boolean write, long offset, MemorySegment buf, long len) {
        long done = 0;
        while (done < len) {
            MemorySegment at = done == 0 ? buf : buf.asSlice(done);
            long r = write ? Libc.pwriteRaw(f, at, len - done, offset + done)
                    : Libc.preadRaw(f, at, len - done, offset + done);
            if (r == -Errno.EINTR) {
                continue;
            }
            if (r < 0) {
                return r;
            }
            if (r == 0) {
                return -Errno.EIO;
            }
            done += r;
        }
        return done;
    }

    @Override
    public int flush() {
        int r;
        do {
            r = Libc.fdatasyncRaw(fd);
        } while (r == -Errno.EINTR);
        return r;
    }

    @Override
    public int discard(long offset, long len) {
        if (readOnly) {
            return -Errno.EROFS;
        }
        int r = Libc.fallocateRaw(fd, Libc.FALLOC_FL_PUNCH_HOLE | Libc.FALLOC_FL_KEEP_SIZE, offset, len);
        // Discard is a hint (section 5.2.6.3: the device MAY deallocate): a filesystem without holes is fine.
        return r == -Errno.EOPNOTSUPP || r == -Errno.ENOSYS ? 0 : r;
    }

    @Override
    public int writeZeroes(long offset, long len, boolean mayUnmap) {
        if (readOnly) {
            return -Errno.EROFS;
        }
        int mode = mayUnmap ? Libc.FALLOC_FL_PUNCH_HOLE | Libc.FALLOC_FL_KEEP_SIZE
                : Libc.FALLOC_FL_ZERO_RANGE | Libc.FALLOC_FL_KEEP_SIZE;
        int r = Libc.fallocateRaw(fd, mode, offset, len);
        if (r != -Errno.EOPNOTSUPP && r != -Errno.ENOSYS && r != -Errno.EINVAL) {
            return r;
        }
        // No hole punching here: write zeroes.
        MemorySegment z = zeroBuffer();
        for (long done = 0; done < len; ) {
            long n = Math.min(ZERO_CHUNK, len - done);
            long w = single(fdFor(offset + done, n), true, offset + done, z, n);
            if (w < 0) {
                return (int) w;
            }
            done += n;
        }
        return 0;
    }

    private synchronized MemorySegment zeroBuffer() {
        if (zeroes == null) {
            zeroes = Arena.ofAuto().allocate(ZERO_CHUNK, DIRECT_ALIGN);
        }
        return zeroes;
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            if (bufferedFd != fd) {
                Libc.close(bufferedFd);
            }
            Libc.close(fd);
        }
    }
}
