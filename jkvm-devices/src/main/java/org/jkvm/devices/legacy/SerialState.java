package org.jkvm.devices.legacy;

/**
 * A 16550A's registers and receive FIFO ({@link Serial16550}): bytes received and not yet read, in order, the
 * interrupt enable, FIFO control, line and modem control, scratch and divisor latch registers, the overrun and
 * modem-status-delta latches, and a pending transmitter-empty interrupt.
 */
public record SerialState(byte[] rx, int ier, int fcr, int lcr, int mcr, int scr, int dll, int dlm, boolean overrun,
                          int msrDeltas, boolean thrInterruptPending) {
    public SerialState {
        if (rx == null || rx.length > Serial16550.FIFO_SIZE) {
            throw new IllegalArgumentException("serial receive FIFO holds at most " + Serial16550.FIFO_SIZE + " bytes");
        }
        rx = rx.clone();
        for (int v : new int[] {ier, fcr, lcr, mcr, scr, dll, dlm, msrDeltas}) {
            if (v < 0 || v > 0xff) {
                throw new IllegalArgumentException("serial register value " + v + " outside 0..255");
            }
        }
    }

    @Override
    public byte[] rx() {
        return rx.clone();
    }
}
