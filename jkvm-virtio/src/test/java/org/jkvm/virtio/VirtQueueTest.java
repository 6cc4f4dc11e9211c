package org.jkvm.virtio;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import org.jkvm.memory.MmapGuestMemory;
import org.jkvm.memory.PcMemoryLayout;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.jkvm.virtio.MockDriver.Buf;

class VirtQueueTest {
    static final long RAM = 64 * PcMemoryLayout.MIB;
    MmapGuestMemory memory;
    MockDriver driver;
    VirtQueue queue;
    DescriptorChain chain;

    @BeforeEach
    void setUp() throws Exception {
        memory = MmapGuestMemory.create(PcMemoryLayout.of(RAM));
        driver = new MockDriver(memory, 16, 0x10000, 0x100000, false);
        queue = new VirtQueue(memory, 256);
        driver.configure(queue, true);
        chain = queue.newChain();
    }

    @AfterEach
    void tearDown() {
        memory.close();
    }

    private QueueError popError() {
        try {
            queue.pop(chain);
        } catch (VirtQueueException e) {
            return e.error();
        }
        throw new AssertionError("no error");
    }

    @Test
    void filledUsedElementsAppearTogetherWhenPublished() throws Exception {
        DescriptorChain c = queue.newChain();
        int[] heads = new int[3];
        for (int i = 0; i < 3; i++) {
            heads[i] = driver.add(Buf.out(driver.alloc(64, 8), 64));
        }
        driver.publish();
        for (int i = 0; i < 3; i++) {
            assertThat(queue.pop(c)).isTrue();
            queue.fillUsed(i, c.head(), 10 + i);
        }
        assertThat(driver.usedIdx()).as("nothing visible before publishUsed").isZero();
        queue.publishUsed(3);
        assertThat(driver.usedIdx()).isEqualTo(3);
        for (int i = 0; i < 3; i++) {
            MockDriver.Used u = driver.popUsed();
            assertThat(u.head()).isEqualTo(heads[i]);
            assertThat(u.len()).isEqualTo(10 + i);
        }
        assertThatThrownBy(() -> queue.fillUsed(16, 0, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> queue.publishUsed(17)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void emptyQueuePopsNothing() throws Exception {
        assertThat(queue.pop(chain)).isFalse();
        assertThat(queue.hasAvailable()).isFalse();
    }

    @Test
    void directChainIsFlattenedInOrder() throws Exception {
        long a = driver.alloc(16, 8);
        long b = driver.alloc(4096, 4096);
        long c = driver.alloc(1, 1);
        memory.write(a, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16});
        int head = driver.add(Buf.in(a, 16), Buf.out(b, 4096), Buf.out(c, 1));
        driver.publish();
        assertThat(queue.pop(chain)).isTrue();
        assertThat(chain.head()).isEqualTo(head);
        assertThat(chain.count()).isEqualTo(3);
        assertThat(chain.readableCount()).isEqualTo(1);
        assertThat(chain.writableCount()).isEqualTo(2);
        assertThat(chain.readableBytes()).isEqualTo(16);
        assertThat(chain.writableBytes()).isEqualTo(4097);
        assertThat(chain.gpa(1)).isEqualTo(b);
        assertThat(chain.isWritable(0)).isFalse();
        assertThat(chain.isWritable(2)).isTrue();
        assertThat(chain.hva(1)).isEqualTo(memory.slice(b, 1).address());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(16);
            assertThat(chain.readReadable(4, buf, 0, 16)).isEqualTo(12);
            assertThat(buf.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0)).isEqualTo((byte) 5);
        }
        assertThat(chain.writeWritableByte(4096, (byte) 0x5a)).isTrue();
        assertThat(memory.readByte(c)).isEqualTo((byte) 0x5a);
        assertThat(chain.writeWritableByte(4097, (byte) 1)).isFalse();
        assertThat(queue.pop(chain)).isFalse();
    }

