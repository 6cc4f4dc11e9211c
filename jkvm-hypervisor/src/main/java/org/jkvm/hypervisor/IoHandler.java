package org.jkvm.hypervisor;

/**
 * Where a vCPU sends the port and MMIO accesses that its backend does not handle itself. Called on the vCPU thread;
 * implementations must not block for long and should not allocate.
 */
public interface IoHandler {
    /** An IN of {@code size} (1, 2 or 4) bytes from {@code port}; returns the value (upper bits ignored). */
    int pioRead(int port, int size);

    /** An OUT of {@code size} bytes of {@code value} to {@code port}. */
    void pioWrite(int port, int size, int value);

    /** A read of {@code size} (1, 2, 4 or 8) bytes at guest-physical {@code gpa} outside RAM. */
    long mmioRead(long gpa, int size);

    /** A write of {@code size} bytes at guest-physical {@code gpa} outside RAM. */
    void mmioWrite(long gpa, int size, long value);
}
