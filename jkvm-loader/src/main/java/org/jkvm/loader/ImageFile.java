package org.jkvm.loader;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import org.jkvm.memory.GuestMemory;

/**
 * An untrusted input file (kernel or initrd) opened for random access. Every read is bounds-checked against the file
 * size and fails with a {@link KernelLoadException} naming the file; large ranges are copied straight into guest
 * memory, never through a heap array as big as the file.
 */
final class ImageFile implements AutoCloseable {
    private static final int CHUNK_BYTES = 1 << 30;

    private final Path path;
    private final FileChannel channel;
    private final long sizeBytes;

    private ImageFile(Path path, FileChannel channel, long sizeBytes) {
        this.path = path;
        this.channel = channel;
        this.sizeBytes = sizeBytes;
    }

    static ImageFile open(Path path) throws KernelLoadException {
        if (Files.isDirectory(path)) {
            throw new KernelLoadException(path, "is a directory, not a file");
        }
        FileChannel ch = null;
        try {
            ch = FileChannel.open(path, StandardOpenOption.READ);
            return new ImageFile(path, ch, ch.size());
        } catch (NoSuchFileException e) {
            throw new KernelLoadException(path, "no such file", e);
        } catch (IOException e) {
            closeQuietly(ch);
            throw new KernelLoadException(path, "cannot read: " + e, e);
        }
    }

    Path path() {
        return path;
    }

    long sizeBytes() {
        return sizeBytes;
    }

    /** A {@link KernelLoadException} about this file. */
    KernelLoadException error(String problem) {
        return new KernelLoadException(path, problem);
    }

    /** Exactly {@code len} bytes at {@code offset}; a file too short is "truncated". */
    byte[] read(long offset, int len) throws KernelLoadException {
        requireRange("header", offset, len);
        byte[] b = new byte[len];
        readFully(ByteBuffer.wrap(b), offset);
        return b;
    }

    /** Up to {@code maxLen} bytes at {@code offset} (fewer at the end of the file). */
    byte[] readUpTo(long offset, int maxLen) throws KernelLoadException {
        if (offset < 0) {
            throw error("negative file offset " + offset);
        }
        int len = (int) Math.max(0, Math.min(maxLen, sizeBytes - offset));
        return read(offset, len);
    }

    /**
     * Fails unless {@code [offset, offset + len)} lies inside the file. An empty range is always fine (ELF bss-only
     * segments may carry any p_offset).
     */
    void requireRange(String what, long offset, long len) throws KernelLoadException {
        if (len == 0) {
            return;
        }
        if (offset < 0 || len < 0 || offset > sizeBytes || len > sizeBytes - offset) {
            throw error("truncated: " + what + " at file offset " + Le.hex(offset) + " needs " + len
                    + " bytes but the file has " + sizeBytes);
        }
    }

    /** Copies {@code [offset, offset + len)} of the file to guest memory at {@code gpa} (validated by the caller). */
    void copyTo(GuestMemory memory, long gpa, long offset, long len) throws KernelLoadException {
        requireRange("data", offset, len);
        if (len == 0) {
            return;
        }
        MemorySegment dst = memory.slice(gpa, len);
        for (long done = 0; done < len; ) {
            long n = Math.min(CHUNK_BYTES, len - done);
            readFully(dst.asSlice(done, n).asByteBuffer(), offset + done);
            done += n;
        }
    }

    private void readFully(ByteBuffer dst, long offset) throws KernelLoadException {
        try {
            long pos = offset;
            while (dst.hasRemaining()) {
                int n = channel.read(dst, pos);
                if (n < 0) {
                    throw error("truncated: the file shrank while it was being read");
                }
                pos += n;
            }
        } catch (IOException e) {
            throw new KernelLoadException(path, "read error: " + e, e);
        }
    }

    @Override
    public void close() {
        closeQuietly(channel);
    }

    private static void closeQuietly(FileChannel ch) {
        if (ch != null) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // read-only file: nothing to lose
            }
        }
    }
}
