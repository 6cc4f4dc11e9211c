package org.jkvm.devices;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class IoBusTest {

    /** Records accesses; reads return 0x1000 + offset. */
    static final class Recorder implements BusDevice {
        final List<String> log = new ArrayList<>();

        @Override
        public long read(long offset, int size) {
            log.add("r" + offset + "/" + size);
            return 0x1000 + offset;
        }

        @Override
        public void write(long offset, int size, long value) {
            log.add("w" + offset + "/" + size + "=" + Long.toHexString(value));
        }
    }

    @Test
    void dispatchesWithOffsetsRelativeToBase() {
        IoBus bus = new IoBus();
        Recorder a = new Recorder();
        Recorder b = new Recorder();
        bus.register(0x3F8, 8, a);
        bus.register(0x60, 5, b);
        assertThat(bus.read(0x3FD, 1)).isEqualTo(0x05);
        assertThat(bus.read(0x64, 2)).isEqualTo(0x1004);
        bus.write(0x3F8, 1, 0x41);
        assertThat(a.log).containsExactly("r5/1", "w0/1=41");
        assertThat(b.log).containsExactly("r4/2");
    }

    @Test
    void boundariesAreHalfOpen() {
        IoBus bus = new IoBus();
        bus.register(0x70, 2, new Recorder());
        assertThat(bus.isMapped(0x6F)).isFalse();
        assertThat(bus.isMapped(0x70)).isTrue();
        assertThat(bus.isMapped(0x71)).isTrue();
        assertThat(bus.isMapped(0x72)).isFalse();
        assertThat(bus.isMapped(-1)).isFalse();
        assertThat(bus.isMapped(Long.MAX_VALUE)).isFalse();
    }

    @Test
    void unmappedReadsFloatHighForTheAccessSize() {
        IoBus bus = new IoBus();
        bus.register(0x80, 1, new Recorder());
        assertThat(bus.read(0x81, 1)).isEqualTo(0xFF);
        assertThat(bus.read(0x81, 2)).isEqualTo(0xFFFF);
        assertThat(bus.read(0x81, 4)).isEqualTo(0xFFFF_FFFFL);
        assertThat(bus.read(0x81, 8)).isEqualTo(-1L);
        assertThat(bus.read(0x0, 0)).isZero();
        assertThat(bus.read(0x0, -3)).isZero();
        bus.write(0x81, 1, 0x12); // ignored, no exception
    }

    @Test
    void deviceResultsAndWrittenValuesAreMaskedToTheSize() {
        IoBus bus = new IoBus();
        AtomicLong written = new AtomicLong();
        bus.register(0x100, 4, new BusDevice() {
            @Override
            public long read(long offset, int size) {
                return -1L; // a sloppy device returning too many bits
            }

            @Override
            public void write(long offset, int size, long value) {
                written.set(value);
            }
        });
        assertThat(bus.read(0x100, 1)).isEqualTo(0xFF);
        assertThat(bus.read(0x100, 2)).isEqualTo(0xFFFF);
        bus.write(0x100, 2, 0x1234_5678L);
        assertThat(written.get()).isEqualTo(0x5678);
        bus.write(0x100, 3, -1L);
        assertThat(written.get()).isEqualTo(0xFF_FFFF);
    }

    @Test
    void refusesOverlapsAndBadRanges() {
        IoBus bus = new IoBus();
        bus.register(0x60, 5, new Recorder());
        bus.register(0x70, 2, new Recorder());
        assertThatThrownBy(() -> bus.register(0x64, 1, new Recorder())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> bus.register(0x5F, 2, new Recorder())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> bus.register(0x50, 0x100, new Recorder()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> bus.register(0x71, 1, new Recorder())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> bus.register(0x90, 0, new Recorder())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> bus.register(-4, 2, new Recorder())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> bus.register(Long.MAX_VALUE - 1, 4, new Recorder()))
                .isInstanceOf(IllegalArgumentException.class);
        // adjacent ranges on both sides are fine
        bus.register(0x65, 0xB, new Recorder());
        bus.register(0x5C, 4, new Recorder());
        assertThat(bus.isMapped(0x5F)).isTrue();
        assertThat(bus.isMapped(0x6F)).isTrue();
    }

    @Test
    void manyRegistrationsInAnyOrderAreFoundByBinarySearch() {
        IoBus bus = new IoBus();
        for (int i = 99; i >= 0; i--) {
            bus.register(i * 16L, 8, new Recorder());
        }
        for (int i = 0; i < 100; i++) {
            assertThat(bus.read(i * 16L + 3, 1)).isEqualTo(0x03);
            assertThat(bus.isMapped(i * 16L + 8)).isFalse();
        }
    }

    @Test
    void concurrentLookupsDuringRegistrationSeeConsistentTables() throws Exception {
        IoBus bus = new IoBus();
        bus.register(0, 1, new Recorder());
        AtomicLong bad = new AtomicLong();
        Thread reader = new Thread(() -> {
            for (int i = 0; i < 200_000; i++) {
                if (bus.read(0, 1) != 0) {
                    bad.incrementAndGet();
                }
            }
        });
        reader.start();
        for (int i = 1; i < 200; i++) {
            bus.register(i * 4L, 2, new Recorder());
        }
        reader.join();
        assertThat(bad.get()).isZero();
    }
}
