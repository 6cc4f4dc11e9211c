package org.jkvm.devices.irq;

/**
 * Where a device that chooses its interrupt input at run time (the HPET's route field) drives it: global system
 * interrupt numbers as in {@link IrqRouter}. Transitions only, as {@link org.jkvm.devices.InterruptLine}'s contract.
 */
@FunctionalInterface
public interface GsiSink {

    /** Drives GSI {@code gsi} to {@code level} for this source; an unknown GSI is ignored. */
    void setGsi(int gsi, boolean level);
}