    @Test
    void usedRingAndNotificationWithoutEventIdx() throws Exception {
        long b = driver.alloc(64, 8);
        int head = driver.add(Buf.out(b, 64));
        assertThat(driver.publish()).isTrue();
        assertThat(queue.pop(chain)).isTrue();
        queue.addUsed(head, 10);
        assertThat(queue.needsNotification()).isTrue();
        assertThat(driver.popUsed()).isEqualTo(new MockDriver.Used(head, 10));
        driver.setAvailFlags(Virtq.AVAIL_F_NO_INTERRUPT);
        driver.add(Buf.out(b, 64));
        driver.publish();
        assertThat(queue.pop(chain)).isTrue();
        queue.addUsed(chain.head(), 0);
        assertThat(queue.needsNotification()).isFalse();
        // Kick suppression: the device polls.
        queue.disableNotification();
        assertThat(driver.usedFlags()).isEqualTo(Virtq.USED_F_NO_NOTIFY);
        driver.add(Buf.out(b, 64));
        assertThat(driver.publish()).isFalse();
        assertThat(queue.enableNotification()).isTrue();
        assertThat(driver.usedFlags()).isZero();
    }

    @Test
    void eventIdxSuppressesNotifications() throws Exception {
        memory.close();
        memory = MmapGuestMemory.create(PcMemoryLayout.of(RAM));
        driver = new MockDriver(memory, 8, 0x10000, 0x100000, true);
        queue = new VirtQueue(memory, 8);
        driver.configure(queue, false);
        chain = queue.newChain();
        long b = driver.alloc(64, 8);
        // used_event 2: notify once the used index passes 2 (becomes 3).
        driver.setUsedEvent(2);
        boolean[] notified = new boolean[4];
        for (int i = 0; i < 4; i++) {
            driver.add(Buf.out(b, 8));
            driver.publish();
            assertThat(queue.pop(chain)).isTrue();
            queue.addUsed(chain.head(), 8);
            notified[i] = queue.needsNotification();
        }
        // The first decision always notifies (nothing signalled yet); then only the crossing of used_event.
        assertThat(notified).containsExactly(true, false, true, false);
        // avail_event: the device asks for a kick at its next index.
        assertThat(queue.enableNotification()).isFalse();
        assertThat(driver.availEvent()).isEqualTo(4);
        driver.add(Buf.out(b, 8));
        assertThat(driver.publish()).isTrue();
        driver.add(Buf.out(b, 8));
        assertThat(driver.publish()).isFalse();
    }

    @Test
    void needEventMatchesTheSpecExample() {
        // used_event 0: notify after the first buffer, then again only after 65536 more.
        assertThat(Virtq.needEvent(0, 1, 0)).isTrue();
        assertThat(Virtq.needEvent(0, 2, 1)).isFalse();
        assertThat(Virtq.needEvent(0xffff, 0, 0xfffe)).isTrue();
        assertThat(Virtq.needEvent(5, 10, 3)).isTrue();
        assertThat(Virtq.needEvent(5, 10, 6)).isFalse();
    }

    @Test
    void indirectChainAfterDirectDescriptors() throws Exception {
        long h = driver.alloc(16, 8);
        long d = driver.alloc(512, 512);
        long s = driver.alloc(1, 1);
        int head = driver.addIndirect(Buf.in(h, 16), Buf.out(d, 512), Buf.out(s, 1));
        driver.publish();
        assertThat(queue.pop(chain)).isTrue();
        assertThat(chain.head()).isEqualTo(head);
        assertThat(chain.usedIndirect()).isTrue();
        assertThat(chain.count()).isEqualTo(3);
        assertThat(chain.writableBytes()).isEqualTo(513);

        // Zero or more direct descriptors followed by one indirect (2.7.5.3.2).
        long table = driver.alloc(32, 16);
        driver.writeDescAt(table, d, 512, Virtq.DESC_F_WRITE | Virtq.DESC_F_NEXT, 1);
        driver.writeDescAt(table + 16, s, 1, Virtq.DESC_F_WRITE, 0);
        driver.writeDesc(10, h, 16, Virtq.DESC_F_NEXT, 11);
        driver.writeDesc(11, table, 32, Virtq.DESC_F_INDIRECT, 0);
        driver.writeAvailRing(1, 10);
        driver.writeAvailIdx(2);
        assertThat(queue.pop(chain)).isTrue();
        assertThat(chain.count()).isEqualTo(3);
        assertThat(chain.readableCount()).isEqualTo(1);
    }

