package org.jkvm.hypervisor.state;

/**
 * One i8254 channel in the form of KVM's struct kvm_pit_channel_state, except the load time: {@code count} is the
 * reload value (0 = 65536), the latch and read/write-phase fields as the kernel keeps them (read_state and
 * write_state: 1 LSB, 2 MSB, 3 word-LSB, 4 word-MSB), and {@code loadedNanosAgo} how long before the save the count
 * was loaded (the kernel's count_load_time, made relative so it survives the host's clock).
 */
public record PitChannelState(int count, int latchedCount, int countLatched, boolean statusLatched, int status,
                              int readState, int writeState, int writeLatch, int rwMode, int mode, boolean bcd,
                              boolean gate, long loadedNanosAgo) {
    /** KVM's mode value for a channel no control word has reached since reset. */
    public static final int NEVER_PROGRAMMED = 0xff;

    public PitChannelState {
        if (count < 0 || count > 0x10000 || latchedCount < 0 || latchedCount > 0xffff || (mode < 0 || mode > 5) && mode != NEVER_PROGRAMMED
                || rwMode < 0 || rwMode > 3 || readState < 0 || readState > 4 || writeState < 0 || writeState > 4
                || countLatched < 0 || countLatched > 4 || status < 0 || status > 0xff
                || writeLatch < 0 || writeLatch > 0xff || loadedNanosAgo < 0) {
            throw new IllegalArgumentException("PIT channel state out of range: " + this);
        }
    }
}
