package org.jkvm.kvm;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

import org.jkvm.hypervisor.state.IoApicState;
import org.jkvm.hypervisor.state.PicState;
import org.jkvm.hypervisor.state.PitChannelState;
import org.jkvm.hypervisor.state.PitState;
import org.jkvm.hypervisor.state.VcpuEvents;
import org.junit.jupiter.api.Test;

/** The snapshot records survive encoding into KVM's structs and decoding back (no /dev/kvm needed). */
class KvmStateStructsTest {
    @Test
    void picIoApicPitAndEventsRoundTrip() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment chip = arena.allocate(KvmAbi.KVM_IRQCHIP_SIZE, 8);
            PicState pic = new PicState(0x11, 0x22, 0xfb, 0x01, 3, 0x20, true, false, true, 0, false, true, false,
                    true, 0x08, 0xf8);
            KvmStateStructs.encodePic(pic, chip);
            assertThat(KvmStateStructs.decodePic(chip)).isEqualTo(pic);

            long[] table = new long[24];
            for (int i = 0; i < 24; i++) {
                table[i] = 0x10000L | (0x30 + i) | (long) i << 56;
            }
            IoApicState io = new IoApicState(0x12, 3, 0x5, table);
            KvmStateStructs.encodeIoApic(io, chip);
            assertThat(KvmStateStructs.decodeIoApic(chip)).usingRecursiveComparison().isEqualTo(io);

            MemorySegment pit = arena.allocate(KvmAbi.KVM_PIT_STATE2_SIZE, 8);
            PitChannelState ch0 = new PitChannelState(11932, 0x1234, 3, true, 0x34, 3, 4, 0x9c, 3, 2, false, true,
                    5_000_000);
            PitChannelState ch1 = new PitChannelState(0x10000, 0, 0, false, 0, 0, 0, 0, 3, 0xff, false, true, 0);
            PitChannelState ch2 = new PitChannelState(1193, 0, 0, false, 0, 1, 1, 0, 1, 3, true, false, 7);
            PitState p = new PitState(List.of(ch0, ch1, ch2), 2);
            long now = 1_000_000_000_000L;
            KvmStateStructs.encodePit(p, pit, now);
            assertThat(KvmStateStructs.decodePit(pit, now)).isEqualTo(p);
            assertThat(KvmStateStructs.decodePit(pit, now + 10).channels().get(0).loadedNanosAgo())
                    .isEqualTo(5_000_010);

            MemorySegment ev = arena.allocate(KvmAbi.KVM_VCPU_EVENTS_SIZE, 8);
            VcpuEvents e = new VcpuEvents(true, 14, true, 2, false, 0x41, false, 1, false, true, false, 0x9a);
            KvmStateStructs.encodeEvents(e, ev);
            assertThat(KvmStateStructs.decodeEvents(ev)).isEqualTo(e);
        }
    }
}
