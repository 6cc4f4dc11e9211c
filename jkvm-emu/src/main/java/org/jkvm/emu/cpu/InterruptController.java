package org.jkvm.emu.cpu;

/**
 * The vCPU-local interrupt controller as the CPU core sees it (the local APIC, {@code org.jkvm.emu.apic.LocalApic}):
 * its register page, which the {@link Mmu} serves before the {@link org.jkvm.hypervisor.IoHandler}, and the events
 * the {@link Interpreter} lets it act on at instruction boundaries. Everything here runs on the vCPU's own thread.
 */
public interface InterruptController {
    /**
     * Called between blocks while {@link Interpreter#ATTN_INTERRUPT} is set: delivers an NMI or a fixed interrupt
     * through the IDT/IVT when the CPU accepts it, handles INIT, and clears the attention bit once nothing is
     * pending. Returns a {@code Cpu.STOP_*}-style reason to leave the interpreter, or 0 to go on.
     */
    int service(Cpu c);

    /** True if {@code pa} is in the controller's register page now (the page moves with IA32_APIC_BASE). */
    boolean claims(long pa);

    long mmioRead(long pa, int size);

    /** IA32_TSC_DEADLINE (MSR 0x6E0): the armed deadline in TSC units, 0 when none (or not in deadline mode). */
    long tscDeadline();

    /** Arms (or with 0 disarms) the timer's TSC deadline; ignored unless the LVT timer is in TSC-deadline mode. */
    void setTscDeadline(long tsc);

    void mmioWrite(long pa, int size, long value);

    /** WRMSR IA32_APIC_BASE (0x1B), with the mode transitions checked; may raise #GP. */
    void writeApicBase(long value);

    /** RDMSR of x2APIC register MSR {@code msr} (0x800-0x8FF); #GP outside x2APIC mode or for absent registers. */
    long x2apicRead(int msr);

    /** WRMSR of x2APIC register MSR {@code msr} (0x800-0x8FF); #GP outside x2APIC mode or for bad values. */
    void x2apicWrite(int msr, long value);
}
