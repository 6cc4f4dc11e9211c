package org.jkvm.virtio;

/**
 * A malformed virtqueue or descriptor chain: the typed error the queue reports instead of touching memory it must
 * not. The device turns it into DEVICE_NEEDS_RESET (virtio 1.2 section 2.1.2). Checked, so no caller can forget it.
 */
public final class VirtQueueException extends Exception {
    private static final long serialVersionUID = 1L;
    private final QueueError error;

    public VirtQueueException(QueueError error, String detail) {
        super(error.description() + (detail.isEmpty() ? "" : ": " + detail), null, false, false);
        this.error = error;
    }

    /** The rule the driver broke. */
    public QueueError error() {
        return error;
    }
}
