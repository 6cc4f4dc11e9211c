package org.jkvm.pci;

/**
 * The 256-byte configuration space of one PCI function with a type 0 header (PCI Local Bus 3.0 section 6.1), as the
 * guest sees it through port 0xCFC or ECAM. Every byte has a write mask: the guest changes only the bits a real
 * function lets it change (command bits, cache line size, latency timer, interrupt line, BAR address bits,
 * capability fields the device declares writable); everything else is read-only. Offsets 0x100-0xFFF (PCI Express
 * extended space, reachable through ECAM) read as zero and ignore writes: no extended capabilities.
 *
 * <p>BARs (6.2.5.1): memory BARs only, 32- or 64-bit, sizes powers of two from 16 bytes. Their address bits below
 * the size are read-only zero, so writing all ones and reading back yields the size, as the sizing protocol needs.
 * No I/O BARs and no expansion ROM (its register reads as zero).
 *
 * <p>Capabilities (6.7) are appended with {@link #addCapability}: the list starts at 0x40, is linked through each
 * capability's next pointer, and status bit 4 says it exists.
 *
 * <p>Thread-safe: accesses are serialised on this object (vCPU threads and the monitor may race).
 */
public final class PciConfigSpace {
    public static final int SIZE = 256;
    /** ECAM gives each function 4 KiB; the part above {@link #SIZE} is extended space. */
    public static final int ECAM_SIZE = 4096;

    public static final int VENDOR_ID = 0x00;
    public static final int DEVICE_ID = 0x02;
    public static final int COMMAND = 0x04;
    public static final int STATUS = 0x06;
    public static final int REVISION_ID = 0x08;
    public static final int CLASS_PROG = 0x09;
    public static final int CACHE_LINE_SIZE = 0x0c;
    public static final int LATENCY_TIMER = 0x0d;
    public static final int HEADER_TYPE = 0x0e;
    public static final int BAR0 = 0x10;
    public static final int SUBSYSTEM_VENDOR_ID = 0x2c;
    public static final int SUBSYSTEM_ID = 0x2e;
    public static final int ROM_ADDRESS = 0x30;
    public static final int CAPABILITIES_POINTER = 0x34;
    public static final int INTERRUPT_LINE = 0x3c;
    public static final int INTERRUPT_PIN = 0x3d;

    public static final int COMMAND_IO = 1;
    public static final int COMMAND_MEMORY = 1 << 1;
    public static final int COMMAND_BUS_MASTER = 1 << 2;
    public static final int COMMAND_PARITY = 1 << 6;
    public static final int COMMAND_SERR = 1 << 8;
    public static final int COMMAND_INTX_DISABLE = 1 << 10;
    public static final int STATUS_INTERRUPT = 1 << 3;
    public static final int STATUS_CAPABILITIES = 1 << 4;

    public static final int BAR_COUNT = 6;
    static final int BAR_MEM_TYPE_64 = 0x4;
    static final int BAR_PREFETCHABLE = 0x8;
    static final int FIRST_CAPABILITY = 0x40;

    private final byte[] bytes = new byte[SIZE];
    private final byte[] writable = new byte[SIZE];
    private final PciBar[] bars = new PciBar[BAR_COUNT];
    private int lastNextPointer = CAPABILITIES_POINTER;
    private int nextCapability = FIRST_CAPABILITY;

    /**
     * A function's header: IDs, 24-bit class code (base class, subclass, programming interface), revision,
     * subsystem IDs; single function, type 0.
     */
    public PciConfigSpace(int vendorId, int deviceId, int classCode, int revision, int subsystemVendorId,
                          int subsystemId) {
        put(VENDOR_ID, 2, vendorId);
        put(DEVICE_ID, 2, deviceId);
        put(REVISION_ID, 1, revision);
        put(CLASS_PROG, 3, classCode);
        put(SUBSYSTEM_VENDOR_ID, 2, subsystemVendorId);
        put(SUBSYSTEM_ID, 2, subsystemId);
        writableBits(COMMAND, 2, COMMAND_IO | COMMAND_MEMORY | COMMAND_BUS_MASTER | COMMAND_PARITY | COMMAND_SERR
                | COMMAND_INTX_DISABLE);
        writableBits(CACHE_LINE_SIZE, 1, 0xff);
        writableBits(LATENCY_TIMER, 1, 0xff);
        writableBits(INTERRUPT_LINE, 1, 0xff);
    }

    /** Declares INTx pin {@code pin} (1 = INTA .. 4 = INTD) with {@code line} as the firmware's initial routing. */
    public synchronized void setInterruptPin(int pin, int line) {
        if (pin < 1 || pin > 4) {
            throw new IllegalArgumentException("interrupt pin 1-4, not " + pin);
        }
        put(INTERRUPT_PIN, 1, pin);
        put(INTERRUPT_LINE, 1, line);
    }

    /**
     * Declares memory BAR {@code index} of {@code sizeBytes} (a power of two, at least 16; at most 2 GiB for a
     * 32-bit BAR). A 64-bit BAR also takes register {@code index + 1}.
     */
    public synchronized void addBar(int index, long sizeBytes, boolean is64, boolean prefetchable) {
        if (index < 0 || index >= BAR_COUNT || (is64 && index == BAR_COUNT - 1)) {
            throw new IllegalArgumentException("no BAR register for BAR " + index + (is64 ? " (64-bit)" : ""));
        }
        if (sizeBytes < 16 || Long.bitCount(sizeBytes) != 1 || (!is64 && sizeBytes > (1L << 31))) {
            throw new IllegalArgumentException("bad BAR size " + sizeBytes);
        }
        if (bars[index] != null || (is64 && bars[index + 1] != null) || (index > 0 && bars[index - 1] != null
                && bars[index - 1].is64())) {
            throw new IllegalArgumentException("BAR " + index + " already declared");
        }
        PciBar bar = new PciBar(index, sizeBytes, is64, prefetchable);
        bars[index] = bar;
        int reg = BAR0 + 4 * index;
        put(reg, 4, (is64 ? BAR_MEM_TYPE_64 : 0) | (prefetchable ? BAR_PREFETCHABLE : 0));
        long addressMask = ~(sizeBytes - 1);
        writableBits(reg, 4, addressMask & 0xffff_fff0L);
        if (is64) {
            writableBits(reg + 4, 4, addressMask >>> 32);
        }
    }

