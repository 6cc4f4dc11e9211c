package org.jkvm.pci;

/**
 * MSI-X (PCI Local Bus 3.0 section 6.8.2): the capability in config space, the vector table and the pending bit
 * array (PBA) in a BAR, and the masking rules.
 *
 * <ul>
 * <li>Capability (ID 0x11, 12 bytes): Message Control holds the table size (N - 1, read-only), Function Mask (bit
 * 14) and MSI-X Enable (bit 15), the only writable bits; then the table and PBA offsets with their BAR indicator.
 * <li>Table: N entries of 16 bytes: message address (low, high), message data, vector control (bit 0: mask). All
 * entries start masked (6.8.2.9). Accessed as aligned doublewords or quadwords; other accesses read as zero and are
 * dropped.
 * <li>PBA: one bit per entry, read-only; a vector that fires while its entry or the function is masked sets its bit
 * instead of sending, and the message goes out (and the bit clears) when it is unmasked.
 * </ul>
 * A vector that fires while MSI-X is disabled is not sent: the device then uses INTx ({@link #enabled()} tells it).
 * Thread-safe: vCPU threads program the table while I/O threads fire vectors.
 */
public final class MsixTable {
    public static final int CAPABILITY_ID = 0x11;
    public static final int CAPABILITY_BYTES = 12;
    public static final int ENTRY_BYTES = 16;
    public static final int MAX_ENTRIES = 2048;
    static final int CONTROL = 2;
    static final int TABLE = 4;
    static final int PBA = 8;
    static final int CONTROL_ENABLE = 1 << 15;
    static final int CONTROL_FUNCTION_MASK = 1 << 14;
    static final int VECTOR_MASKED = 1;

    private final int size;
    private final int[] words;
    private final long[] pending;
    private final MsiSink sink;
    private boolean enabled;
    private boolean functionMasked;
    private int capabilityOffset = -1;

    /** A table of {@code size} vectors (1 to 2048) whose messages go to {@code sink}. */
    public MsixTable(int size, MsiSink sink) {
        if (size < 1 || size > MAX_ENTRIES) {
            throw new IllegalArgumentException("MSI-X table size 1-2048, not " + size);
        }
        this.size = size;
        this.words = new int[size * 4];
        this.pending = new long[(size + 63) / 64];
        this.sink = sink;
        for (int i = 0; i < size; i++) {
            words[i * 4 + 3] = VECTOR_MASKED;
        }
    }

    public int size() {
        return size;
    }

    /** Bytes the table takes in its BAR. */
    public long tableBytes() {
        return (long) size * ENTRY_BYTES;
    }

    /** Bytes the PBA takes in its BAR (whole quadwords). */
    public long pbaBytes() {
        return pending.length * 8L;
    }

    /**
     * Adds the MSI-X capability to {@code config}: table at {@code tableOffset} and PBA at {@code pbaOffset} (both
     * 8-byte aligned) of BAR {@code bar}. Returns the capability's offset.
     */
    public synchronized int addCapability(PciConfigSpace config, int bar, long tableOffset, long pbaOffset) {
        if ((tableOffset & 7) != 0 || (pbaOffset & 7) != 0 || bar < 0 || bar > 5) {
            throw new IllegalArgumentException("MSI-X table/PBA offsets must be 8-byte aligned in BAR 0-5");
        }
        int at = config.addCapability(CAPABILITY_ID, CAPABILITY_BYTES);
        config.put(at + CONTROL, 2, size - 1);
        config.writableBits(at + CONTROL, 2, CONTROL_ENABLE | CONTROL_FUNCTION_MASK);
        config.put(at + TABLE, 4, tableOffset | bar);
        config.put(at + PBA, 4, pbaOffset | bar);
        capabilityOffset = at;
        return at;
    }

    /** Call after every config write: picks up Enable and Function Mask if the write touched Message Control. */
    public void configWritten(PciConfigSpace config, int offset, int size) {
        int cap = capabilityOffset;
        if (cap < 0 || offset + size <= cap + CONTROL || offset >= cap + CONTROL + 2) {
            return;
        }
        int control = (int) config.get(cap + CONTROL, 2);
        setControl((control & CONTROL_ENABLE) != 0, (control & CONTROL_FUNCTION_MASK) != 0);
    }

    /** Sets MSI-X Enable and Function Mask; unmasking sends the pending messages of unmasked vectors. */
    public synchronized void setControl(boolean enable, boolean functionMask) {
        this.enabled = enable;
        this.functionMasked = functionMask;
        if (enable && !functionMask) {
            for (int v = 0; v < size; v++) {
                if (isPending(v) && !entryMasked(v)) {
                    send(v);
                }
            }
        }
    }

