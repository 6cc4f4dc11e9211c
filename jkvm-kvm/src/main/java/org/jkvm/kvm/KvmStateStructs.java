package org.jkvm.kvm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import org.jkvm.hypervisor.state.IoApicState;
import org.jkvm.hypervisor.state.PicState;
import org.jkvm.hypervisor.state.PitChannelState;
import org.jkvm.hypervisor.state.PitState;
import org.jkvm.hypervisor.state.VcpuEvents;

/**
 * Converts the snapshot state records to and from KVM's structs (arch/x86/include/uapi/asm/kvm.h): kvm_pic_state,
 * kvm_ioapic_state (inside kvm_irqchip's union at offset 8), kvm_pit_state2 and kvm_vcpu_events. Decoding
 * validates through the records' constructors, so a kernel value out of range fails loudly instead of being stored.
 */
final class KvmStateStructs {
    private static final ValueLayout.OfByte B = ValueLayout.JAVA_BYTE;
    private static final ValueLayout.OfShort S = ValueLayout.JAVA_SHORT;
    private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfLong L = ValueLayout.JAVA_LONG;
    /** kvm_irqchip.chip starts after chip_id and pad. */
    static final long CHIP = 8;

    private KvmStateStructs() {}

    private static int u8(MemorySegment m, long o) {
        return Byte.toUnsignedInt(m.get(B, o));
    }

    private static void u8(MemorySegment m, long o, int v) {
        m.set(B, o, (byte) v);
    }

    private static void flag(MemorySegment m, long o, boolean v) {
        m.set(B, o, (byte) (v ? 1 : 0));
    }

    static PicState decodePic(MemorySegment m) {
        long o = CHIP;
        return new PicState(u8(m, o), u8(m, o + 1), u8(m, o + 2), u8(m, o + 3), u8(m, o + 4), u8(m, o + 5),
                u8(m, o + 6) != 0, u8(m, o + 7) != 0, u8(m, o + 8) != 0, u8(m, o + 9), u8(m, o + 10) != 0,
                u8(m, o + 11) != 0, u8(m, o + 12) != 0, u8(m, o + 13) != 0, u8(m, o + 14), u8(m, o + 15));
    }

    static void encodePic(PicState p, MemorySegment m) {
        long o = CHIP;
        u8(m, o, p.lastIrr());
        u8(m, o + 1, p.irr());
        u8(m, o + 2, p.imr());
        u8(m, o + 3, p.isr());
        u8(m, o + 4, p.priorityAdd());
        u8(m, o + 5, p.irqBase());
        flag(m, o + 6, p.readRegSelect());
        flag(m, o + 7, p.poll());
        flag(m, o + 8, p.specialMask());
        u8(m, o + 9, p.initState());
        flag(m, o + 10, p.autoEoi());
        flag(m, o + 11, p.rotateOnAutoEoi());
        flag(m, o + 12, p.specialFullyNestedMode());
        flag(m, o + 13, p.init4());
        u8(m, o + 14, p.elcr());
        u8(m, o + 15, p.elcrMask());
    }

    static IoApicState decodeIoApic(MemorySegment m) {
        long o = CHIP;
        long[] table = new long[IoApicState.PINS];
        for (int i = 0; i < table.length; i++) {
            table[i] = m.get(L, o + 24 + 8L * i);
        }
        return new IoApicState(m.get(I, o + 8), m.get(I, o + 12), m.get(I, o + 16), table);
    }

    static void encodeIoApic(IoApicState s, MemorySegment m) {
        long o = CHIP;
        m.set(L, o, 0xfec0_0000L);
        m.set(I, o + 8, s.ioregsel());
        m.set(I, o + 12, s.id());
        m.set(I, o + 16, s.irr());
        long[] table = s.redirectionTable();
        for (int i = 0; i < table.length; i++) {
            m.set(L, o + 24 + 8L * i, table[i]);
        }
    }

