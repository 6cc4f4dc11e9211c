package org.jkvm.devices.irq;

/**
 * The system (APIC) bus as an I/O APIC sees it: where a redirection entry's interrupt message goes (82093AA I/O APIC
 * datasheet 290566, section 3.2.4 "I/O Redirection Table Registers"; Intel SDM vol. 3A 11.6 for the destination
 * modes). The local APIC side implements it; its parameter order is that of {@code Vm.deliverApicMessage} in
 * jkvm-hypervisor (and of the emu backend's {@code ApicBus.deliver}), so the VMM passes {@code vm::deliverApicMessage};
 * under KVM's split irqchip it would become a {@code KVM_SIGNAL_MSI}.
 *
 * <p>Called with the I/O APIC's lock held, possibly from any vCPU thread or the timer thread: an implementation must
 * not block and must not wait for another thread that may be calling into the I/O APIC. It must not answer with
 * {@link IoApic#endOfInterrupt} from inside this call either: the EOI belongs to the guest's handler, later, on the
 * vCPU thread (an immediate EOI of a still-asserted level input would recurse into a new delivery).
 */
@FunctionalInterface
public interface ApicDelivery {

    /** Delivery modes (redirection entry bits 10:8). */
    int FIXED = 0, LOWEST_PRIORITY = 1, SMI = 2, NMI = 4, INIT = 5, EXTINT = 7;

    /**
     * Sends one interrupt message.
     *
     * @param destination    APIC ID (physical) or logical destination (MDA), 0xFF broadcast (entry bits 63:56)
     * @param logical        destination mode (bit 11): true = logical
     * @param vector         the vector (bits 7:0); for {@link #EXTINT} the receiver asks the 8259A for it instead
     * @param deliveryMode   bits 10:8, one of the constants above
     * @param level          the message's level: always true (assert) from an I/O APIC
     * @param levelTriggered trigger mode (bit 15): the receiving local APIC sets the vector's TMR bit, and its EOI
     *                       must come back as {@link IoApic#endOfInterrupt}
     */
    void deliver(int destination, boolean logical, int vector, int deliveryMode, boolean level, boolean levelTriggered);
}