    /** Whether MSI-X is enabled (then INTx is not used). */
    public synchronized boolean enabled() {
        return enabled;
    }

    /** Whether {@code vector} is a vector of this table. */
    public boolean isVector(int vector) {
        return vector >= 0 && vector < size;
    }

    /**
     * Fires {@code vector}: sends its message, or sets its pending bit while it or the function is masked. Returns
     * false (and does nothing) when MSI-X is disabled or the vector is not in the table.
     */
    public synchronized boolean fire(int vector) {
        if (!enabled || !isVector(vector)) {
            return false;
        }
        if (functionMasked || entryMasked(vector)) {
            pending[vector >>> 6] |= 1L << vector;
        } else {
            sink.signal(vector, address(vector), words[vector * 4 + 2]);
        }
        return true;
    }

    /** Whether {@code vector}'s pending bit is set. */
    public synchronized boolean isPending(int vector) {
        return isVector(vector) && (pending[vector >>> 6] & (1L << vector)) != 0;
    }

    /** Whether entry {@code vector}'s mask bit is set. */
    public synchronized boolean entryMasked(int vector) {
        return (words[vector * 4 + 3] & VECTOR_MASKED) != 0;
    }

    /** The message address programmed in entry {@code vector}. */
    public synchronized long address(int vector) {
        return Integer.toUnsignedLong(words[vector * 4]) | (Integer.toUnsignedLong(words[vector * 4 + 1]) << 32);
    }

    private void send(int vector) {
        pending[vector >>> 6] &= ~(1L << vector);
        sink.signal(vector, address(vector), words[vector * 4 + 2]);
    }

    /** A guest read of the table at {@code offset} (from the table's start). */
    public synchronized long readTable(long offset, int accessSize) {
        if (!aligned(offset, accessSize) || offset >= tableBytes()) {
            return 0;
        }
        int w = (int) (offset >>> 2);
        long v = Integer.toUnsignedLong(words[w]);
        if (accessSize == 8) {
            v |= Integer.toUnsignedLong(words[w + 1]) << 32;
        }
        return v;
    }

    /** The table's 32-bit words (four per vector), for a snapshot. */
    public synchronized int[] saveWords() {
        return words.clone();
    }

    /** The pending bits, for a snapshot. */
    public synchronized long[] savePending() {
        return pending.clone();
    }

    /**
     * Loads a saved table through the guest's write path (so message routes are updated as for the guest's own
     * writes; the control register is restored with the configuration space), then the pending bits.
     *
     * @throws IllegalArgumentException when the sizes are not this table's
     */
    public void restore(int[] savedWords, long[] savedPending) {
        if (savedWords.length != words.length || savedPending.length != pending.length) {
            throw new IllegalArgumentException("MSI-X table of " + size + " vectors cannot take " + savedWords.length / 4
                    + " saved vectors");
        }
        for (int i = 0; i < savedWords.length; i++) {
            writeTable((long) i * 4, 4, Integer.toUnsignedLong(savedWords[i]));
        }
        synchronized (this) {
            long[] p = savedPending.clone();
            if (size % 64 != 0) {
                p[p.length - 1] &= (1L << (size % 64)) - 1;
            }
            System.arraycopy(p, 0, pending, 0, p.length);
        }
    }

    /** A guest write of the table; clearing an entry's mask bit sends its pending message. */
    public synchronized void writeTable(long offset, int accessSize, long value) {
        if (!aligned(offset, accessSize) || offset >= tableBytes()) {
            return;
        }
        int w = (int) (offset >>> 2);
        writeWord(w, (int) value);
        if (accessSize == 8) {
            writeWord(w + 1, (int) (value >>> 32));
        }
    }

    private void writeWord(int w, int value) {
        if ((w & 3) == 3) {
            value &= VECTOR_MASKED; // the other vector control bits are reserved
        }
        int old = words[w];
        words[w] = value;
        int vector = w >>> 2;
        if ((w & 3) != 3 && old != value) {
            sink.programmed(vector, address(vector), words[vector * 4 + 2]);
        }
        if ((w & 3) == 3 && (value & VECTOR_MASKED) == 0 && enabled && !functionMasked && isPending(vector)) {
            send(vector);
        }
    }

    /** A guest read of the PBA at {@code offset} (from the PBA's start). */
    public synchronized long readPba(long offset, int accessSize) {
        if (!aligned(offset, accessSize) || offset >= pbaBytes()) {
            return 0;
        }
        long q = pending[(int) (offset >>> 3)];
        return accessSize == 8 ? q : (q >>> (8 * (offset & 4))) & 0xffff_ffffL;
    }

    private static boolean aligned(long offset, int accessSize) {
        return offset >= 0 && (accessSize == 4 || accessSize == 8) && (offset & (accessSize - 1)) == 0;
    }
}
