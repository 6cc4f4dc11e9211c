package org.jkvm.hypervisor.state;

/**
 * Events a vCPU has pending or half-delivered (struct kvm_vcpu_events, without SMM and the exception payload): an
 * exception or interrupt being injected, NMI state, the interrupt shadow after STI or MOV SS, and a pending SIPI
 * vector. A vCPU stopped between instructions, as the software CPU always is, has none in flight.
 */
public record VcpuEvents(boolean exceptionInjected, int exceptionNr, boolean exceptionHasErrorCode,
                         int exceptionErrorCode, boolean interruptInjected, int interruptNr, boolean interruptSoft,
                         int interruptShadow, boolean nmiInjected, boolean nmiPending, boolean nmiMasked,
                         int sipiVector) {
    /** Nothing pending. */
    public static final VcpuEvents NONE = new VcpuEvents(false, 0, false, 0, false, 0, false, 0, false, false, false, 0);

    public VcpuEvents {
        if (exceptionNr < 0 || exceptionNr > 31) {
            throw new IllegalArgumentException("exception number " + exceptionNr + " outside 0..31");
        }
        if (interruptNr < 0 || interruptNr > 255) {
            throw new IllegalArgumentException("interrupt vector " + interruptNr + " outside 0..255");
        }
        if (interruptShadow < 0 || interruptShadow > 3) {
            throw new IllegalArgumentException("interrupt shadow " + interruptShadow + " outside 0..3");
        }
        if (sipiVector < 0 || sipiVector > 255) {
            throw new IllegalArgumentException("SIPI vector " + sipiVector + " outside 0..255");
        }
    }

    /** True when an exception or interrupt is being delivered (only KVM stops a vCPU in that state). */
    public boolean deliveryInFlight() {
        return exceptionInjected || interruptInjected || nmiInjected;
    }
}