    @Test
    void malformedDirectChains() throws Exception {
        long b = driver.alloc(64, 8);
        driver.writeAvailRing(0, 16);
        driver.writeAvailIdx(1);
        assertThat(popError()).isEqualTo(QueueError.HEAD_OUT_OF_RANGE);

        driver.writeAvailRing(0, 0);
        driver.writeDesc(0, b, 8, Virtq.DESC_F_NEXT, 99);
        assertThat(popError()).isEqualTo(QueueError.NEXT_OUT_OF_RANGE);

        driver.writeDesc(0, b, 8, Virtq.DESC_F_NEXT, 1);
        driver.writeDesc(1, b, 8, Virtq.DESC_F_NEXT, 0);
        assertThat(popError()).isEqualTo(QueueError.CHAIN_TOO_LONG);

        driver.writeDesc(0, RAM - 4, 8, 0, 0);
        assertThat(popError()).isEqualTo(QueueError.BUFFER_OUTSIDE_RAM);
        driver.writeDesc(0, -8, 16, 0, 0);
        assertThat(popError()).isEqualTo(QueueError.BUFFER_OUTSIDE_RAM);
        driver.writeDesc(0, PcMemoryLayout.MMIO_HOLE_START, 1, 0, 0);
        assertThat(popError()).isEqualTo(QueueError.BUFFER_OUTSIDE_RAM);

        driver.writeDesc(0, b, 8, Virtq.DESC_F_WRITE | Virtq.DESC_F_NEXT, 1);
        driver.writeDesc(1, b, 8, 0, 0);
        assertThat(popError()).isEqualTo(QueueError.READABLE_AFTER_WRITABLE);

        // The same RAM can be named many times, but not more than 2^32 bytes in total: 65 x 64 MiB.
        long table = driver.alloc(16 * 65, 16);
        for (int i = 0; i < 65; i++) {
            driver.writeDescAt(table + 16L * i, 0, (int) RAM, i < 64 ? Virtq.DESC_F_NEXT : 0, i + 1);
        }
        driver.writeDesc(0, table, 16 * 65, Virtq.DESC_F_INDIRECT, 0);
        assertThat(popError()).isEqualTo(QueueError.TOTAL_LENGTH_OVERFLOW);

        driver.writeAvailIdx(17);
        assertThat(popError()).isEqualTo(QueueError.AVAIL_INDEX_RUNAWAY);
        // Nothing was consumed by the failed pops.
        assertThat(queue.nextAvail()).isZero();
    }

    @Test
    void malformedIndirectTables() throws Exception {
        long b = driver.alloc(64, 8);
        long table = driver.alloc(64, 16);
        driver.writeAvailRing(0, 0);
        driver.writeAvailIdx(1);

        driver.writeDesc(0, table, 32, Virtq.DESC_F_INDIRECT | Virtq.DESC_F_NEXT, 1);
        assertThat(popError()).isEqualTo(QueueError.INDIRECT_WITH_NEXT);
        driver.writeDesc(0, table, 24, Virtq.DESC_F_INDIRECT, 0);
        assertThat(popError()).isEqualTo(QueueError.INDIRECT_TABLE_BAD_LENGTH);
        driver.writeDesc(0, table, 0, Virtq.DESC_F_INDIRECT, 0);
        assertThat(popError()).isEqualTo(QueueError.INDIRECT_TABLE_BAD_LENGTH);
        driver.writeDesc(0, table, 16 * 257, Virtq.DESC_F_INDIRECT, 0);
        assertThat(popError()).isEqualTo(QueueError.INDIRECT_TABLE_TOO_LARGE);
        driver.writeDesc(0, RAM - 16, 32, Virtq.DESC_F_INDIRECT, 0);
        assertThat(popError()).isEqualTo(QueueError.BUFFER_OUTSIDE_RAM);

        driver.writeDesc(0, table, 32, Virtq.DESC_F_INDIRECT, 0);
        driver.writeDescAt(table, table, 16, Virtq.DESC_F_INDIRECT, 0);
        assertThat(popError()).isEqualTo(QueueError.NESTED_INDIRECT);
        driver.writeDescAt(table, b, 8, Virtq.DESC_F_NEXT, 2);
        assertThat(popError()).isEqualTo(QueueError.INDIRECT_NEXT_OUT_OF_RANGE);
        driver.writeDescAt(table, b, 8, Virtq.DESC_F_NEXT, 1);
        driver.writeDescAt(table + 16, b, 8, Virtq.DESC_F_NEXT, 0);
        assertThat(popError()).isEqualTo(QueueError.INDIRECT_LOOP);
        driver.writeDescAt(table + 16, RAM, 8, 0, 0);
        assertThat(popError()).isEqualTo(QueueError.BUFFER_OUTSIDE_RAM);

        VirtQueue plain = new VirtQueue(memory, 16);
        driver.configure(plain, false);
        assertThatThrownBy(() -> plain.pop(chain)).isInstanceOf(VirtQueueException.class)
                .extracting(e -> ((VirtQueueException) e).error()).isEqualTo(QueueError.INDIRECT_NOT_NEGOTIATED);
    }

