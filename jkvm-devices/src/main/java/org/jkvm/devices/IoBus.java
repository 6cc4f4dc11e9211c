package org.jkvm.devices;

/**
 * An address space of devices: one instance for x86 port I/O, one for MMIO. Each device owns a half-open range
 * {@code [base, base + length)} and is handed offsets into it.
 *
 * <p>Lookups allocate nothing: the ranges live in sorted arrays searched by binary search. The arrays are an
 * immutable snapshot behind a volatile field, replaced whole on {@link #register} (copy on write), so any number of
 * vCPU threads look up concurrently without locking while registration, which is rare, is serialized.
 *
 * <p>An access that starts inside a device's range goes to that device even if it runs past the range's end (the
 * device sees an offset near its end and a size it must cope with). An access starting at an unmapped address
 * reads as all ones for the access size, like a PC's floating ISA bus, and writes are dropped.
 */
public final class IoBus {

    /** One immutable view of the registrations, sorted by base. */
    private record Table(long[] bases, long[] ends, BusDevice[] devices) {
    }

    private volatile Table table = new Table(new long[0], new long[0], new BusDevice[0]);

    /**
     * Places {@code device} at {@code [base, base + length)}.
     *
     * @throws IllegalArgumentException if base is negative, length is not positive, the range overflows, or it
     *                                  overlaps an existing registration
     */
    public synchronized void register(long base, long length, BusDevice device) {
        if (device == null) {
            throw new NullPointerException("device");
        }
        if (base < 0 || length <= 0 || base > Long.MAX_VALUE - length) {
            throw new IllegalArgumentException(
                    "bad range: base 0x" + Long.toHexString(base) + " length 0x" + Long.toHexString(length));
        }
        long end = base + length;
        Table t = table;
        int n = t.bases.length;
        int at = 0;
        while (at < n && t.bases[at] < base) {
            at++;
        }
        if (at > 0 && t.ends[at - 1] > base) {
            throw overlap(base, end, t, at - 1);
        }
        if (at < n && t.bases[at] < end) {
            throw overlap(base, end, t, at);
        }
        long[] bases = new long[n + 1];
        long[] ends = new long[n + 1];
        BusDevice[] devices = new BusDevice[n + 1];
        System.arraycopy(t.bases, 0, bases, 0, at);
        System.arraycopy(t.ends, 0, ends, 0, at);
        System.arraycopy(t.devices, 0, devices, 0, at);
        bases[at] = base;
        ends[at] = end;
        devices[at] = device;
        System.arraycopy(t.bases, at, bases, at + 1, n - at);
        System.arraycopy(t.ends, at, ends, at + 1, n - at);
        System.arraycopy(t.devices, at, devices, at + 1, n - at);
        table = new Table(bases, ends, devices);
    }

    private static IllegalArgumentException overlap(long base, long end, Table t, int i) {
        return new IllegalArgumentException(String.format(
                "range [0x%x, 0x%x) overlaps [0x%x, 0x%x) of %s", base, end, t.bases[i], t.ends[i], t.devices[i]));
    }

    /** Index of the registration containing {@code addr} in {@code t}, or -1. */
    private static int find(Table t, long addr) {
        long[] bases = t.bases;
        int lo = 0;
        int hi = bases.length - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (bases[mid] <= addr) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        if (found >= 0 && addr < t.ends[found]) {
            return found;
        }
        return -1;
    }

    /** Reads {@code size} bytes at {@code addr}; unmapped addresses read as all ones for the size. */
    public long read(long addr, int size) {
        long mask = AccessSize.mask(size);
        Table t = table;
        int i = find(t, addr);
        if (i < 0) {
            return mask;
        }
        return t.devices[i].read(addr - t.bases[i], size) & mask;
    }

    /** Writes the low {@code size} bytes of {@code value} at {@code addr}; unmapped addresses ignore it. */
    public void write(long addr, int size, long value) {
        Table t = table;
        int i = find(t, addr);
        if (i >= 0) {
            t.devices[i].write(addr - t.bases[i], size, value & AccessSize.mask(size));
        }
    }

    /** Whether some device's range contains {@code addr}. */
    public boolean isMapped(long addr) {
        return find(table, addr) >= 0;
    }

    @Override
    public String toString() {
        Table t = table;
        StringBuilder sb = new StringBuilder("IoBus[");
        for (int i = 0; i < t.bases.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(String.format("0x%x-0x%x %s", t.bases[i], t.ends[i] - 1,
                    t.devices[i].getClass().getSimpleName()));
        }
        return sb.append(']').toString();
    }
}
