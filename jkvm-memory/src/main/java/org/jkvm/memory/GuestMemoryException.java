package org.jkvm.memory;

/** An access to guest-physical addresses that are not (entirely) guest RAM. */
public final class GuestMemoryException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final long gpa;
    private final long length;

    public GuestMemoryException(long gpa, long length) {
        super(String.format("guest range [0x%x, +0x%x) is not guest RAM", gpa, length));
        this.gpa = gpa;
        this.length = length;
    }

    public long gpa() {
        return gpa;
    }

    public long length() {
        return length;
    }
}