    @Test
    void enableValidatesSizeAlignmentAndPlacement() {
        VirtQueue q = new VirtQueue(memory, 256);
        q.setSize(24);
        assertThatThrownBy(q::enable).hasMessageContaining("power of two");
        q.setSize(512);
        assertThatThrownBy(q::enable).isInstanceOf(VirtQueueException.class);
        q.setSize(16);
        q.setDescGpa(0x1008);
        assertThatThrownBy(q::enable).extracting(e -> ((VirtQueueException) e).error())
                .isEqualTo(QueueError.MISALIGNED_RING);
        q.setDescGpa(RAM - 128);
        q.setAvailGpa(0x2000);
        q.setUsedGpa(0x3000);
        assertThatThrownBy(q::enable).extracting(e -> ((VirtQueueException) e).error())
                .isEqualTo(QueueError.RING_OUTSIDE_RAM);
        assertThat(q.isReady()).isFalse();
        assertThatThrownBy(() -> new VirtQueue(memory, 65536)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void saveAndRestoreValidates() throws Exception {
        long b = driver.alloc(64, 8);
        driver.add(Buf.out(b, 8));
        driver.publish();
        queue.pop(chain);
        QueueState state = queue.save();
        assertThat(state.nextAvail()).isEqualTo(1);
        assertThat(state.nextUsed()).isZero();
        VirtQueue restored = new VirtQueue(memory, 256);
        restored.restore(state);
        assertThat(restored.save()).isEqualTo(state);
        restored.addUsed(chain.head(), 8);
        assertThat(driver.popUsed()).isNotNull();

        QueueState bad = new QueueState(state.descGpa(), state.availGpa(), state.usedGpa(), 16, true, 40, 0, false,
                false);
        assertThatThrownBy(() -> restored.restore(bad)).extracting(e -> ((VirtQueueException) e).error())
                .isEqualTo(QueueError.INVALID_STATE);
        assertThat(restored.isReady()).isFalse();
        QueueState outside = new QueueState(RAM, state.availGpa(), state.usedGpa(), 16, true, 0, 0, false, false);
        assertThatThrownBy(() -> restored.restore(outside)).extracting(e -> ((VirtQueueException) e).error())
                .isEqualTo(QueueError.RING_OUTSIDE_RAM);
        QueueState badIdx = new QueueState(0, 0, 0, 16, false, 70000, 0, false, false);
        assertThatThrownBy(() -> restored.restore(badIdx)).isInstanceOf(VirtQueueException.class);
    }

    @Test
    void indicesWrapAt65536() throws Exception {
        long b = driver.alloc(64, 8);
        QueueState s = queue.save();
        queue.restore(new QueueState(s.descGpa(), s.availGpa(), s.usedGpa(), 16, true, 0xfffe, 0xfffe, false, true));
        driver.writeDesc(0, b, 8, Virtq.DESC_F_WRITE, 0);
        for (int i = 0; i < 4; i++) {
            driver.writeAvailRing((0xfffe + i) & 15, 0);
        }
        driver.writeAvailIdx(2);
        int popped = 0;
        while (queue.pop(chain)) {
            queue.addUsed(chain.head(), 1);
            popped++;
        }
        assertThat(popped).isEqualTo(4);
        assertThat(driver.usedIdx()).isEqualTo(2);
    }
}
