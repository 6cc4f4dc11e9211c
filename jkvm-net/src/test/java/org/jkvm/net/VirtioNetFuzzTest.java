package org.jkvm.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.jkvm.memory.GuestMemory;
import org.jkvm.memory.MmapGuestMemory;
import org.jkvm.memory.PcMemoryLayout;
import org.jkvm.sys.Tap;
import org.jkvm.virtio.VirtQueue;
import org.jkvm.virtio.VirtQueueException;
import org.jkvm.virtio.VirtioDevice;
import org.jkvm.virtio.VirtioFeatures;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The network device's three queues against random ring contents and random frames, as {@code VirtQueueFuzzTest}
 * does for the bare queue: {@link #randomRings} is a Jazzer target (a plain run replays its corpus; {@code JAZZER_FUZZ=1}
 * fuzzes), {@link #seededRandomRings} runs rounds from a fixed seed on every build (150 rounds). Invariants: the only
 * exception is {@link VirtQueueException}; every frame handed to the backend is at least a header and an Ethernet
 * header and at most the largest frame; every counter stays non-negative.
 */
class VirtioNetFuzzTest {
    static final long WINDOW = 0x10000;
    static final int WINDOW_BYTES = 0x10000;
    static MmapGuestMemory memory;

    interface Source {
        int consumeInt(int min, int max);

        long consumeLong();

        boolean consumeBoolean();
    }

    @BeforeAll
    static void map() {
        memory = MmapGuestMemory.create(PcMemoryLayout.of(64 * PcMemoryLayout.MIB));
    }

    @AfterAll
    static void unmap() {
        memory.close();
    }

    @FuzzTest(maxDuration = "60s")
    void randomRings(FuzzedDataProvider data) {
        run(memory, new Source() {
            @Override
            public int consumeInt(int min, int max) {
                return data.consumeInt(min, max);
            }

            @Override
            public long consumeLong() {
                return data.consumeLong();
            }

            @Override
            public boolean consumeBoolean() {
                return data.consumeBoolean();
            }
        });
    }

    @Test
    void seededRandomRings() {
        SplittableRandom random = new SplittableRandom(0x6e6574L);
        Source source = new Source() {
            @Override
            public int consumeInt(int min, int max) {
                return random.nextInt(min, max + 1);
            }

            @Override
            public long consumeLong() {
                return random.nextLong();
            }

            @Override
            public boolean consumeBoolean() {
                return random.nextBoolean();
            }
        };
        for (int i = 0; i < 150; i++) {
            run(memory, source);
        }
    }

    /** Rings of {@code size} for queue {@code q} in the window; returns the queue, enabled (or not, if refused). */
    static VirtQueue ring(GuestMemory memory, Source in, int q, int size, long features) {
        long base = WINDOW + q * 0x1000L;
        long desc = base;
        long avail = base + 16L * size;
        long used = base + 0x800;
        for (int i = 0; i < size; i++) {
            long d = desc + 16L * i;
            int steer = in.consumeInt(0, 9);
            memory.writeLong(d, steer < 8 ? WINDOW + 0x3000 + in.consumeInt(0, WINDOW_BYTES - 0x3000)
                    : in.consumeLong());
            memory.writeInt(d + 8, steer < 2 ? 16 * in.consumeInt(0, 9) : in.consumeInt(0, 3000));
            memory.writeShort(d + 12, (short) in.consumeInt(0, 7));
            memory.writeShort(d + 14, (short) in.consumeInt(0, size + 1));
        }
        for (int i = 0; i < size; i++) {
            memory.writeShort(avail + 4 + 2L * i, (short) in.consumeInt(0, size + 1));
        }
        memory.writeShort(avail, (short) in.consumeInt(0, 1));
        memory.writeShort(avail + 2, (short) in.consumeInt(0, size + 2));
        memory.fill(used, 8 + 8L * size, (byte) 0);
        VirtQueue vq = new VirtQueue(memory, size);
        vq.setSize(size);
        vq.setDescGpa(desc);
        vq.setAvailGpa(avail);
        vq.setUsedGpa(used);
        vq.setFeatures(VirtioFeatures.has(features, VirtioFeatures.VIRTIO_F_EVENT_IDX),
                VirtioFeatures.has(features, VirtioFeatures.VIRTIO_F_INDIRECT_DESC));
        return vq;
    }

    static void run(GuestMemory memory, Source in) {
        MemoryBackend backend = new MemoryBackend(1, Tap.TUN_F_CSUM | Tap.TUN_F_TSO4);
        long mac = 0x5254_0012_3456L;
        VirtioNet net = new VirtioNet(backend, mac);
        try {
            long features = net.deviceFeatures() & in.consumeLong();
            features |= VirtioFeatures.bit(VirtioFeatures.VIRTIO_F_VERSION_1);
            int frames = in.consumeInt(0, 6);
            for (int i = 0; i < frames; i++) {
                int len = in.consumeInt(0, 1) == 0 ? in.consumeInt(0, 40) : in.consumeInt(0, 4000);
                byte[] f = new byte[len];
                for (int j = 0; j < len; j++) {
                    f[j] = (byte) in.consumeInt(0, 255);
                }
                if (len >= 18 && in.consumeBoolean()) {
                    byte[] m = MacAddress.bytes(in.consumeBoolean() ? mac : MacAddress.BROADCAST);
                    System.arraycopy(m, 0, f, 12, 6);
                }
                backend.inbound.add(f);
            }
            VirtioDevice.QueueHandler[] handlers = new VirtioDevice.QueueHandler[3];
            for (int q = 0; q < 3; q++) {
                int size = 1 << in.consumeInt(0, q == 2 ? 6 : 7);
                VirtQueue vq = ring(memory, in, q, size, features);
                try {
                    vq.enable();
                } catch (VirtQueueException e) {
                    continue;
                }
                handlers[q] = net.activate(q, vq, features);
            }
            if (in.consumeInt(0, 9) == 0) {
                net.setLink(false);
            }
            for (int round = 0; round < 3; round++) {
                for (VirtioDevice.QueueHandler h : handlers) {
                    if (h == null) {
                        continue;
                    }
                    try {
                        h.process();
                    } catch (VirtQueueException expected) {
                        assertThat(expected.error()).isNotNull();
                    }
                }
            }
            for (byte[] sent : backend.sent) {
                assertThat(sent.length).isBetween(VirtioNet.HDR_BYTES + VirtioNet.ETH_HLEN,
                        VirtioNet.HDR_BYTES + VirtioNet.MAX_FRAME);
            }
            NetStats s = net.stats();
            assertThat(s.rxPackets() + s.rxFiltered() + s.rxMalformed() + s.rxOversize() + s.rxLinkDown())
                    .isLessThanOrEqualTo(frames + s.rxMalformed());
            assertThat(s.txPackets()).isEqualTo(backend.sent.size());
        } finally {
            net.close();
        }
    }
}
