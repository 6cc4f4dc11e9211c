package org.jkvm.virtio;

import java.lang.invoke.VarHandle;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;

import org.jkvm.memory.GuestMemory;

/**
 * The guest side of one split virtqueue, for tests and benchmarks: lays out the rings in guest memory, allocates
 * buffers from a bump region, adds direct and indirect chains, publishes them, decides whether to kick as a driver
 * would (avail_event / VIRTQ_USED_F_NO_NOTIFY) and reads used entries. The raw writers make malformed rings on
 * purpose.
 */
public final class MockDriver {
    /** One buffer of a chain: guest address, length, device-writable or not. */
    public record Buf(long gpa, int len, boolean writable) {
        public static Buf in(long gpa, int len) {
            return new Buf(gpa, len, false);
        }

        public static Buf out(long gpa, int len) {
            return new Buf(gpa, len, true);
        }
    }

    /** One used element. */
    public record Used(int head, int len) {}

    private final GuestMemory memory;
    private final int size;
    private final long descGpa;
    private final long availGpa;
    private final long usedGpa;
    private final boolean eventIdx;
    private final Deque<Integer> free = new ArrayDeque<>();
    private int availIdx;
    private int lastKickIdx;
    private int lastUsed;
    private long heapNext;
    private final long heapEnd;

    /**
     * Rings for a queue of {@code size} at {@code base} (descriptor table, available ring, used ring, each aligned),
     * then buffer memory from there up to {@code base + spanBytes}.
     */
    public MockDriver(GuestMemory memory, int size, long base, long spanBytes, boolean eventIdx) {
        this.memory = memory;
        this.size = size;
        this.eventIdx = eventIdx;
        this.descGpa = align(base, 16);
        this.availGpa = align(descGpa + Virtq.descTableBytes(size), 2);
        this.usedGpa = align(availGpa + Virtq.availRingBytes(size), 4096);
        this.heapNext = align(usedGpa + Virtq.usedRingBytes(size), 4096);
        this.heapEnd = base + spanBytes;
        memory.fill(descGpa, heapNext - descGpa, (byte) 0);
        for (int i = 0; i < size; i++) {
            free.add(i);
        }
    }

