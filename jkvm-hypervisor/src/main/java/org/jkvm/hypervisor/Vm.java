package org.jkvm.hypervisor;

import org.jkvm.memory.GuestMemory;

/**
 * A virtual machine on some backend: guest memory, interrupt controllers and vCPUs. On KVM this is the VM fd with
 * the in-kernel irqchip (PIC, IOAPIC, LAPICs) and PIT; on emu the software models of those.
 */
public interface Vm extends AutoCloseable {
    /** Makes all of {@code memory}'s regions guest RAM. Called once, before vCPUs run. */
    void setMemory(GuestMemory memory);

    /** Creates vCPU {@code index} (its initial APIC ID is {@code index}). vCPU 0 is the bootstrap processor. */
    Vcpu createVcpu(int index);

    /**
     * Drives interrupt line {@code gsi} (an ISA IRQ 0-15 goes to both the PIC and the IOAPIC pin of the same number;
     * 16-23 to the IOAPIC alone) to {@code level}. Edge-triggered devices call it with true then false.
     */
    void setIrqLine(int gsi, boolean level);

    @Override
    void close();
}