    /** kvm_pit_state2 to the record; count_load_time (ktime, CLOCK_MONOTONIC) becomes an age as of {@code nowNanos}. */
    static PitState decodePit(MemorySegment m, long nowNanos) {
        List<PitChannelState> channels = new ArrayList<>(3);
        for (int c = 0; c < 3; c++) {
            long o = (long) c * KvmAbi.KVM_PIT_CHANNEL_STATE_SIZE;
            long loaded = m.get(L, o + 16);
            channels.add(new PitChannelState(m.get(I, o), Short.toUnsignedInt(m.get(S, o + 4)), u8(m, o + 6),
                    u8(m, o + 7) != 0, u8(m, o + 8), u8(m, o + 9), u8(m, o + 10), u8(m, o + 11), u8(m, o + 12),
                    u8(m, o + 13), u8(m, o + 14) != 0, u8(m, o + 15) != 0, Math.max(0, nowNanos - loaded)));
        }
        int flags = m.get(I, 72);
        int speaker = ((flags & KvmAbi.KVM_PIT_FLAGS_SPEAKER_DATA_ON) != 0 ? 2 : 0)
                | (channels.get(2).gate() ? 1 : 0);
        return new PitState(channels, speaker);
    }

    static void encodePit(PitState p, MemorySegment m, long nowNanos) {
        for (int c = 0; c < 3; c++) {
            PitChannelState ch = p.channels().get(c);
            long o = (long) c * KvmAbi.KVM_PIT_CHANNEL_STATE_SIZE;
            m.set(I, o, ch.count());
            m.set(S, o + 4, (short) ch.latchedCount());
            u8(m, o + 6, ch.countLatched());
            flag(m, o + 7, ch.statusLatched());
            u8(m, o + 8, ch.status());
            u8(m, o + 9, ch.readState());
            u8(m, o + 10, ch.writeState());
            u8(m, o + 11, ch.writeLatch());
            u8(m, o + 12, ch.rwMode());
            u8(m, o + 13, ch.mode());
            flag(m, o + 14, ch.bcd());
            flag(m, o + 15, c == 2 ? (p.speaker() & 1) != 0 : ch.gate());
            m.set(L, o + 16, nowNanos - ch.loadedNanosAgo());
        }
        m.set(I, 72, (p.speaker() & 2) != 0 ? KvmAbi.KVM_PIT_FLAGS_SPEAKER_DATA_ON : 0);
    }

    static VcpuEvents decodeEvents(MemorySegment m) {
        boolean excInjected = u8(m, 0) != 0 || u8(m, 3) != 0;
        return new VcpuEvents(excInjected, u8(m, 1) & 31, u8(m, 2) != 0, m.get(I, 4), u8(m, 8) != 0, u8(m, 9),
                u8(m, 10) != 0, u8(m, 11) & 3, u8(m, 12) != 0, u8(m, 13) != 0, u8(m, 14) != 0,
                m.get(I, 16) & 0xff);
    }

    static void encodeEvents(VcpuEvents e, MemorySegment m) {
        flag(m, 0, e.exceptionInjected());
        u8(m, 1, e.exceptionNr());
        flag(m, 2, e.exceptionHasErrorCode());
        m.set(I, 4, e.exceptionErrorCode());
        flag(m, 8, e.interruptInjected());
        u8(m, 9, e.interruptNr());
        flag(m, 10, e.interruptSoft());
        u8(m, 11, e.interruptShadow());
        flag(m, 12, e.nmiInjected());
        flag(m, 13, e.nmiPending());
        flag(m, 14, e.nmiMasked());
        m.set(I, 16, e.sipiVector());
        m.set(I, 20, KvmAbi.KVM_VCPUEVENT_VALID_NMI_PENDING | KvmAbi.KVM_VCPUEVENT_VALID_SIPI_VECTOR
                | KvmAbi.KVM_VCPUEVENT_VALID_SHADOW);
    }
}
