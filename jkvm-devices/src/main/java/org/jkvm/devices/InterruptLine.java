package org.jkvm.devices;

/**
 * One interrupt wire from a device to the interrupt controller: the device drives its level, the VMM turns it into
 * {@code KVM_IRQ_LINE} (or a software PIC/IOAPIC input). Devices call {@link #set} only when the level changes, and
 * may call it while holding their own lock: an implementation must not block indefinitely and must not call back
 * into the device.
 */
@FunctionalInterface
public interface InterruptLine {

    /** Drives the line to {@code asserted}. */
    void set(boolean asserted);

    /** An edge: raises then lowers the line. */
    default void pulse() {
        set(true);
        set(false);
    }

    /** A line connected to nothing. */
    InterruptLine NONE = asserted -> { };
}
