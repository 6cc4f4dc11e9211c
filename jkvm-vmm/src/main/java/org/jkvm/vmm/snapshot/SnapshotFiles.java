package org.jkvm.vmm.snapshot;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

import org.jkvm.memory.GuestMemory;
import org.jkvm.memory.MemoryRegion;

/**
 * A snapshot on disk (docs/snapshot.md): a directory with {@value #STATE_FILE}, the header and the state tree, and
 * {@value #MEMORY_FILE}, guest RAM. The state file is the 8-byte magic {@code JKVMSNAP}, the format version (u32),
 * flags (u32, 0), the payload's length (u64) and CRC32C (u32), all little-endian, then the payload: the
 * {@link VmState} as UTF-8 JSON. The RAM file holds the RAM regions back to back, written sparsely: all-zero 4 KiB
 * pages are holes. Everything read is checked: magic, version (a newer one is refused), length, checksum, then the
 * records' own validation; any failure is a {@link SnapshotException} with the reason.
 */
public final class SnapshotFiles {
    public static final String STATE_FILE = "vmstate";
    public static final String MEMORY_FILE = "memory";
    public static final int FORMAT_VERSION = 1;
    static final byte[] MAGIC = "JKVMSNAP".getBytes(StandardCharsets.US_ASCII);
    static final int HEADER_BYTES = 28;
    /** The largest state payload read back (a 255-vCPU VM's tree is far below it). */
    static final long MAX_PAYLOAD = 64L << 20;
    private static final int PAGE = 4096;

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private SnapshotFiles() {}

    /** The state file's bytes: header and JSON payload. */
    public static byte[] encodeState(VmState state) {
        byte[] payload;
        try {
            payload = JSON.writeValueAsBytes(state);
        } catch (JsonProcessingException e) {
            throw new SnapshotException("cannot encode the VM state: " + e.getOriginalMessage(), e);
        }
        CRC32C crc = new CRC32C();
        crc.update(payload);
        ByteBuffer b = ByteBuffer.allocate(HEADER_BYTES + payload.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).putInt(FORMAT_VERSION).putInt(0).putLong(payload.length).putInt((int) crc.getValue());
        b.put(payload);
        return b.array();
    }

    /** Parses and validates a state file's bytes ({@code source} names it in errors). */
    public static VmState decodeState(byte[] file, String source) {
        if (file.length < HEADER_BYTES) {
            throw new SnapshotException(source + ": truncated (" + file.length + " bytes, the header alone is "
                    + HEADER_BYTES + ")");
        }
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        byte[] magic = new byte[MAGIC.length];
        b.get(magic);
        if (!java.util.Arrays.equals(magic, MAGIC)) {
            throw new SnapshotException(source + ": not a jkvm snapshot (bad magic)");
        }
        int version = b.getInt();
        if (version > FORMAT_VERSION) {
            throw new SnapshotException(source + ": snapshot format version " + Integer.toUnsignedString(version)
                    + " is newer than this jkvm reads (" + FORMAT_VERSION + ")");
        }
        if (version < 1) {
            throw new SnapshotException(source + ": invalid snapshot format version " + version);
        }
        int flags = b.getInt();
        if (flags != 0) {
            throw new SnapshotException(source + ": unknown header flags 0x" + Integer.toHexString(flags));
        }
        long length = b.getLong();
        int expectedCrc = b.getInt();
        if (length < 0 || length > MAX_PAYLOAD) {
            throw new SnapshotException(source + ": state length " + length + " out of range");
        }
        if (file.length - HEADER_BYTES != length) {
            throw new SnapshotException(source + ": " + (file.length - HEADER_BYTES < length ? "truncated" : "trailing data")
                    + " (state holds " + (file.length - HEADER_BYTES) + " bytes, header says " + length + ")");
        }
        CRC32C crc = new CRC32C();
        crc.update(file, HEADER_BYTES, (int) length);
        if ((int) crc.getValue() != expectedCrc) {
            throw new SnapshotException(source + ": checksum mismatch (corrupt state)");
        }
        try {
            return JSON.readValue(file, HEADER_BYTES, (int) length, VmState.class);
        } catch (IOException | RuntimeException e) {
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            throw new SnapshotException(source + ": invalid state: " + root.getMessage(), e);
        }
    }

    /** Reads and validates {@code dir}'s state file. */
    public static VmState readState(Path dir) {
        Path p = dir.resolve(STATE_FILE);
        try {
            long size = Files.size(p);
            if (size > MAX_PAYLOAD + HEADER_BYTES) {
                throw new SnapshotException(p + ": " + size + " bytes is too large for a state file");
            }
            return decodeState(Files.readAllBytes(p), p.toString());
        } catch (IOException e) {
            throw new SnapshotException("cannot read snapshot state " + p + ": " + e, e);
        }
    }

