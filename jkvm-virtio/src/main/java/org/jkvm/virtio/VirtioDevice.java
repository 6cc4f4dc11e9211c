package org.jkvm.virtio;

/**
 * The device-type half of a virtio device (virtio 1.2 chapter 5), as a transport (virtio-pci: chapter 4.1) drives
 * it: what it offers (type, features, queues, configuration space) and the work behind each queue. The transport
 * owns the status machine, feature negotiation, the queues' addresses and the interrupts.
 */
public interface VirtioDevice {
    /** The virtio device ID (section 5: 1 network, 2 block, 4 entropy, ...). */
    int deviceType();

    /** The feature bits offered (section 6 reserved bits included: VERSION_1, EVENT_IDX, INDIRECT_DESC, ...). */
    long deviceFeatures();

    /** Number of virtqueues. */
    int numQueues();

    /** Largest size of queue {@code index} (a power of two). */
    int maxQueueSize(int index);

    /** Size of the device-specific configuration space in bytes. */
    int configSize();

    /**
     * Reads {@code len} configuration bytes at {@code offset} into {@code dst[dstOff..]}; bytes beyond the space
     * read as zero.
     */
    void readConfig(int offset, byte[] dst, int dstOff, int len);

    /**
     * The driver wrote configuration bytes (only the fields the device type lets it write take effect). Default:
     * nothing is writable.
     */
    default void writeConfig(int offset, byte[] src, int srcOff, int len) {
    }

    /**
     * The driver set DRIVER_OK with {@code queue} enabled and {@code negotiatedFeatures} agreed: returns the worker
     * that completes its requests. Called again after each device reset.
     */
    QueueHandler activate(int index, VirtQueue queue, long negotiatedFeatures);

    /**
     * Whether the transport sends a configuration change notification once the driver has set DRIVER_OK. For a
     * device whose driver reads part of the configuration only on such a notification: Linux's virtio_console reads
     * a single-port console's cols and rows only in its configuration change handler. Default: no.
     */
    default boolean announceConfigAtDriverOk() {
        return false;
    }

    /** A short name for messages and the monitor ("virtio-blk"). */
    String name();

    /**
     * The device's own state beyond its queues, for a snapshot (taken while its queues are not processed): empty
     * for a device that keeps none.
     */
    default byte[] saveDeviceState() {
        return new byte[0];
    }

    /**
     * Loads what {@link #saveDeviceState} returned (untrusted: validate it).
     *
     * @throws IllegalArgumentException when it is not a state of this device
     */
    default void restoreDeviceState(byte[] state) {
        if (state.length != 0) {
            throw new IllegalArgumentException(name() + " keeps no device state, the snapshot has " + state.length
                    + " bytes");
        }
    }

    /** Completes the requests of one queue; used by one thread at a time. */
    @FunctionalInterface
    interface QueueHandler {
        /**
         * Completes what the driver made available; returns true if the driver wants a used-buffer notification.
         *
         * @throws VirtQueueException the queue or a request is malformed: the transport sets DEVICE_NEEDS_RESET
         */
        boolean process() throws VirtQueueException;
    }
}
