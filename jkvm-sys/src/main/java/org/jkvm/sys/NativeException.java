package org.jkvm.sys;

/**
 * A failed system call: names the call (for ioctls, the request's kernel name) and the errno, with the C library's
 * description of it. Every wrapper in this module throws it instead of returning -1.
 */
public final class NativeException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final String call;
    private final int errno;

    public NativeException(String call, int errno) {
        super(call + " failed: " + Errno.name(errno) + " (" + Libc.strerror(errno) + ")");
        this.call = call;
        this.errno = errno;
    }

    /** The call that failed, e.g. {@code "open(/dev/kvm)"} or {@code "ioctl(KVM_CREATE_VM)"}. */
    public String call() {
        return call;
    }

    public int errno() {
        return errno;
    }
}
