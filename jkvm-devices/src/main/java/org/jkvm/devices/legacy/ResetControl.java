package org.jkvm.devices.legacy;

import org.jkvm.devices.BusDevice;

/**
 * The Reset Control Register at port 0xCF9 (Intel PIIX3/PIIX4 and ICH datasheets; QEMU hw/isa/piix.c): writing a
 * value with bit 2 (RST_CPU) set, typically 0x06 (hard reset) or 0x0E (full reset), resets the machine. Bit 1
 * (SYS_RST) is kept and read back; bit 2 reads 0 (it self-clears); other bits are dropped. Only the byte at offset 0
 * is decoded: a wider access uses its low byte. The callback runs on the writing vCPU thread, with no lock held.
 */
public final class ResetControl implements BusDevice {

    private static final int SYS_RST = 0x02;
    private static final int RST_CPU = 0x04;

    private final Runnable reset;
    private volatile int value;

    /** @param reset called when the guest requests a reset */
    public ResetControl(Runnable reset) {
        if (reset == null) {
            throw new NullPointerException();
        }
        this.reset = reset;
    }

    @Override
    public long read(long offset, int size) {
        return offset == 0 ? value : 0xFF;
    }

    @Override
    public void write(long offset, int size, long value) {
        if (size <= 0 || offset != 0) {
            return;
        }
        int v = (int) value & 0xFF;
        this.value = v & SYS_RST;
        if ((v & RST_CPU) != 0) {
            reset.run();
        }
    }
}
