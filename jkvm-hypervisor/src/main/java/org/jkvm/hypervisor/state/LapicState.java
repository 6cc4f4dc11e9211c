package org.jkvm.hypervisor.state;

/**
 * A local APIC's registers as KVM_GET_LAPIC returns them (struct kvm_lapic_state): the 1 KiB register page, each
 * register a 32-bit value at its MMIO offset (ID 0x20, TPR 0x80, ..., ISR 0x100, TMR 0x180, IRR 0x200, LVT 0x320-0x370,
 * timer initial 0x380, current 0x390, divide 0x3E0). The current count holds the remaining count at save time.
 */
public record LapicState(byte[] regs) {
    public static final int SIZE = 1024;

    public LapicState {
        if (regs == null || regs.length != SIZE) {
            throw new IllegalArgumentException("LAPIC state must be " + SIZE + " bytes, not "
                    + (regs == null ? "null" : regs.length));
        }
        regs = regs.clone();
    }

    @Override
    public byte[] regs() {
        return regs.clone();
    }

    /** Register {@code offset} (16-byte aligned, below 0x400). */
    public int reg(int offset) {
        check(offset);
        return (regs[offset] & 0xff) | (regs[offset + 1] & 0xff) << 8 | (regs[offset + 2] & 0xff) << 16
                | (regs[offset + 3] & 0xff) << 24;
    }

    /** A copy with register {@code offset} set to {@code value}. */
    public LapicState withReg(int offset, int value) {
        check(offset);
        byte[] r = regs.clone();
        put(r, offset, value);
        return new LapicState(r);
    }

    /** Writes {@code value} little-endian at {@code offset} of a register page under construction. */
    public static void put(byte[] page, int offset, int value) {
        page[offset] = (byte) value;
        page[offset + 1] = (byte) (value >>> 8);
        page[offset + 2] = (byte) (value >>> 16);
        page[offset + 3] = (byte) (value >>> 24);
    }

    private static void check(int offset) {
        if (offset < 0 || offset >= SIZE || (offset & 0xf) != 0) {
            throw new IllegalArgumentException("no LAPIC register at 0x" + Integer.toHexString(offset));
        }
    }
}
