package org.jkvm.virtio;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

import org.jkvm.memory.GuestMemory;

/**
 * The device side of one split virtqueue (virtio 1.2 section 2.7): the descriptor table, available ring and used ring
 * live in guest RAM at addresses the driver chose; this class pops descriptor chains the driver made available and
 * returns them through the used ring.
 *
 * <p><b>Validation.</b> Everything read from guest memory is untrusted. {@link #enable()} checks the size (a power of
 * two up to the device's maximum), the rings' alignment and that each ring lies inside guest RAM. {@link #pop} checks
 * every chain: head and next indices below the queue size, no loop (at most queue-size descriptors; inside an
 * indirect table at most its length), indirect tables per section 2.7.5.3 (feature negotiated, not combined with
 * NEXT, not nested, a non-zero multiple of 16 bytes), every buffer inside guest RAM, device-readable buffers before
 * device-writable ones (2.7.4.2), and at most 2^32 bytes in total. A violation is a {@link VirtQueueException} naming
 * the {@link QueueError}; the device then sets DEVICE_NEEDS_RESET. No other exception leaves this class for anything
 * the guest controls, and no access reaches outside guest RAM: every read and write goes through a RAM region's
 * {@link MemorySegment}, bounds-checked again by the JDK.
 *
 * <p><b>Memory ordering.</b> The driver runs on other CPUs. The available index is read with acquire semantics before
 * the ring entry and descriptors it publishes; the used element is written before the used index, which is stored
 * with release semantics (2.7.8.2: "the device MUST set len prior to updating the used idx"). Before deciding whether
 * to notify (or after re-enabling notifications) a full fence orders the index store before the load of the other
 * side's event index or flags, as Linux's virtio_ring does with virtio_mb.
 *
 * <p><b>Threads.</b> One thread at a time drives a queue (the device's worker); configuration calls come from the
 * transport while the queue is not ready.
 *
 * <p><b>Allocation.</b> {@link #pop} fills a caller-owned {@link DescriptorChain} ({@link #newChain()}) and
 * {@link #addUsed} writes in place: the request path allocates nothing.
 */
public final class VirtQueue {
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;
    /** Aligned 16-bit access with acquire/release modes: (MemorySegment, long offset). */
    private static final VarHandle INDEX = ValueLayout.JAVA_SHORT.varHandle();

    private final GuestRegions regions;
    private final int maxSize;

    // Set by the transport before the driver enables the queue.
    private int size;
    private long descGpa;
    private long availGpa;
    private long usedGpa;
    private boolean eventIdx;
    private boolean indirectDesc;
    private boolean ready;

    // Device-side progress, 16-bit free-running.
    private int nextAvail;
    private int nextUsed;
    /** The used index at the last notification decision (vhost's signalled_used), valid after the first. */
    private int signalledUsed;
    private boolean signalledValid;

    // Views of the rings, made by enable().
    private MemorySegment desc;
    private MemorySegment avail;
    private MemorySegment used;

    /**
     * A queue over {@code memory} whose size may be set up to {@code maxSize} (a power of two, at most 32768); the
     * size starts at {@code maxSize}, as the transports report it.
     */
    public VirtQueue(GuestMemory memory, int maxSize) {
        if (!Virtq.isValidSize(maxSize, Virtq.MAX_QUEUE_SIZE)) {
            throw new IllegalArgumentException("maximum queue size must be a power of two up to 32768: " + maxSize);
        }
        this.regions = new GuestRegions(memory);
        this.maxSize = maxSize;
        this.size = maxSize;
    }

    /** A chain holder for {@link #pop}, sized to the longest chain this queue accepts. Allocate once per worker. */
    public DescriptorChain newChain() {
        return new DescriptorChain(regions, maxSize);
    }

    public int maxSize() {
        return maxSize;
    }

    public int size() {
        return size;
    }

    public boolean isReady() {
        return ready;
    }

    public int nextAvail() {
        return nextAvail;
    }

    public int nextUsed() {
        return nextUsed;
    }

    public boolean eventIdx() {
        return eventIdx;
    }

    public boolean indirectDesc() {
        return indirectDesc;
    }

    // ---- configuration (transport, while not ready); writes to a ready queue are ignored and return false ----

    public boolean setSize(int value) {
        if (ready) {
            return false;
        }
        size = value;
        return true;
    }

    public boolean setDescGpa(long gpa) {
        if (ready) {
            return false;
        }
        descGpa = gpa;
        return true;
    }

    public boolean setAvailGpa(long gpa) {
        if (ready) {
            return false;
        }
        availGpa = gpa;
        return true;
    }

    public boolean setUsedGpa(long gpa) {
        if (ready) {
            return false;
        }
        usedGpa = gpa;
        return true;
    }

