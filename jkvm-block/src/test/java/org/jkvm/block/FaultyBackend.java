package org.jkvm.block;

import java.lang.foreign.MemorySegment;

import org.jkvm.sys.Errno;

/** Wraps a backend and fails the next calls with an errno, as a full or broken host filesystem would. */
final class FaultyBackend implements BlockBackend {
    private final BlockBackend inner;
    int failWithErrno;
    int failuresLeft;

    FaultyBackend(BlockBackend inner) {
        this.inner = inner;
    }

    void failNext(int count, int errno) {
        failuresLeft = count;
        failWithErrno = errno;
    }

    private boolean fail() {
        if (failuresLeft > 0) {
            failuresLeft--;
            return true;
        }
        return false;
    }

    @Override
    public long sizeBytes() {
        return inner.sizeBytes();
    }

    @Override
    public boolean readOnly() {
        return inner.readOnly();
    }

    @Override
    public long readv(long offset, MemorySegment iov, int iovcnt, long totalBytes) {
        return fail() ? -failWithErrno : inner.readv(offset, iov, iovcnt, totalBytes);
    }

    @Override
    public long writev(long offset, MemorySegment iov, int iovcnt, long totalBytes) {
        return fail() ? -failWithErrno : inner.writev(offset, iov, iovcnt, totalBytes);
    }

    @Override
    public long read(long offset, MemorySegment buf, long len) {
        return fail() ? -failWithErrno : inner.read(offset, buf, len);
    }

    @Override
    public long write(long offset, MemorySegment buf, long len) {
        return fail() ? -failWithErrno : inner.write(offset, buf, len);
    }

    @Override
    public int flush() {
        return fail() ? -Errno.EIO : inner.flush();
    }

    @Override
    public int discard(long offset, long len) {
        return fail() ? -failWithErrno : inner.discard(offset, len);
    }

    @Override
    public int writeZeroes(long offset, long len, boolean mayUnmap) {
        return fail() ? -failWithErrno : inner.writeZeroes(offset, len, mayUnmap);
    }

    @Override
    public void close() {
        inner.close();
    }
}
