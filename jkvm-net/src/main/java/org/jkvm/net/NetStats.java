package org.jkvm.net;

/**
 * A virtio-net device's counters, kept across device resets. One writer (the I/O thread), any reader (the monitor):
 * volatile fields. Nothing is dropped without being counted here.
 */
public final class NetStats {
    volatile long rxPackets;
    volatile long rxBytes;
    volatile long txPackets;
    volatile long txBytes;
    /** Frames the receive filter (MAC tables, rx modes) kept from the guest. */
    volatile long rxFiltered;
    /** Frames read from the TAP while the link was down (QMP set_link), dropped. */
    volatile long rxLinkDown;
    /** Frames larger than the guest's buffers (one chain without mergeable buffers; the whole ring with them). */
    volatile long rxOversize;
    /** Frames from the backend shorter than a virtio-net header and an Ethernet header; unusable rx buffers. */
    volatile long rxMalformed;
    /** Times a frame waited for the guest to post receive buffers (the TAP is not read meanwhile). */
    volatile long rxNoBuffers;
    /** Failed reads of the backend. */
    volatile long rxErrors;
    /** Transmit chains shorter than a header plus an Ethernet header. */
    volatile long txMalformed;
    /** Transmit chains above the largest frame (64 KiB plus headers). */
    volatile long txOversize;
    /** Frames the backend refused (writev failed: a bad GSO header, ...). */
    volatile long txErrors;
    /** Frames the guest sent while the link was down, dropped. */
    volatile long txLinkDown;
    /** Control commands answered VIRTIO_NET_ERR, or without room for the answer. */
    volatile long ctrlErrors;
    /** The errno of the last failed backend write (0: none). */
    volatile int lastTxErrno;

    public long rxPackets() { return rxPackets; }
    public long rxBytes() { return rxBytes; }
    public long txPackets() { return txPackets; }
    public long txBytes() { return txBytes; }
    public long rxFiltered() { return rxFiltered; }
    public long rxLinkDown() { return rxLinkDown; }
    public long rxOversize() { return rxOversize; }
    public long rxMalformed() { return rxMalformed; }
    public long rxNoBuffers() { return rxNoBuffers; }
    public long rxErrors() { return rxErrors; }
    public long txMalformed() { return txMalformed; }
    public long txOversize() { return txOversize; }
    public long txErrors() { return txErrors; }
    public long txLinkDown() { return txLinkDown; }
    public long ctrlErrors() { return ctrlErrors; }
    public int lastTxErrno() { return lastTxErrno; }

    @Override
    public String toString() {
        return "rx " + rxPackets + " packets " + rxBytes + " bytes (filtered " + rxFiltered + ", link down "
                + rxLinkDown + ", oversize " + rxOversize + ", malformed " + rxMalformed + ", no buffers "
                + rxNoBuffers + ", errors " + rxErrors + "); tx " + txPackets + " packets " + txBytes
                + " bytes (malformed " + txMalformed + ", oversize " + txOversize + ", errors " + txErrors
                + ", link down " + txLinkDown + "); ctrl errors " + ctrlErrors;
    }
}