    /** The ring features the driver accepted (VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC). */
    public boolean setFeatures(boolean eventIdxNegotiated, boolean indirectNegotiated) {
        if (ready) {
            return false;
        }
        eventIdx = eventIdxNegotiated;
        indirectDesc = indirectNegotiated;
        return true;
    }

    public long descGpa() {
        return descGpa;
    }

    public long availGpa() {
        return availGpa;
    }

    public long usedGpa() {
        return usedGpa;
    }

    /**
     * The driver enabled the queue (queue_enable = 1): validates the size and the rings and starts using them from
     * index 0.
     */
    public void enable() throws VirtQueueException {
        enableAt(0, 0);
    }

    private void enableAt(int availIndex, int usedIndex) throws VirtQueueException {
        if (!Virtq.isValidSize(size, maxSize)) {
            throw new VirtQueueException(QueueError.INVALID_SIZE, size + " (maximum " + maxSize + ")");
        }
        if ((descGpa & (Virtq.DESC_ALIGN - 1)) != 0 || (availGpa & (Virtq.AVAIL_ALIGN - 1)) != 0
                || (usedGpa & (Virtq.USED_ALIGN - 1)) != 0) {
            throw new VirtQueueException(QueueError.MISALIGNED_RING,
                    String.format("desc 0x%x avail 0x%x used 0x%x", descGpa, availGpa, usedGpa));
        }
        MemorySegment d = ring("descriptor table", descGpa, Virtq.descTableBytes(size));
        MemorySegment a = ring("available ring", availGpa, Virtq.availRingBytes(size));
        MemorySegment u = ring("used ring", usedGpa, Virtq.usedRingBytes(size));
        desc = d;
        avail = a;
        used = u;
        nextAvail = availIndex;
        nextUsed = usedIndex;
        signalledValid = false;
        ready = true;
    }

    private MemorySegment ring(String what, long gpa, long bytes) throws VirtQueueException {
        int r = regions.find(gpa, bytes);
        if (r < 0) {
            throw new VirtQueueException(QueueError.RING_OUTSIDE_RAM,
                    String.format("%s [0x%x, +0x%x)", what, gpa, bytes));
        }
        return regions.slice(r, gpa, bytes);
    }

    /** Device reset (status 0 or queue reset): forgets the rings and indices; the size goes back to the maximum. */
    public void reset() {
        ready = false;
        size = maxSize;
        descGpa = 0;
        availGpa = 0;
        usedGpa = 0;
        eventIdx = false;
        indirectDesc = false;
        nextAvail = 0;
        nextUsed = 0;
        signalledValid = false;
        desc = null;
        avail = null;
        used = null;
    }

    // ---- the request path ----

    /** The driver's available index, read with acquire semantics. */
    private int availIdx() {
        return (short) INDEX.getAcquire(avail, (long) Virtq.AVAIL_IDX) & 0xffff;
    }

    /** True if the driver has made chains available that the device has not popped. */
    public boolean hasAvailable() throws VirtQueueException {
        if (!ready) {
            return false;
        }
        int pending = (availIdx() - nextAvail) & 0xffff;
        if (pending > size) {
            throw runaway(pending);
        }
        return pending != 0;
    }

    private VirtQueueException runaway(int pending) {
        return new VirtQueueException(QueueError.AVAIL_INDEX_RUNAWAY,
                pending + " chains pending on a queue of " + size);
    }

    /**
     * Pops the next available chain into {@code chain}, validated; false if none is available (or the queue is not
     * ready). On a {@link VirtQueueException} nothing is consumed and the queue should not be used until reset.
     */
    public boolean pop(DescriptorChain chain) throws VirtQueueException {
        if (!ready) {
            return false;
        }
        int pending = (availIdx() - nextAvail) & 0xffff;
        if (pending == 0) {
            return false;
        }
        if (pending > size) {
            throw runaway(pending);
        }
        int head = avail.get(SHORT, Virtq.AVAIL_RING + 2L * (nextAvail & (size - 1))) & 0xffff;
        walk(head, chain);
        nextAvail = (nextAvail + 1) & 0xffff;
        return true;
    }

