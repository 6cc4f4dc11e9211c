package org.jkvm.hypervisor.state;

/**
 * The I/O APIC's state in the form of KVM's struct kvm_ioapic_state: the register select, the ID, the pins'
 * request register (level-triggered inputs asserted) and the 24 redirection entries (64 bits each, remote IRR
 * in bit 14).
 */
public record IoApicState(int ioregsel, int id, int irr, long[] redirectionTable) {
    public static final int PINS = 24;

    public IoApicState {
        if (redirectionTable == null || redirectionTable.length != PINS) {
            throw new IllegalArgumentException("the IOAPIC has " + PINS + " redirection entries");
        }
        if (ioregsel < 0 || ioregsel > 0xff || id < 0 || id > 0xf) {
            throw new IllegalArgumentException("IOAPIC select " + ioregsel + " or id " + id + " out of range");
        }
        redirectionTable = redirectionTable.clone();
    }

    @Override
    public long[] redirectionTable() {
        return redirectionTable.clone();
    }
}
