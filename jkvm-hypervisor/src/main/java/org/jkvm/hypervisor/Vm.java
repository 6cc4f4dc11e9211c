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

    /** Where this VM's PIC and IOAPIC live. */
    enum Irqchip {
        /** In the backend (KVM's in-kernel irqchip): devices drive GSIs through {@link #setIrqLine}. */
        BACKEND,
        /**
         * In the VMM: it models the PIC and IOAPIC and hands their interrupt messages to the backend's local APICs
         * through {@link #deliverApicMessage}.
         */
        VMM
    }

    /** Where the PIC and IOAPIC live for this VM. */
    default Irqchip irqchip() {
        return Irqchip.BACKEND;
    }

    /**
     * Drives interrupt line {@code gsi} (an ISA IRQ 0-15 goes to both the PIC and the IOAPIC pin of the same number;
     * 16-23 to the IOAPIC alone) to {@code level}. Edge-triggered devices call it with true then false. Only for
     * {@link Irqchip#BACKEND}.
     */
    void setIrqLine(int gsi, boolean level);

    /**
     * {@link Irqchip#VMM} only: delivers an interrupt message (an IOAPIC redirection entry or an MSI) to the local
     * APICs {@code destination} names (physical APIC ID, or logical when {@code logical}); delivery modes as in the
     * APIC's ICR (0 fixed, 1 lowest priority, 4 NMI, 5 INIT, 7 ExtINT).
     */
    default void deliverApicMessage(int destination, boolean logical, int vector, int deliveryMode, boolean level,
                                    boolean levelTriggered) {
        throw new UnsupportedOperationException("the " + irqchip() + " irqchip takes no APIC messages from the VMM");
    }

    /**
     * {@link Irqchip#VMM} only: {@code listener} receives the vector of every level-triggered interrupt a local APIC
     * ends (EOI), for the IOAPIC's remote IRR.
     */
    default void setEoiListener(java.util.function.IntConsumer listener) {
        throw new UnsupportedOperationException("the " + irqchip() + " irqchip reports no EOIs to the VMM");
    }

    /**
     * {@link Irqchip#VMM} only: wires {@code pic}'s INTR output to the bootstrap processor's LINT0, which takes it
     * when its LVT entry is unmasked ExtINT (as firmware leaves it) or the local APIC is globally disabled; the
     * vCPU then runs the acknowledge cycle itself. Returns what the PIC calls whenever INTR rises (any thread).
     */
    default Runnable connectExtInt(ExtIntSource pic) {
        throw new UnsupportedOperationException("the " + irqchip() + " irqchip has its own PIC");
    }

    /**
     * {@link Irqchip#BACKEND} only: delivers one message-signalled interrupt, a write of {@code data} to
     * {@code address} (the local APICs' 0xFEExxxxx window; KVM_SIGNAL_MSI on KVM). With {@link Irqchip#VMM} the VMM
     * decodes MSIs itself and uses {@link #deliverApicMessage}.
     */
    default void signalMsi(long address, int data) {
        throw new UnsupportedOperationException("the " + irqchip() + " irqchip takes no MSI from the VMM");
    }

    /**
     * {@link Irqchip#BACKEND} only: whether the backend can route MSIs from eventfds by itself (KVM's GSI routing
     * with MSI entries and irqfd), so that a device signals an interrupt with one eventfd write instead of a call.
     */
    default boolean supportsMsiRoutes() {
        return false;
    }

    /**
     * Reserves a GSI for an MSI route ({@link #supportsMsiRoutes}).
     *
     * @throws IllegalStateException when the routing table is full
     */
    default int allocateMsiGsi() {
        throw new UnsupportedOperationException("no MSI routes on this backend");
    }

    /** Points GSI {@code gsi} (from {@link #allocateMsiGsi}) at the MSI {@code address}/{@code data}. */
    default void setMsiRoute(int gsi, long address, int data) {
        throw new UnsupportedOperationException("no MSI routes on this backend");
    }

    /** Binds ({@code assign}) or unbinds eventfd {@code eventFd} to GSI {@code gsi}: a write raises it (irqfd). */
    default void irqfd(int eventFd, int gsi, boolean assign) {
        throw new UnsupportedOperationException("no irqfd on this backend");
    }

    /**
     * Asks the backend to turn guest writes of {@code length} bytes to MMIO address {@code gpa} into a signal on
     * {@code eventFd} without an exit to the VMM (KVM_IOEVENTFD), or with {@code assign} false to stop doing so.
     * Returns false when the backend cannot (then the writes reach the {@link IoHandler} as usual).
     */
    default boolean ioEventFd(long gpa, int length, int eventFd, boolean assign) {
        return false;
    }

    /** {@link Irqchip#BACKEND} only: the PICs and the IOAPIC (KVM_GET_IRQCHIP). Only while every vCPU is stopped. */
    default org.jkvm.hypervisor.state.IrqchipState getIrqchip() {
        throw new UnsupportedOperationException("the " + irqchip() + " irqchip has no backend state");
    }

    /** {@link Irqchip#BACKEND} only: loads the PICs and the IOAPIC (KVM_SET_IRQCHIP). */
    default void setIrqchip(org.jkvm.hypervisor.state.IrqchipState state) {
        throw new UnsupportedOperationException("the " + irqchip() + " irqchip has no backend state");
    }

    /** The backend's own PIT (KVM_GET_PIT2), or null when the VMM has the PIT. */
    default org.jkvm.hypervisor.state.PitState getPit() {
        return null;
    }

    /** Loads the backend's PIT (KVM_SET_PIT2). */
    default void setPit(org.jkvm.hypervisor.state.PitState state) {
        throw new UnsupportedOperationException("this backend has no PIT of its own");
    }

    /** The paravirtual clock (kvmclock, KVM_GET_CLOCK) in nanoseconds, or -1 when the backend has none. */
    default long getClockNanos() {
        return -1;
    }

    /** Sets the paravirtual clock (KVM_SET_CLOCK). */
    default void setClockNanos(long nanos) {
        throw new UnsupportedOperationException("this backend has no paravirtual clock");
    }

    @Override
    void close();
}
