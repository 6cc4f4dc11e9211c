package org.jkvm.devices.legacy;

import org.jkvm.devices.BusDevice;

/**
 * The POST diagnostic port, 0x80: firmware writes progress codes to it, and Linux writes to it merely to delay
 * ({@code native_io_delay}), so writes must be cheap. The last byte written is kept ({@link #lastCode}) and read
 * back, as a POST card displays it. Lock-free: a volatile field.
 */
public final class PostCode implements BusDevice {

    private volatile int lastCode;

    /** The low byte of the most recent write, 0 before any. */
    public int lastCode() {
        return lastCode;
    }

    @Override
    public long read(long offset, int size) {
        return lastCode;
    }

    @Override
    public void write(long offset, int size, long value) {
        if (size > 0 && offset == 0) {
            lastCode = (int) value & 0xFF;
        }
    }
}
