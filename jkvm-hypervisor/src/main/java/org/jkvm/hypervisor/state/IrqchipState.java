package org.jkvm.hypervisor.state;

/** The PC's interrupt controllers: the 8259A pair and the IOAPIC (KVM_GET_IRQCHIP for each chip). */
public record IrqchipState(PicState master, PicState slave, IoApicState ioapic) {
    public IrqchipState {
        if (master == null || slave == null || ioapic == null) {
            throw new IllegalArgumentException("irqchip state needs both PICs and the IOAPIC");
        }
    }
}