    /**
     * Writes a snapshot into {@code dir} (created if needed; a snapshot already there is replaced): RAM first, then
     * the state file through a temporary name, so a directory with a state file always has its whole RAM file. Returns the bytes of RAM written (the
     * pages that were not all zero).
     */
    public static long write(Path dir, VmState state, GuestMemory memory) {
        try {
            Files.createDirectories(dir);
            // An older snapshot here loses its state file first: a crash part-way leaves no state file (refused on
            // load), never an old state beside new RAM.
            Files.deleteIfExists(dir.resolve(STATE_FILE));
            long written = writeMemory(dir.resolve(MEMORY_FILE), memory);
            Path tmp = dir.resolve(STATE_FILE + ".tmp");
            Files.write(tmp, encodeState(state));
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            Files.move(tmp, dir.resolve(STATE_FILE), StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
            return written;
        } catch (IOException e) {
            throw new SnapshotException("cannot write snapshot to " + dir + ": " + e, e);
        }
    }

    /** Guest RAM to {@code file}, regions back to back, all-zero pages left as holes; returns the bytes written. */
    static long writeMemory(Path file, GuestMemory memory) throws IOException {
        Files.deleteIfExists(file);
        long total = 0;
        long written = 0;
        MemorySegment zero = MemorySegment.ofArray(new byte[PAGE]);
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            FileChannel ch = raf.getChannel();
            boolean anonymous = memory instanceof org.jkvm.memory.MmapGuestMemory m && !m.fileBacked();
            for (MemoryRegion r : memory.regions()) {
                MemorySegment host = r.host();
                long size = r.sizeBytes();
                PageMap map = anonymous ? PageMap.read(host.address(), size) : null;
                long runStart = -1;
                for (long off = 0; off <= size; off += PAGE) {
                    boolean dataPage = off < size && (map == null || map.mayHoldData(off / PAGE))
                            && MemorySegment.mismatch(host, off, Math.min(off + PAGE, size), zero, 0,
                                    Math.min(PAGE, size - off)) >= 0;
                    if (dataPage && runStart < 0) {
                        runStart = off;
                    } else if (!dataPage && runStart >= 0) {
                        written += writeFully(ch, host.asSlice(runStart, Math.min(off, size) - runStart),
                                total + runStart);
                        runStart = -1;
                    }
                }
                total += size;
            }
            raf.setLength(total);
            ch.force(true);
        }
        return written;
    }

    /**
     * /proc/self/pagemap for a range of anonymous memory (Documentation/admin-guide/mm/pagemap.rst): a page neither
     * present (bit 63) nor swapped (bit 62) was never written and reads as zero, so the RAM writer skips it without
     * touching it (reading it would fault in the zero page, about a microsecond a page). Null-safe fallback: when
     * the file cannot be read every page is checked.
     */
    private record PageMap(long[] entries) {
        private static final long PRESENT_OR_SWAPPED = 3L << 62;

        static PageMap read(long address, long size) {
            long pages = (size + PAGE - 1) / PAGE;
            if (pages > Integer.MAX_VALUE / 8) {
                return null;
            }
            ByteBuffer b = ByteBuffer.allocate((int) (pages * 8)).order(ByteOrder.nativeOrder());
            try (FileChannel ch = FileChannel.open(Path.of("/proc/self/pagemap"), StandardOpenOption.READ)) {
                long pos = address / PAGE * 8;
                while (b.hasRemaining()) {
                    if (ch.read(b, pos + b.position()) <= 0) {
                        return null;
                    }
                }
            } catch (IOException | UnsupportedOperationException e) {
                return null;
            }
            b.flip();
            long[] e = new long[(int) pages];
            b.asLongBuffer().get(e);
            return new PageMap(e);
        }

        boolean mayHoldData(long page) {
            return (entries[(int) page] & PRESENT_OR_SWAPPED) != 0;
        }
    }

    private static long writeFully(FileChannel ch, MemorySegment data, long position) throws IOException {
        ByteBuffer buf = data.asByteBuffer();
        long n = 0;
        while (buf.hasRemaining()) {
            n += ch.write(buf, position + n);
        }
        return n;
    }

    /** How many bytes of {@code file} are allocated on disk (holes excluded), for reports. */
    public static long allocatedBytes(Path file) {
        try {
            Object blocks = Files.getAttribute(file, "unix:blocks");
            return blocks instanceof Number n ? n.longValue() * 512 : -1;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return -1;
        }
    }

}
