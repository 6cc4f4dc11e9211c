package org.jkvm.virtio;

/**
 * A split virtqueue's state, plain data for snapshots: the driver-given addresses and size, whether the driver
 * enabled it, the device's next available and used indices (16-bit, free-running) and the negotiated ring
 * features. Untrusted when read back from a file: {@link VirtQueue#restore} validates it.
 */
public record QueueState(long descGpa, long availGpa, long usedGpa, int size, boolean ready, int nextAvail,
                         int nextUsed, boolean eventIdx, boolean indirectDesc) {
}