    /** The BAR declared at {@code index}, or null (also for the upper half of a 64-bit BAR). */
    public synchronized PciBar bar(int index) {
        return index >= 0 && index < BAR_COUNT ? bars[index] : null;
    }

    /** The address BAR {@code index} holds now (whatever the guest wrote), or -1 if no such BAR. */
    public synchronized long barAddress(int index) {
        PciBar bar = bar(index);
        if (bar == null) {
            return -1;
        }
        int reg = BAR0 + 4 * index;
        long low = get(reg, 4) & 0xffff_fff0L;
        return bar.is64() ? low | (get(reg + 4, 4) << 32) : low;
    }

    /** Programs BAR {@code index} to {@code gpa} (firmware assignment; aligned to the BAR's size). */
    public synchronized void setBarAddress(int index, long gpa) {
        PciBar bar = bar(index);
        if (bar == null || (gpa & (bar.sizeBytes() - 1)) != 0 || (!bar.is64() && gpa >>> 32 != 0)) {
            throw new IllegalArgumentException(String.format("BAR %d cannot hold 0x%x", index, gpa));
        }
        int reg = BAR0 + 4 * index;
        put(reg, 4, (get(reg, 4) & 0xf) | (gpa & 0xffff_fff0L));
        if (bar.is64()) {
            put(reg + 4, 4, gpa >>> 32);
        }
    }

    /** The command register. */
    public synchronized int command() {
        return (int) get(COMMAND, 2);
    }

    /** Sets the command register (firmware: enable memory decoding). */
    public synchronized void setCommand(int value) {
        put(COMMAND, 2, value);
    }

    /** Sets or clears the Interrupt Status bit (status bit 3: this function's INTx is asserted). */
    public synchronized void setInterruptStatus(boolean asserted) {
        long status = get(STATUS, 2);
        put(STATUS, 2, asserted ? status | STATUS_INTERRUPT : status & ~STATUS_INTERRUPT);
    }

    /**
     * Appends a capability of {@code lengthBytes} (at least 2: ID and next pointer) with ID {@code id}; returns its
     * offset. Its body is then filled with {@link #put} and made guest-writable where needed with
     * {@link #writableBits}.
     */
    public synchronized int addCapability(int id, int lengthBytes) {
        int at = (nextCapability + 3) & ~3;
        if (lengthBytes < 2 || at + lengthBytes > SIZE) {
            throw new IllegalArgumentException("no room for a " + lengthBytes + "-byte capability at 0x"
                    + Integer.toHexString(at));
        }
        put(at, 1, id);
        put(at + 1, 1, 0);
        put(lastNextPointer, 1, at);
        lastNextPointer = at + 1;
        nextCapability = at + lengthBytes;
        put(STATUS, 2, get(STATUS, 2) | STATUS_CAPABILITIES);
        return at;
    }

    /** Stores {@code size} bytes of {@code value} at {@code offset}, little-endian, ignoring the write masks. */
    public synchronized void put(int offset, int size, long value) {
        checkRange(offset, size);
        for (int i = 0; i < size; i++) {
            bytes[offset + i] = (byte) (value >>> (8 * i));
        }
    }

    /** The {@code size} bytes at {@code offset}, little-endian, unsigned. */
    public synchronized long get(int offset, int size) {
        checkRange(offset, size);
        long v = 0;
        for (int i = 0; i < size; i++) {
            v |= (bytes[offset + i] & 0xffL) << (8 * i);
        }
        return v;
    }

    /** Lets the guest change the bits of {@code mask} in the {@code size} bytes at {@code offset}. */
    public synchronized void writableBits(int offset, int size, long mask) {
        checkRange(offset, size);
        for (int i = 0; i < size; i++) {
            writable[offset + i] = (byte) (mask >>> (8 * i));
        }
    }

    private static void checkRange(int offset, int size) {
        if (offset < 0 || size < 1 || size > 8 || offset + size > SIZE) {
            throw new IllegalArgumentException("config space range " + offset + "+" + size);
        }
    }

    /**
     * A guest read of {@code size} bytes at {@code offset} (any offset and size: bytes outside 0-255 read as zero).
     */
    public synchronized long read(int offset, int size) {
        long v = 0;
        for (int i = 0; i < size && i < 8; i++) {
            int at = offset + i;
            if (at >= 0 && at < SIZE) {
                v |= (bytes[at] & 0xffL) << (8 * i);
            }
        }
        return v;
    }

    /**
     * A guest write of {@code size} bytes at {@code offset}: only the writable bits change; bytes outside 0-255 are
     * ignored.
     */
    public synchronized void write(int offset, int size, long value) {
        for (int i = 0; i < size && i < 8; i++) {
            int at = offset + i;
            if (at >= 0 && at < SIZE) {
                int mask = writable[at] & 0xff;
                bytes[at] = (byte) ((bytes[at] & ~mask) | ((int) (value >>> (8 * i)) & mask));
            }
        }
    }
}
