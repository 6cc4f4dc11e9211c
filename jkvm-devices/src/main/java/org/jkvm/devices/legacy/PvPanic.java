package org.jkvm.devices.legacy;

import org.jkvm.devices.BusDevice;

/**
 * QEMU's {@code pvpanic} ISA device (docs/specs/pvpanic.rst; hw/misc/pvpanic-isa.c), one byte at port 0x505 that
 * the ACPI DSDT describes as device {@code QEMU0001}. Reading returns the events the device understands: bit 0
 * "guest panicked" and bit 1 "crash kernel loaded"; Linux's pvpanic driver writes bit 0 from its panic notifier and
 * bit 1 before booting a kdump kernel. A panic is reported to the VMM once per write with bit 0 set, on the writing
 * vCPU's thread; "crash loaded" only means the guest is about to boot its crash kernel and is ignored, as QEMU's
 * default action does.
 */
public final class PvPanic implements BusDevice {
    public static final int PANICKED = 1;
    public static final int CRASH_LOADED = 2;
    public static final int CAPABILITIES = PANICKED | CRASH_LOADED;

    private final Runnable onPanic;

    /** @param onPanic called when the guest reports a panic */
    public PvPanic(Runnable onPanic) {
        if (onPanic == null) {
            throw new NullPointerException();
        }
        this.onPanic = onPanic;
    }

    @Override
    public long read(long offset, int size) {
        return offset == 0 ? CAPABILITIES : 0;
    }

    @Override
    public void write(long offset, int size, long value) {
        if (offset == 0 && (value & PANICKED) != 0) {
            onPanic.run();
        }
    }
}