    private void walk(int head, DescriptorChain chain) throws VirtQueueException {
        chain.reset(head);
        if (head >= size) {
            throw new VirtQueueException(QueueError.HEAD_OUT_OF_RANGE, head + " >= " + size);
        }
        int index = head;
        for (int steps = 1; ; steps++) {
            if (steps > size) {
                throw new VirtQueueException(QueueError.CHAIN_TOO_LONG, "head " + head);
            }
            long off = (long) index * Virtq.DESC_SIZE;
            long addr = desc.get(LONG, off + Virtq.DESC_ADDR);
            long len = desc.get(INT, off + Virtq.DESC_LEN) & 0xffffffffL;
            int flags = desc.get(SHORT, off + Virtq.DESC_FLAGS) & 0xffff;
            int next = desc.get(SHORT, off + Virtq.DESC_NEXT) & 0xffff;
            if ((flags & Virtq.DESC_F_INDIRECT) != 0) {
                if (!indirectDesc) {
                    throw new VirtQueueException(QueueError.INDIRECT_NOT_NEGOTIATED, "head " + head);
                }
                if ((flags & Virtq.DESC_F_NEXT) != 0) {
                    throw new VirtQueueException(QueueError.INDIRECT_WITH_NEXT, "head " + head);
                }
                // Zero or more direct descriptors followed by one indirect one (2.7.5.3.2); it ends the chain.
                walkIndirect(head, addr, len, chain);
                return;
            }
            chain.add(addr, len, flags);
            if ((flags & Virtq.DESC_F_NEXT) == 0) {
                return;
            }
            if (next >= size) {
                throw new VirtQueueException(QueueError.NEXT_OUT_OF_RANGE, "head " + head + ": next " + next);
            }
            index = next;
        }
    }

    private void walkIndirect(int head, long tableGpa, long tableLen, DescriptorChain chain)
            throws VirtQueueException {
        if (tableLen == 0 || tableLen % Virtq.DESC_SIZE != 0) {
            throw new VirtQueueException(QueueError.INDIRECT_TABLE_BAD_LENGTH, "head " + head + ": " + tableLen);
        }
        long entries = tableLen / Virtq.DESC_SIZE;
        if (entries > chain.capacity()) {
            throw new VirtQueueException(QueueError.INDIRECT_TABLE_TOO_LARGE,
                    "head " + head + ": " + entries + " > " + chain.capacity());
        }
        int r = regions.find(tableGpa, tableLen);
        if (r < 0) {
            throw new VirtQueueException(QueueError.BUFFER_OUTSIDE_RAM,
                    String.format("head %d: indirect table [0x%x, +0x%x)", head, tableGpa, tableLen));
        }
        chain.markIndirect();
        MemorySegment host = regions.host(r);
        long base = tableGpa - regions.gpa(r);
        int n = (int) entries;
        int index = 0;
        for (int steps = 1; ; steps++) {
            if (steps > n) {
                throw new VirtQueueException(QueueError.INDIRECT_LOOP, "head " + head);
            }
            long off = base + (long) index * Virtq.DESC_SIZE;
            long addr = host.get(LONG, off + Virtq.DESC_ADDR);
            long len = host.get(INT, off + Virtq.DESC_LEN) & 0xffffffffL;
            int flags = host.get(SHORT, off + Virtq.DESC_FLAGS) & 0xffff;
            int next = host.get(SHORT, off + Virtq.DESC_NEXT) & 0xffff;
            if ((flags & Virtq.DESC_F_INDIRECT) != 0) {
                throw new VirtQueueException(QueueError.NESTED_INDIRECT, "head " + head);
            }
            chain.add(addr, len, flags);
            if ((flags & Virtq.DESC_F_NEXT) == 0) {
                return;
            }
            if (next >= n) {
                throw new VirtQueueException(QueueError.INDIRECT_NEXT_OUT_OF_RANGE,
                        "head " + head + ": next " + next + " of " + n);
            }
            index = next;
        }
    }

    /**
     * Returns chain {@code head} to the driver with {@code writtenBytes} written into its device-writable buffers
     * (section 2.7.8): the element first, then the used index with a release store.
     */
    public void addUsed(int head, long writtenBytes) {
        if (!ready) {
            throw new IllegalStateException("queue is not ready");
        }
        if (head < 0 || head >= size || writtenBytes < 0 || writtenBytes > 0xffffffffL) {
            throw new IllegalArgumentException("used element head " + head + " len " + writtenBytes);
        }
        long elem = Virtq.USED_RING + (long) Virtq.USED_ELEM_SIZE * (nextUsed & (size - 1));
        used.set(INT, elem, head);
        used.set(INT, elem + 4, (int) writtenBytes);
        nextUsed = (nextUsed + 1) & 0xffff;
        INDEX.setRelease(used, (long) Virtq.USED_IDX, (short) nextUsed);
    }

    /**
     * Writes used element {@code nextUsed() + offset} without publishing it (QEMU's {@code virtqueue_fill}), for a
     * device whose one reply spans several chains (virtio-net's mergeable receive buffers, 5.1.6.3.2: the driver
     * must see them used together); {@link #publishUsed} then makes them visible with one release store.
     */
    public void fillUsed(int offset, int head, long writtenBytes) {
        if (!ready) {
            throw new IllegalStateException("queue is not ready");
        }
        if (offset < 0 || offset >= size || head < 0 || head >= size || writtenBytes < 0
                || writtenBytes > 0xffffffffL) {
            throw new IllegalArgumentException("used element +" + offset + " head " + head + " len " + writtenBytes);
        }
        long elem = Virtq.USED_RING + (long) Virtq.USED_ELEM_SIZE * ((nextUsed + offset) & (size - 1));
        used.set(INT, elem, head);
        used.set(INT, elem + 4, (int) writtenBytes);
    }

