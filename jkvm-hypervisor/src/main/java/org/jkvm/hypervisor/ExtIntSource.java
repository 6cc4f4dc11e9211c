package org.jkvm.hypervisor;

/**
 * An 8259A-style interrupt controller as the bootstrap processor's LINT0 sees it in ExtINT mode (Intel SDM vol. 3A
 * 11.5.1, "virtual wire mode"): the INTR level, and the interrupt-acknowledge cycle that yields the vector.
 * Called on the vCPU thread.
 */
public interface ExtIntSource {
    /** Whether INTR is asserted. */
    boolean interruptRequested();

    /** The INTA cycle: the controller marks its highest request in service and returns its vector. */
    int acknowledge();
}
