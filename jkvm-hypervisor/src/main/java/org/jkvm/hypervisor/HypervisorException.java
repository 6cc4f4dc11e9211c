package org.jkvm.hypervisor;

/** A backend cannot be used: missing device, missing capability, or a failed setup step, with what to do. */
public class HypervisorException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public HypervisorException(String message) {
        super(message);
    }

    public HypervisorException(String message, Throwable cause) {
        super(message, cause);
    }
}
