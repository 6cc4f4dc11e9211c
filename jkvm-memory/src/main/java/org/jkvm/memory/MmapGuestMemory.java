package org.jkvm.memory;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import org.jkvm.sys.Libc;

/**
 * Guest RAM in one anonymous private mapping with {@code MAP_NORESERVE}: pages are committed only as the guest (or
 * the VMM) touches them, so a 64 GiB guest that uses 100 MiB costs 100 MiB. The layout's regions are consecutive
 * slices of that mapping.
 */
public final class MmapGuestMemory implements GuestMemory {
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;

    private final long hostBase;
    private final long sizeBytes;
    private final List<MemoryRegion> regions;
    // The first two regions, unpacked for the common lookups (a PC layout has at most two).
    private final long r0Gpa;
    private final long r0Size;
    private final MemorySegment r0;
    private final long r1Gpa;
    private final long r1Size;
    private final MemorySegment r1;
    private volatile boolean closed;
    private boolean fileBacked;

    private MmapGuestMemory(long hostBase, long sizeBytes, List<MemoryRegion> regions) {
        this.hostBase = hostBase;
        this.sizeBytes = sizeBytes;
        this.regions = List.copyOf(regions);
        MemoryRegion a = regions.get(0);
        r0Gpa = a.gpa();
        r0Size = a.sizeBytes();
        r0 = a.host();
        if (regions.size() > 1) {
            MemoryRegion b = regions.get(1);
            r1Gpa = b.gpa();
            r1Size = b.sizeBytes();
            r1 = b.host();
        } else {
            r1Gpa = -1;
            r1Size = 0;
            r1 = MemorySegment.NULL;
        }
        if (regions.size() > 2) {
            throw new IllegalArgumentException("at most two RAM regions");
        }
    }

    /** Maps RAM for {@code layout}; nothing is committed until touched. */
    public static MmapGuestMemory create(PcMemoryLayout layout) {
        long size = layout.sizeBytes();
        long base = Libc.mmap(0, size, Libc.PROT_READ | Libc.PROT_WRITE,
                Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_NORESERVE, -1, 0);
        List<MemoryRegion> regions = new ArrayList<>();
        long offset = 0;
        int slot = 0;
        for (PcMemoryLayout.Range r : layout.ranges()) {
            regions.add(new MemoryRegion(slot++, r.gpa(), r.sizeBytes(), Libc.segment(base + offset, r.sizeBytes())));
            offset += r.sizeBytes();
        }
        return new MmapGuestMemory(base, size, regions);
    }

