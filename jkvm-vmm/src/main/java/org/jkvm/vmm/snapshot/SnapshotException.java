package org.jkvm.vmm.snapshot;

/** A snapshot cannot be taken, or a snapshot file cannot be restored; the message says why. Nothing was started. */
public final class SnapshotException extends RuntimeException {
    public SnapshotException(String message) {
        super(message);
    }

    public SnapshotException(String message, Throwable cause) {
        super(message, cause);
    }
}
