package org.jkvm.virtio;

import java.util.SplittableRandom;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.jkvm.memory.MmapGuestMemory;
import org.jkvm.memory.PcMemoryLayout;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Fuzzing the virtqueue with random ring contents ({@link RingFuzzer}). {@link #randomRings} is a Jazzer target: in
 * a plain test run it replays its seed corpus (src/test/resources/.../VirtQueueFuzzTestInputs/randomRings); with
 * {@code JAZZER_FUZZ=1} it fuzzes (for the time given by maxDuration). {@link #seededRandomRings} runs a few thousand
 * rings from a fixed seed on every build, whatever Jazzer does.
 */
class VirtQueueFuzzTest {
    static MmapGuestMemory memory;

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
        RingFuzzer.run(memory, new RingFuzzer.Source() {
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
        SplittableRandom random = new SplittableRandom(0x6a6b766dL);
        RingFuzzer.Source source = new RingFuzzer.Source() {
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
        for (int i = 0; i < 1000; i++) {
            RingFuzzer.run(memory, source);
        }
    }
}