    /**
     * Maps RAM for {@code layout} from {@code ramFile} privately (copy-on-write, {@code MAP_PRIVATE}): pages are read
     * from the file only when the guest or the VMM first touches them, and writes never reach the file, so mapping a
     * snapshot's RAM costs the same whatever its size and one file can back any number of VMs. The file must hold
     * exactly {@code layout.sizeBytes()} bytes, the regions back to back (holes read as zero).
     *
     * @throws IllegalArgumentException when the file's size is not the layout's
     */
    public static MmapGuestMemory mapPrivate(PcMemoryLayout layout, java.nio.file.Path ramFile) {
        long size = layout.sizeBytes();
        long fileSize;
        try {
            fileSize = java.nio.file.Files.size(ramFile);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("cannot read guest RAM file " + ramFile + ": " + e.getMessage(), e);
        }
        if (fileSize != size) {
            throw new IllegalArgumentException("guest RAM file " + ramFile + " holds " + fileSize + " bytes, not the "
                    + size + " the snapshot's memory size needs (truncated or not this snapshot's)");
        }
        int fd = Libc.open(ramFile.toString(), Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        long base;
        try {
            base = Libc.mmap(0, size, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_PRIVATE | Libc.MAP_NORESERVE, fd, 0);
        } finally {
            Libc.close(fd);
        }
        List<MemoryRegion> regions = new ArrayList<>();
        long offset = 0;
        int slot = 0;
        for (PcMemoryLayout.Range r : layout.ranges()) {
            regions.add(new MemoryRegion(slot++, r.gpa(), r.sizeBytes(), Libc.segment(base + offset, r.sizeBytes())));
            offset += r.sizeBytes();
        }
        MmapGuestMemory m = new MmapGuestMemory(base, size, regions);
        m.fileBacked = true;
        return m;
    }

    /**
     * True when RAM is a private mapping of a file ({@link #mapPrivate}): a page the guest never touched reads from
     * the file. False for anonymous RAM, where such a page is zero.
     */
    public boolean fileBacked() {
        return fileBacked;
    }

    @Override
    public List<MemoryRegion> regions() {
        return regions;
    }

    @Override
    public long sizeBytes() {
        return sizeBytes;
    }

    @Override
    public boolean contains(long gpa, long len) {
        if (len < 0) {
            return false;
        }
        return (gpa >= r0Gpa && gpa - r0Gpa <= r0Size - len) || (gpa >= r1Gpa && r1Gpa >= 0 && gpa - r1Gpa <= r1Size - len);
    }

    /** The segment holding {@code [gpa, gpa+len)}; {@link #offset} gives the offset in it. */
    private MemorySegment region(long gpa, long len) {
        if (closed) {
            throw new IllegalStateException("guest memory is closed");
        }
        if (len >= 0 && gpa >= r0Gpa && gpa - r0Gpa <= r0Size - len) {
            return r0;
        }
        if (len >= 0 && r1Gpa >= 0 && gpa >= r1Gpa && gpa - r1Gpa <= r1Size - len) {
            return r1;
        }
        throw new GuestMemoryException(gpa, len);
    }

    private long offset(MemorySegment seg, long gpa) {
        return seg == r0 ? gpa - r0Gpa : gpa - r1Gpa;
    }

    @Override
    public MemorySegment slice(long gpa, long len) {
        MemorySegment seg = region(gpa, len);
        return seg.asSlice(offset(seg, gpa), len);
    }

    @Override
    public byte readByte(long gpa) {
        MemorySegment s = region(gpa, 1);
        return s.get(ValueLayout.JAVA_BYTE, offset(s, gpa));
    }

    @Override
    public short readShort(long gpa) {
        MemorySegment s = region(gpa, 2);
        return s.get(SHORT, offset(s, gpa));
    }

    @Override
    public int readInt(long gpa) {
        MemorySegment s = region(gpa, 4);
        return s.get(INT, offset(s, gpa));
    }

    @Override
    public long readLong(long gpa) {
        MemorySegment s = region(gpa, 8);
        return s.get(LONG, offset(s, gpa));
    }

    @Override
    public void writeByte(long gpa, byte value) {
        MemorySegment s = region(gpa, 1);
        s.set(ValueLayout.JAVA_BYTE, offset(s, gpa), value);
    }

    @Override
    public void writeShort(long gpa, short value) {
        MemorySegment s = region(gpa, 2);
        s.set(SHORT, offset(s, gpa), value);
    }

    @Override
    public void writeInt(long gpa, int value) {
        MemorySegment s = region(gpa, 4);
        s.set(INT, offset(s, gpa), value);
    }

    @Override
    public void writeLong(long gpa, long value) {
        MemorySegment s = region(gpa, 8);
        s.set(LONG, offset(s, gpa), value);
    }

    @Override
    public void read(long gpa, byte[] dst, int off, int len) {
        java.util.Objects.checkFromIndexSize(off, len, dst.length);
        MemorySegment s = region(gpa, len);
        MemorySegment.copy(s, ValueLayout.JAVA_BYTE, offset(s, gpa), dst, off, len);
    }

    @Override
    public void write(long gpa, byte[] src, int off, int len) {
        java.util.Objects.checkFromIndexSize(off, len, src.length);
        MemorySegment s = region(gpa, len);
        MemorySegment.copy(src, off, s, ValueLayout.JAVA_BYTE, offset(s, gpa), len);
    }

    @Override
    public void fill(long gpa, long len, byte value) {
        slice(gpa, len).fill(value);
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            Libc.munmap(hostBase, sizeBytes);
        }
    }
}
