package org.jkvm.loader;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.jkvm.memory.PcMemoryLayout;
import org.junit.jupiter.api.Test;

class E820Test {
    private static final long MIB = 1L << 20;
    private static final long GIB = 1L << 30;

    @Test
    void smallGuestHasLowRamOnly() {
        assertThat(E820.forLayout(PcMemoryLayout.of(128 * MIB))).containsExactly(
                new E820.Entry(0, 0x9FC00, E820.RAM),
                new E820.Entry(0x9FC00, 0x400, E820.RESERVED),
                new E820.Entry(0xE0000, 0x20000, E820.RESERVED),
                new E820.Entry(0x100000, 127 * MIB, E820.RAM));
    }

    @Test
    void bigGuestHasRamAbove4GiBAndNothingInTheHole() {
        List<E820.Entry> map = E820.forLayout(PcMemoryLayout.of(6 * GIB));
        assertThat(map).hasSize(5);
        assertThat(map.get(3)).isEqualTo(new E820.Entry(0x100000, 3 * GIB - MIB, E820.RAM));
        assertThat(map.get(4)).isEqualTo(new E820.Entry(4 * GIB, 3 * GIB, E820.RAM));
        for (E820.Entry e : map) {
            assertThat(e.end() <= PcMemoryLayout.MMIO_HOLE_START || e.addr() >= PcMemoryLayout.MMIO_HOLE_END)
                    .as("%s outside the hole", e).isTrue();
        }
        long ram = map.stream().filter(e -> e.type() == E820.RAM).mapToLong(E820.Entry::size).sum();
        assertThat(ram).as("RAM less the EBDA and the 0xA0000-0xFFFFF area").isEqualTo(6 * GIB - 0x60400);
    }

    @Test
    void entriesAreSortedAndDisjoint() {
        List<E820.Entry> map = E820.forLayout(PcMemoryLayout.of(3 * GIB));
        for (int i = 1; i < map.size(); i++) {
            assertThat(map.get(i).addr()).isGreaterThanOrEqualTo(map.get(i - 1).end());
        }
        assertThat(map).hasSize(4);
        assertThat(map.get(3).end()).isEqualTo(3 * GIB);
    }
}
