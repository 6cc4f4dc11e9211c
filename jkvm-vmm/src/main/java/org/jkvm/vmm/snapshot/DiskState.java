package org.jkvm.vmm.snapshot;

/**
 * A disk the VM had: the image's path and size in bytes when saved, and how it was attached. A restore opens the
 * same image and refuses one whose size differs (the guest's view of the disk would not match it).
 */
public record DiskState(String path, long sizeBytes, boolean readOnly, String serial, String cache, String id) {
    public DiskState {
        if (path == null || path.isEmpty() || sizeBytes < 0 || cache == null) {
            throw new IllegalArgumentException("disk state needs a path, a size and a cache mode");
        }
    }
}
