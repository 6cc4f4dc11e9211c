package org.jkvm.devices.legacy;

/**
 * The i8042 keyboard controller ({@link I8042}): its output queue (bit 8 marks an aux byte), the last byte read,
 * the 32-byte controller RAM (byte 0 the command byte), system flag, command/data latch, pending controller and
 * keyboard commands, the scan code set, output port and port B bits.
 */
public record I8042State(int[] queue, int lastRead, byte[] ram, boolean sysFlag, boolean lastWasCommand,
                         int pendingCommand, int keyboardPending, int scanCodeSet, int outputPort, int portB) {
    public static final int QUEUE_SIZE = 16;

    public I8042State {
        if (queue == null || queue.length > QUEUE_SIZE || ram == null || ram.length != 32) {
            throw new IllegalArgumentException("i8042 queue holds at most " + QUEUE_SIZE + " bytes, RAM is 32 bytes");
        }
        for (int q : queue) {
            if (q < 0 || q > 0x1ff) {
                throw new IllegalArgumentException("i8042 queue entry " + q + " out of range");
            }
        }
        if (scanCodeSet < 1 || scanCodeSet > 3) {
            throw new IllegalArgumentException("scan code set " + scanCodeSet);
        }
        queue = queue.clone();
        ram = ram.clone();
    }

    @Override
    public int[] queue() {
        return queue.clone();
    }

    @Override
    public byte[] ram() {
        return ram.clone();
    }
}