    private static long align(long v, long a) {
        return (v + a - 1) & -a;
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

    public int size() {
        return size;
    }

    public GuestMemory memory() {
        return memory;
    }

    /** Sets up and enables {@code queue} as a driver would through the transport. */
    public VirtQueue configure(VirtQueue queue, boolean indirect) throws VirtQueueException {
        queue.setSize(size);
        queue.setDescGpa(descGpa);
        queue.setAvailGpa(availGpa);
        queue.setUsedGpa(usedGpa);
        queue.setFeatures(eventIdx, indirect);
        queue.enable();
        return queue;
    }

    /** Allocates {@code len} bytes of guest memory aligned to {@code align}. */
    public long alloc(long len, long align) {
        long a = align(heapNext, align);
        if (a + len > heapEnd) {
            throw new IllegalStateException("mock driver out of buffer memory");
        }
        heapNext = a + len;
        return a;
    }

    public int freeDescriptors() {
        return free.size();
    }

    /** Adds a direct chain of {@code bufs} to the available ring (not yet published); returns its head. */
    public int add(Buf... bufs) {
        if (bufs.length == 0 || bufs.length > free.size()) {
            throw new IllegalStateException("need " + bufs.length + " descriptors, " + free.size() + " free");
        }
        int[] idx = new int[bufs.length];
        for (int i = 0; i < bufs.length; i++) {
            idx[i] = free.poll();
        }
        for (int i = 0; i < bufs.length; i++) {
            boolean last = i == bufs.length - 1;
            int flags = (bufs[i].writable() ? Virtq.DESC_F_WRITE : 0) | (last ? 0 : Virtq.DESC_F_NEXT);
            writeDesc(idx[i], bufs[i].gpa(), bufs[i].len(), flags, last ? 0 : idx[i + 1]);
        }
        linkChain(idx);
        putAvail(idx[0]);
        return idx[0];
    }

    /**
     * Adds one descriptor pointing at an indirect table (allocated here, never freed: for tests) holding
     * {@code bufs}; returns the head.
     */
    public int addIndirect(Buf... bufs) {
        long table = alloc(16L * bufs.length, 16);
        for (int i = 0; i < bufs.length; i++) {
            boolean last = i == bufs.length - 1;
            int flags = (bufs[i].writable() ? Virtq.DESC_F_WRITE : 0) | (last ? 0 : Virtq.DESC_F_NEXT);
            writeDescAt(table + 16L * i, bufs[i].gpa(), bufs[i].len(), flags, last ? 0 : i + 1);
        }
        int head = free.poll();
        writeDesc(head, table, 16 * bufs.length, Virtq.DESC_F_INDIRECT, 0);
        linkChain(new int[] {head});
        putAvail(head);
        return head;
    }

    // The descriptors of each chain in flight, by head, so popUsed can free them.
    private final Map<Integer, int[]> inFlight = new HashMap<>();

    private void linkChain(int[] idx) {
        inFlight.put(idx[0], idx);
    }

    private void putAvail(int head) {
        memory.writeShort(availGpa + Virtq.AVAIL_RING + 2L * (availIdx & (size - 1)), (short) head);
        availIdx = (availIdx + 1) & 0xffff;
    }

    /** Publishes everything added so far (release store of avail idx) and says whether a kick is needed. */
    public boolean publish() {
        VarHandle.releaseFence();
        memory.writeShort(availGpa + Virtq.AVAIL_IDX, (short) availIdx);
        VarHandle.fullFence();
        int old = lastKickIdx;
        lastKickIdx = availIdx;
        if (eventIdx) {
            int availEvent = memory.readShort(usedGpa + Virtq.availEventOffset(size)) & 0xffff;
            return Virtq.needEvent(availEvent, availIdx, old);
        }
        return (memory.readShort(usedGpa + Virtq.USED_FLAGS) & Virtq.USED_F_NO_NOTIFY) == 0;
    }

    /** The next used element, freeing its descriptors, or null if the device has not returned more. */
    public Used popUsed() {
        int usedIdx = memory.readShort(usedGpa + Virtq.USED_IDX) & 0xffff;
        VarHandle.acquireFence();
        if (usedIdx == lastUsed) {
            return null;
        }
        long elem = usedGpa + Virtq.USED_RING + 8L * (lastUsed & (size - 1));
        Used u = new Used(memory.readInt(elem), memory.readInt(elem + 4));
        lastUsed = (lastUsed + 1) & 0xffff;
        int[] idx = inFlight.remove(u.head());
        if (idx != null) {
            for (int i : idx) {
                free.add(i);
            }
        }
        return u;
    }

    /** Sets used_event (with EVENT_IDX): the driver wants a notification once the used index passes it. */
    public void setUsedEvent(int value) {
        memory.writeShort(availGpa + Virtq.usedEventOffset(size), (short) value);
    }

    /** Sets the available ring's flags (VIRTQ_AVAIL_F_NO_INTERRUPT). */
    public void setAvailFlags(int flags) {
        memory.writeShort(availGpa + Virtq.AVAIL_FLAGS, (short) flags);
    }

    // ---- raw writers for malformed rings ----

    public void writeDesc(int index, long addr, int len, int flags, int next) {
        writeDescAt(descGpa + 16L * index, addr, len, flags, next);
    }

    public void writeDescAt(long gpa, long addr, int len, int flags, int next) {
        memory.writeLong(gpa + Virtq.DESC_ADDR, addr);
        memory.writeInt(gpa + Virtq.DESC_LEN, len);
        memory.writeShort(gpa + Virtq.DESC_FLAGS, (short) flags);
        memory.writeShort(gpa + Virtq.DESC_NEXT, (short) next);
    }

    /** Writes avail ring slot {@code slot} directly. */
    public void writeAvailRing(int slot, int head) {
        memory.writeShort(availGpa + Virtq.AVAIL_RING + 2L * slot, (short) head);
    }

    /** Writes the available index directly (no bookkeeping). */
    public void writeAvailIdx(int idx) {
        memory.writeShort(availGpa + Virtq.AVAIL_IDX, (short) idx);
    }

    public int usedIdx() {
        return memory.readShort(usedGpa + Virtq.USED_IDX) & 0xffff;
    }

    public int usedFlags() {
        return memory.readShort(usedGpa + Virtq.USED_FLAGS) & 0xffff;
    }

    public int availEvent() {
        return memory.readShort(usedGpa + Virtq.availEventOffset(size)) & 0xffff;
    }
}
