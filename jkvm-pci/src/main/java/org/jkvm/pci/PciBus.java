package org.jkvm.pci;

import java.util.ArrayList;
import java.util.List;

import org.jkvm.devices.BusDevice;

/**
 * PCI bus 0: up to 32 single-function devices, their configuration spaces (reached through {@link PciConfigIo} and
 * {@link PciEcam}) and the memory their BARs decode. The BAR decode is a {@link BusDevice} per window
 * ({@link #windowDevice}) registered on the MMIO bus over the whole window: a guest access inside it goes to the
 * BAR that holds that address now (the guest may move BARs at any time), and reads as all ones where no BAR
 * decodes. A BAR decodes only while its function's memory space enable bit is set and only if it lies entirely
 * inside one window: a BAR the guest points at RAM, or across a window's end, decodes nothing.
 *
 * <p>The decode table is an immutable snapshot behind a volatile field, rebuilt after config writes that touch a
 * command or BAR register; lookups allocate nothing and take no lock.
 */
public final class PciBus {
    public static final int SLOTS = 32;

    private record Decode(long[] bases, long[] ends, PciDevice[] devices, int[] bars) {
    }

    private final PciDevice[] slots = new PciDevice[SLOTS];
    private final List<PciWindow> windows;
    private final long[][] mapped = new long[SLOTS][PciConfigSpace.BAR_COUNT];
    private volatile Decode decode = new Decode(new long[0], new long[0], new PciDevice[0], new int[0]);

    /** A bus whose host bridge forwards {@code windows} (non-overlapping) to PCI. */
    public PciBus(List<PciWindow> windows) {
        this.windows = List.copyOf(windows);
        for (long[] m : mapped) {
            java.util.Arrays.fill(m, -1);
        }
    }

    public List<PciWindow> windows() {
        return windows;
    }

    /**
     * Plugs {@code device} into the first free slot and returns the slot number.
     *
     * @throws IllegalStateException when all 32 slots are taken
     */
    public synchronized int add(PciDevice device) {
        for (int slot = 0; slot < SLOTS; slot++) {
            if (slots[slot] == null) {
                slots[slot] = device;
                rebuild();
                return slot;
            }
        }
        throw new IllegalStateException("PCI bus 0 is full (32 devices)");
    }

    /** The device in {@code slot}, or null. */
    public PciDevice device(int slot) {
        return slot >= 0 && slot < SLOTS ? slots[slot] : null;
    }

    /** The devices by slot (null where empty). */
    public synchronized List<PciDevice> devices() {
        List<PciDevice> out = new ArrayList<>();
        for (PciDevice d : slots) {
            out.add(d);
        }
        return out;
    }

    /**
     * A configuration read of {@code size} bytes at {@code offset} of bus/device/function: all ones where no
     * function answers (the PCI master-abort value, what makes the OS skip empty slots).
     */
    public long configRead(int bus, int device, int function, int offset, int size) {
        PciDevice d = function(bus, device, function);
        if (d == null) {
            return allOnes(size);
        }
        return d.configRead(offset, size);
    }

    /** A configuration write; ignored where no function answers. */
    public void configWrite(int bus, int device, int function, int offset, int size, long value) {
        PciDevice d = function(bus, device, function);
        if (d == null || offset < 0 || offset >= PciConfigSpace.SIZE) {
            return;
        }
        if (d.configWriteIntercept(offset, size, value)) {
            return;
        }
        d.config().write(offset, size, value);
        d.configWritten(offset, size);
        int end = offset + size;
        boolean decodeBits = overlaps(offset, end, PciConfigSpace.COMMAND, 2)
                || overlaps(offset, end, PciConfigSpace.BAR0, 4 * PciConfigSpace.BAR_COUNT);
        if (decodeBits) {
            synchronized (this) {
                rebuild();
            }
        }
    }

    /** The master-abort value of a {@code size}-byte access. */
    static long allOnes(int size) {
        return size >= 8 || size <= 0 ? -1L : (1L << (8 * size)) - 1;
    }

    private PciDevice function(int bus, int device, int function) {
        if (bus != 0 || function != 0 || device < 0 || device >= SLOTS) {
            return null;
        }
        return slots[device];
    }

    private static boolean overlaps(int start, int end, int regStart, int regLength) {
        return start < regStart + regLength && regStart < end;
    }

    /** Recomputes where every BAR decodes; tells devices whose mapping changed. Caller holds this monitor. */
    private void rebuild() {
        List<long[]> ranges = new ArrayList<>();
        List<PciDevice> devs = new ArrayList<>();
        List<Integer> barIdx = new ArrayList<>();
        for (int slot = 0; slot < SLOTS; slot++) {
            PciDevice d = slots[slot];
            if (d == null) {
                continue;
            }
            PciConfigSpace c = d.config();
            boolean memory = (c.command() & PciConfigSpace.COMMAND_MEMORY) != 0;
            for (int i = 0; i < PciConfigSpace.BAR_COUNT; i++) {
                PciBar bar = c.bar(i);
                long gpa = -1;
                if (bar != null && memory) {
                    long at = c.barAddress(i);
                    if (insideWindow(at, bar.sizeBytes())) {
                        gpa = at;
                        ranges.add(new long[] {at, at + bar.sizeBytes()});
                        devs.add(d);
                        barIdx.add(i);
                    }
                }
                if (bar != null && mapped[slot][i] != gpa) {
                    mapped[slot][i] = gpa;
                    d.barMapped(i, gpa);
                }
            }
        }
        int n = ranges.size();
        long[] bases = new long[n];
        long[] ends = new long[n];
        int[] bars = new int[n];
        for (int i = 0; i < n; i++) {
            bases[i] = ranges.get(i)[0];
            ends[i] = ranges.get(i)[1];
            bars[i] = barIdx.get(i);
        }
        decode = new Decode(bases, ends, devs.toArray(PciDevice[]::new), bars);
    }

    private boolean insideWindow(long gpa, long size) {
        for (PciWindow w : windows) {
            if (w.contains(gpa, size)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The MMIO bus device for {@code window} (one of {@link #windows}), to be registered at its base over its size.
     */
    public BusDevice windowDevice(PciWindow window) {
        if (!windows.contains(window)) {
            throw new IllegalArgumentException("not a window of this bus: " + window);
        }
        long base = window.baseGpa();
        return new BusDevice() {
            @Override
            public long read(long offset, int size) {
                return mmioRead(base + offset, size);
            }

            @Override
            public void write(long offset, int size, long value) {
                mmioWrite(base + offset, size, value);
            }
        };
    }

    /** A read at guest-physical {@code gpa} inside a window: the decoding BAR's answer, or all ones. */
    public long mmioRead(long gpa, int size) {
        Decode t = decode;
        for (int i = 0; i < t.bases.length; i++) {
            if (gpa >= t.bases[i] && gpa < t.ends[i]) {
                return t.devices[i].barRead(t.bars[i], gpa - t.bases[i], size);
            }
        }
        return -1L;
    }

    /** A write at guest-physical {@code gpa} inside a window; dropped where no BAR decodes. */
    public void mmioWrite(long gpa, int size, long value) {
        Decode t = decode;
        for (int i = 0; i < t.bases.length; i++) {
            if (gpa >= t.bases[i] && gpa < t.ends[i]) {
                t.devices[i].barWrite(t.bars[i], gpa - t.bases[i], size, value);
                return;
            }
        }
    }
}
