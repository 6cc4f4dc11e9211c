package org.jkvm.devices;

/**
 * A device on an {@link IoBus}: it sees only offsets relative to where it was registered, never an absolute port or
 * address, and knows nothing of KVM (the shape of rust-vmm's vm-superio devices).
 *
 * <p>The guest is hostile: {@code offset} may be anywhere inside the registered range, and {@code size} may be any
 * value the bus was given (normally 1, 2, 4 or 8, but a decoder may pass anything). Implementations handle every
 * offset and size without throwing; a read returns only the low {@code size} bytes meaningful, and the bus masks the
 * result to the access size. Both methods run on vCPU threads, possibly several at once.
 */
public interface BusDevice {

    /** Reads {@code size} bytes at {@code offset}, little-endian in the low bytes of the result. */
    long read(long offset, int size);

    /** Writes the low {@code size} bytes of {@code value} at {@code offset}. */
    void write(long offset, int size, long value);
}
