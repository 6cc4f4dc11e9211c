package org.jkvm.pci;

/**
 * A PCI function on a {@link PciBus}: its configuration space and the memory behind its BARs. Like a
 * {@link org.jkvm.devices.BusDevice}, a PCI device sees offsets (into its config space, into one BAR), never an
 * absolute address, and knows nothing of KVM. Every method may be called on any vCPU thread with any guest-chosen
 * offset and size, and must neither throw nor touch memory outside the device for any of them.
 */
public interface PciDevice {
    /** The function's configuration space. */
    PciConfigSpace config();

    /** A guest read of {@code size} bytes at {@code offset} inside BAR {@code bar}. */
    long barRead(int bar, long offset, int size);

    /** A guest write of {@code size} bytes at {@code offset} inside BAR {@code bar}. */
    void barWrite(int bar, long offset, int size, long value);

    /**
     * A guest read of config space; a device whose config space has registers with side effects overrides it.
     */
    default long configRead(int offset, int size) {
        return config().read(offset, size);
    }

    /**
     * Offered every guest config write first: returns true if the device handled it itself (a register with side
     * effects), false to let the write masks apply.
     */
    default boolean configWriteIntercept(int offset, int size, long value) {
        return false;
    }

    /**
     * Called after the guest wrote {@code size} bytes at config space {@code offset} (the write masks applied):
     * devices with writable capability fields (MSI-X control, ...) act on them here.
     */
    default void configWritten(int offset, int size) {
    }

    /**
     * Called when the guest-physical address at which BAR {@code bar} decodes changes: {@code gpa} is where it now
     * answers, or -1 when it no longer does (memory decoding off, or moved outside the PCI windows).
     */
    default void barMapped(int bar, long gpa) {
    }

    /** A short description for the monitor ("virtio-blk", "host bridge"). */
    String description();

    /** The user's id for the device (QEMU's qdev id), or "" if none. */
    default String id() {
        return "";
    }
}
