package org.jkvm.rng;

import java.util.concurrent.atomic.AtomicLong;

import org.jkvm.virtio.DescriptorChain;
import org.jkvm.virtio.VirtQueue;
import org.jkvm.virtio.VirtQueueException;
import org.jkvm.virtio.VirtioDevice;
import org.jkvm.virtio.VirtioFeatures;

/**
 * The entropy device (virtio 1.2 section 5.4): one request queue whose device-writable buffers the device fills with
 * random bytes from an {@link EntropySource} (the host's getrandom), written in place in guest RAM. No feature bits
 * of its own and no configuration space; offered: VERSION_1, INDIRECT_DESC, EVENT_IDX.
 *
 * <p>A request gets at most {@link #MAX_BYTES_PER_REQUEST} bytes (the used length says how many; section 5.4.6.2 lets
 * the device write fewer). A chain with device-readable buffers breaks the driver rule of section 5.4.6.1: it
 * completes with no bytes and is counted, as Firecracker does; a malformed ring (from {@link VirtQueue#pop}) is a
 * {@link VirtQueueException}, which the transport turns into DEVICE_NEEDS_RESET. There is no rate limit (nor is there
 * in QEMU's default); the host's getrandom is not a scarce resource.
 */
public final class VirtioRng implements VirtioDevice {
    /** The virtio device ID of an entropy source. */
    public static final int DEVICE_TYPE = 4;
    public static final int QUEUE_SIZE = 256;
    /** The most bytes one request is given. */
    public static final int MAX_BYTES_PER_REQUEST = 64 * 1024;

    private final EntropySource source;
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();

    public VirtioRng(EntropySource source) {
        this.source = source;
    }

    @Override
    public int deviceType() {
        return DEVICE_TYPE;
    }

    @Override
    public long deviceFeatures() {
        return VirtioFeatures.bit(VirtioFeatures.VIRTIO_F_VERSION_1)
                | VirtioFeatures.bit(VirtioFeatures.VIRTIO_F_INDIRECT_DESC)
                | VirtioFeatures.bit(VirtioFeatures.VIRTIO_F_EVENT_IDX);
    }

    @Override
    public int numQueues() {
        return 1;
    }

    @Override
    public int maxQueueSize(int index) {
        return QUEUE_SIZE;
    }

    @Override
    public int configSize() {
        return 0;
    }

    @Override
    public void readConfig(int offset, byte[] dst, int dstOff, int len) {
        java.util.Arrays.fill(dst, dstOff, dstOff + len, (byte) 0);
    }

    @Override
    public QueueHandler activate(int index, VirtQueue queue, long negotiatedFeatures) {
        DescriptorChain chain = queue.newChain();
        return () -> {
            boolean completed = false;
            do {
                queue.disableNotification();
                while (queue.pop(chain)) {
                    queue.addUsed(chain.head(), serve(chain));
                    completed = true;
                }
            } while (queue.enableNotification());
            return completed && queue.needsNotification();
        };
    }

    /** Fills one request's writable buffers; returns the bytes written. */
    long serve(DescriptorChain c) throws VirtQueueException {
        requests.incrementAndGet();
        if (c.readableCount() != 0) {
            refused.incrementAndGet();
            return 0;
        }
        long written = 0;
        try {
            for (int i = c.readableCount(); i < c.count() && written < MAX_BYTES_PER_REQUEST; i++) {
                long n = Math.min(c.length(i), MAX_BYTES_PER_REQUEST - written);
                source.fill(c.segment(i).asSlice(0, n));
                written += n;
            }
        } catch (RuntimeException e) {
            // The host failed (it should not: getrandom does not fail on valid memory). Give what was filled.
            refused.incrementAndGet();
        }
        bytes.addAndGet(written);
        return written;
    }

    @Override
    public String name() {
        return "virtio-rng";
    }

    /** Random bytes handed to the guest. */
    public long bytesServed() {
        return bytes.get();
    }

    /** Requests seen. */
    public long requests() {
        return requests.get();
    }

    /** Requests answered with no bytes: device-readable buffers in the chain, or a host failure. */
    public long refused() {
        return refused.get();
    }
}
