package org.jkvm.hypervisor;

/** Why {@link Vcpu#run} returned. I/O exits never reach the caller: they go to the {@link IoHandler}. */
public enum VcpuExit {
    /** The vCPU executed HLT and the backend does not wait for interrupts itself. */
    HLT,
    /** {@link Vcpu#kick} interrupted the run. */
    INTERRUPTED,
    /** Triple fault or another condition that resets the CPU (KVM_EXIT_SHUTDOWN). */
    SHUTDOWN,
    /** The guest asked the platform to power off (KVM_SYSTEM_EVENT_SHUTDOWN). */
    SYSTEM_SHUTDOWN,
    /** The guest asked the platform to reset (KVM_SYSTEM_EVENT_RESET). */
    SYSTEM_RESET,
    /** The backend could not run or emulate the guest; {@link Vcpu#lastExitDetail} says why. */
    INTERNAL_ERROR,
    /** VM entry failed (invalid guest state); {@link Vcpu#lastExitDetail} says why. */
    FAIL_ENTRY
}
