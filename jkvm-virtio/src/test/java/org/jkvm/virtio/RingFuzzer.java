package org.jkvm.virtio;

import org.jkvm.memory.GuestMemory;

/**
 * Random ring contents against the device side of a queue, shared by the Jazzer fuzz target and the seeded random
 * test: rings and indirect tables full of arbitrary bytes, descriptors partly steered into a small window of RAM so
 * that walks go deep, then pops, used entries and notification decisions. The invariants: the only exception is
 * {@link VirtQueueException}; every popped chain lies in RAM, keeps readable before writable buffers, and fits its
 * holder. An access outside RAM would surface as an unchecked exception from the JDK's segment bounds check.
 */
final class RingFuzzer {
    /** Where the bytes come from: Jazzer's data provider or a seeded Random. */
    interface Source {
        int consumeInt(int min, int max);

        long consumeLong();

        boolean consumeBoolean();
    }

    static final long WINDOW = 0x10000;
    static final int WINDOW_BYTES = 0x8000;

    private RingFuzzer() {}

    static void run(GuestMemory memory, Source in) {
        int maxSize = 64;
        int size = in.consumeInt(0, 7) == 7 ? in.consumeInt(0, 100) : 1 << in.consumeInt(0, 6);
        boolean eventIdx = in.consumeBoolean();
        boolean indirect = in.consumeBoolean();
        // The window: ring area at its start, buffers and indirect tables anywhere in it.
        for (int off = 0; off < WINDOW_BYTES; off += 8) {
            memory.writeLong(WINDOW + off, off < 4096 || in.consumeInt(0, 3) == 0 ? in.consumeLong() : 0);
        }
        long desc = WINDOW;
        long avail = WINDOW + 16L * maxSize;
        long used = WINDOW + 4096 - 8L * maxSize - 8;
        for (int i = 0; i < maxSize; i++) {
            long d = desc + 16L * i;
            int steer = in.consumeInt(0, 9);
            if (steer < 7) {
                // A plausible descriptor: inside the window, a small length, any flags, a next near the size.
                memory.writeLong(d, WINDOW + in.consumeInt(0, WINDOW_BYTES));
                memory.writeInt(d + 8, steer < 2 ? 16 * in.consumeInt(0, 9) : in.consumeInt(0, 4096));
                memory.writeShort(d + 12, (short) in.consumeInt(0, 7));
                memory.writeShort(d + 14, (short) in.consumeInt(0, Math.max(1, size + 1)));
            }
        }
        // Some indirect-looking tables in the window point back into it.
        for (int t = 0; t < 8; t++) {
            long e = WINDOW + 4096 + 16L * in.consumeInt(0, (WINDOW_BYTES - 4096) / 16 - 1);
            memory.writeLong(e, WINDOW + in.consumeInt(0, WINDOW_BYTES));
            memory.writeInt(e + 8, in.consumeInt(0, 600));
            memory.writeShort(e + 12, (short) in.consumeInt(0, 7));
            memory.writeShort(e + 14, (short) in.consumeInt(0, 10));
        }
        for (int i = 0; i < maxSize; i++) {
            memory.writeShort(avail + 4 + 2L * i, (short) in.consumeInt(0, size + 2));
        }
        memory.writeShort(avail + 2, (short) in.consumeInt(0, 2 * maxSize));

        VirtQueue q = new VirtQueue(memory, maxSize);
        q.setSize(size);
        q.setDescGpa(in.consumeInt(0, 20) == 0 ? in.consumeLong() : desc);
        q.setAvailGpa(avail);
        q.setUsedGpa(used);
        q.setFeatures(eventIdx, indirect);
        DescriptorChain chain = q.newChain();
        try {
            q.enable();
            for (int round = 0; round < 2 * maxSize; round++) {
                if (!q.pop(chain)) {
                    if (!q.enableNotification()) {
                        break;
                    }
                    continue;
                }
                check(memory, chain);
                q.addUsed(chain.head(), Math.min(chain.writableBytes(), 0xffffffffL));
                q.needsNotification();
                if (in.consumeBoolean()) {
                    q.disableNotification();
                }
            }
            QueueState s = q.save();
            new VirtQueue(memory, maxSize).restore(s);
        } catch (VirtQueueException expected) {
            if (expected.error() == null) {
                throw new AssertionError("queue error without a reason");
            }
        }
    }

    private static void check(GuestMemory memory, DescriptorChain chain) {
        long readable = 0;
        long writable = 0;
        for (int i = 0; i < chain.count(); i++) {
            if (!memory.contains(chain.gpa(i), chain.length(i))) {
                throw new AssertionError("buffer outside RAM: " + Long.toHexString(chain.gpa(i)));
            }
            if (chain.isWritable(i)) {
                writable += chain.length(i);
            } else {
                if (i >= chain.readableCount()) {
                    throw new AssertionError("readable buffer after writable");
                }
                readable += chain.length(i);
            }
        }
        if (readable != chain.readableBytes() || writable != chain.writableBytes()
                || readable + writable > Virtq.MAX_CHAIN_BYTES || chain.count() > chain.capacity()) {
            throw new AssertionError("chain totals inconsistent");
        }
    }
}
