package org.jkvm.devices.acpi;

/**
 * The ACPI PM1 event and control registers and the PM timer ({@link AcpiPm}): status, enable, control, and the
 * timer's nanoseconds of running time (the timer goes on from there).
 */
public record AcpiPmState(int status, int enable, int control, long timerNanos) {
    public AcpiPmState {
        if (status < 0 || status > 0xffff || enable < 0 || enable > 0xffff || control < 0 || control > 0xffff
                || timerNanos < 0) {
            throw new IllegalArgumentException("ACPI PM state out of range");
        }
    }
}