    /** Publishes the {@code count} elements {@link #fillUsed} wrote: the used index moves once (release store). */
    public void publishUsed(int count) {
        if (!ready) {
            throw new IllegalStateException("queue is not ready");
        }
        if (count < 0 || count > size) {
            throw new IllegalArgumentException("publish " + count + " used elements on a queue of " + size);
        }
        nextUsed = (nextUsed + count) & 0xffff;
        INDEX.setRelease(used, (long) Virtq.USED_IDX, (short) nextUsed);
    }

    /**
     * Whether the driver wants a used-buffer notification for what {@link #addUsed} published since the last call
     * (section 2.7.7.2): with VIRTIO_F_EVENT_IDX, if the used index crossed {@code used_event}
     * ({@link Virtq#needEvent}); otherwise unless the driver set VIRTQ_AVAIL_F_NO_INTERRUPT.
     */
    public boolean needsNotification() {
        if (!ready) {
            return false;
        }
        VarHandle.fullFence();
        if (eventIdx) {
            int usedEvent = avail.get(SHORT, Virtq.usedEventOffset(size)) & 0xffff;
            boolean need = !signalledValid || Virtq.needEvent(usedEvent, nextUsed, signalledUsed);
            if (signalledValid && nextUsed == signalledUsed) {
                need = false;
            }
            signalledUsed = nextUsed;
            signalledValid = true;
            return need;
        }
        return (avail.get(SHORT, Virtq.AVAIL_FLAGS) & Virtq.AVAIL_F_NO_INTERRUPT) == 0;
    }

    /**
     * Asks the driver not to notify the device of new buffers (the device is polling): VIRTQ_USED_F_NO_NOTIFY without
     * VIRTIO_F_EVENT_IDX; with it, {@code avail_event} is simply left behind (section 2.7.10).
     */
    public void disableNotification() {
        if (ready && !eventIdx) {
            used.set(SHORT, Virtq.USED_FLAGS, (short) Virtq.USED_F_NO_NOTIFY);
        }
    }

    /**
     * Asks the driver to notify the device of the next buffer: clears VIRTQ_USED_F_NO_NOTIFY, or with
     * VIRTIO_F_EVENT_IDX sets {@code avail_event} to the next index the device will pop. Returns true if buffers
     * arrived in the meantime (the caller processes them instead of waiting), after a full fence so that the driver
     * either sees the request or its new buffers are seen here.
     */
    public boolean enableNotification() throws VirtQueueException {
        if (!ready) {
            return false;
        }
        if (eventIdx) {
            used.set(SHORT, Virtq.availEventOffset(size), (short) nextAvail);
        } else {
            used.set(SHORT, Virtq.USED_FLAGS, (short) 0);
        }
        VarHandle.fullFence();
        return hasAvailable();
    }

    // ---- snapshots ----

    /** The queue's state as plain data. */
    public QueueState save() {
        return new QueueState(descGpa, availGpa, usedGpa, size, ready, nextAvail, nextUsed, eventIdx, indirectDesc);
    }

    /**
     * Restores {@code state} into this (reset) queue after validating it as if the driver had just enabled it: size,
     * alignment, rings in RAM, 16-bit indices, and no more chains in flight than the queue holds. On failure the
     * queue is left reset.
     */
    public void restore(QueueState state) throws VirtQueueException {
        reset();
        if (state.nextAvail() < 0 || state.nextAvail() > 0xffff || state.nextUsed() < 0 || state.nextUsed() > 0xffff) {
            throw new VirtQueueException(QueueError.INVALID_STATE,
                    "indices " + state.nextAvail() + "/" + state.nextUsed() + " are not 16-bit");
        }
        if (!Virtq.isValidSize(state.size(), maxSize)) {
            throw new VirtQueueException(QueueError.INVALID_SIZE, state.size() + " (maximum " + maxSize + ")");
        }
        if (((state.nextAvail() - state.nextUsed()) & 0xffff) > state.size()) {
            throw new VirtQueueException(QueueError.INVALID_STATE, "more chains in flight than the queue holds");
        }
        size = state.size();
        descGpa = state.descGpa();
        availGpa = state.availGpa();
        usedGpa = state.usedGpa();
        eventIdx = state.eventIdx();
        indirectDesc = state.indirectDesc();
        if (state.ready()) {
            try {
                enableAt(state.nextAvail(), state.nextUsed());
            } catch (VirtQueueException e) {
                reset();
                throw e;
            }
        } else {
            nextAvail = state.nextAvail();
            nextUsed = state.nextUsed();
        }
    }
}
