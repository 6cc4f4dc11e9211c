package org.jkvm.pci;

/**
 * Where a function's message-signalled interrupts go: vector {@code vector} of its MSI-X table fires, a write of
 * {@code data} to {@code address} (PCI Local Bus 3.0 section 6.8; on x86 the address is in the local APICs'
 * 0xFEExxxxx window, Intel SDM vol. 3A 11.11). The VMM turns it into an irqfd write, KVM_SIGNAL_MSI or a software
 * local APIC delivery. {@link #signal} may be called from any thread and must not block long.
 */
@FunctionalInterface
public interface MsiSink {
    /** Vector {@code vector} fires (it is enabled and unmasked) with its current message. */
    void signal(int vector, long address, int data);

    /**
     * The guest changed the message of {@code vector} (address or data): a VMM that routes vectors in the kernel
     * (KVM's MSI routes for irqfd) updates the route here. Called on the vCPU thread that wrote the table.
     */
    default void programmed(int vector, long address, int data) {
    }
}
