package org.jkvm.devices.legacy;

import java.util.function.IntConsumer;
import org.jkvm.devices.AccessSize;
import org.jkvm.devices.BusDevice;

/**
 * QEMU's {@code isa-debug-exit} device (hw/misc/debugexit.c), conventionally at port 0xF4 with iosize 4: a test
 * guest writes a value {@code v} of any width at any offset and the VMM exits with status {@code (v << 1) | 1}, so
 * a guest can never produce status 0 (0 becomes 1, 1 becomes 3). Reads return 0.
 *
 * <p>The status is computed from the written bytes only ({@code size} masks the value) and truncated to an
 * {@code int}; the process exit code is its low 8 bits, as with QEMU. The callback runs on the writing vCPU thread
 * and this device holds no lock.
 */
public final class DebugExit implements BusDevice {

    private final IntConsumer exitStatus;

    /** @param exitStatus receives {@code (v << 1) | 1} for each write of {@code v} */
    public DebugExit(IntConsumer exitStatus) {
        if (exitStatus == null) {
            throw new NullPointerException();
        }
        this.exitStatus = exitStatus;
    }

    @Override
    public long read(long offset, int size) {
        return 0;
    }

    @Override
    public void write(long offset, int size, long value) {
        if (size <= 0) {
            return;
        }
        long v = value & AccessSize.mask(Math.min(size, 4));
        exitStatus.accept((int) (v << 1 | 1));
    }
}
