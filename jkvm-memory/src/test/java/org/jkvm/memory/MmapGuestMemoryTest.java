package org.jkvm.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class MmapGuestMemoryTest {
    private static final long MIB = 1 << 20;

    @Test
    void layoutSplitsAroundTheMmioHole() {
        PcMemoryLayout small = PcMemoryLayout.of(256 * MIB);
        assertThat(small.ranges()).containsExactly(new PcMemoryLayout.Range(0, 256 * MIB));
        PcMemoryLayout big = PcMemoryLayout.of(5L << 30);
        assertThat(big.ranges()).containsExactly(new PcMemoryLayout.Range(0, 3L << 30),
                new PcMemoryLayout.Range(4L << 30, 2L << 30));
        assertThat(big.ramEnd()).isEqualTo(6L << 30);
    }

    @Test
    void layoutRejectsBadSizes() {
        assertThatThrownBy(() -> PcMemoryLayout.of(32 * MIB)).hasMessageContaining("minimum of 64 MiB");
        assertThatThrownBy(() -> PcMemoryLayout.of(65 * MIB + 1)).hasMessageContaining("multiple of 2 MiB");
        assertThatThrownBy(() -> PcMemoryLayout.of(2L << 40)).hasMessageContaining("maximum");
    }

    @Test
    void accessesInsideRamWorkAcrossBothRegions() {
        try (GuestMemory m = MmapGuestMemory.create(PcMemoryLayout.of(64L << 30))) {
            m.writeLong(0x1000, 0x1122334455667788L);
            assertThat(m.readInt(0x1000)).isEqualTo(0x55667788);
            assertThat(m.readByte(0x1007)).isEqualTo((byte) 0x11);
            long high = 4L << 30;
            m.writeShort(high + 10, (short) 0xbeef);
            assertThat(m.readShort(high + 10)).isEqualTo((short) 0xbeef);
            long last = m.regions().get(1).endGpa() - 8;
            m.writeLong(last, -1);
            assertThat(m.readLong(last)).isEqualTo(-1);
            byte[] b = {1, 2, 3};
            m.write(0x2000, b);
            byte[] back = new byte[3];
            m.read(0x2000, back, 0, 3);
            assertThat(back).containsExactly(1, 2, 3);
        }
    }

    @Test
    void accessesOutsideRamAreRefused() {
        try (GuestMemory m = MmapGuestMemory.create(PcMemoryLayout.of(64 * MIB))) {
            assertThatThrownBy(() -> m.readLong(64 * MIB - 4)).isInstanceOf(GuestMemoryException.class);
            assertThatThrownBy(() -> m.readByte(-1)).isInstanceOf(GuestMemoryException.class);
            assertThatThrownBy(() -> m.slice(0, -1)).isInstanceOf(GuestMemoryException.class);
            assertThatThrownBy(() -> m.slice(Long.MAX_VALUE - 2, 16)).isInstanceOf(GuestMemoryException.class);
            assertThatThrownBy(() -> m.write(64 * MIB, new byte[1])).isInstanceOf(GuestMemoryException.class);
            assertThatThrownBy(() -> m.readInt(3L << 30)).isInstanceOf(GuestMemoryException.class);
            assertThat(m.contains(64 * MIB - 8, 8)).isTrue();
            assertThat(m.contains(64 * MIB - 8, 9)).isFalse();
        }
    }

    @Test
    void regionStraddlingTheHoleIsRefused() {
        try (GuestMemory m = MmapGuestMemory.create(PcMemoryLayout.of(4L << 30))) {
            assertThatThrownBy(() -> m.slice((3L << 30) - 4, 8)).isInstanceOf(GuestMemoryException.class);
        }
    }
}
