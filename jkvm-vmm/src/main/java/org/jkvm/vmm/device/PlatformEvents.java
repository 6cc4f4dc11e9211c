package org.jkvm.vmm.device;

/** What the platform's devices can ask of the VM as a whole. Called from vCPU or I/O threads. */
public interface PlatformEvents {
    /** ACPI S5 (soft off). */
    void powerOff();

    /** A reset through the keyboard controller or the reset control register. */
    void reset(String how);

    /** The guest kernel panicked and said so through the pvpanic device. */
    void guestPanicked();

    /** A write to the debug-exit port: jkvm exits with {@code status}. */
    void debugExit(int status);
}
