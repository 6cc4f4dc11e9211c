package org.jkvm.net;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import org.jkvm.sys.Errno;
import org.jkvm.virtio.DescriptorChain;
import org.jkvm.virtio.VirtQueue;
import org.jkvm.virtio.VirtQueueException;
import org.jkvm.virtio.VirtioDevice;
import org.jkvm.virtio.VirtioFeatures;

/**
 * One receive queue (virtio 1.2 section 5.1.6.3-5.1.6.4): frames from the backend into the guest's buffers. Runs on
 * the I/O thread when the backend's descriptor becomes readable (edge-triggered) and when the driver posts buffers.
 *
 * <p>Each frame is read whole into a staging buffer of the queue pair (allocated once; nothing per packet), checked
 * (length, receive filter, link) and copied into guest memory: one chain without VIRTIO_NET_F_MRG_RXBUF (a frame
 * larger than it is dropped and counted, the chain kept for the next frame), or as many chains as it needs with it,
 * each filled completely but the last, {@code num_buffers} in the first header, all made used with one index update
 * (the driver must see them together). When the guest has no buffer the frame waits in the staging buffer, the TAP is
 * not read further (the kernel's queue then fills and the TAP counts its drops), the wait is counted, and the
 * driver's next kick resumes. At most {@value #BATCH} frames per call, then the queue is rescheduled so that other
 * queues get the thread.
 */
final class NetRx implements VirtioDevice.QueueHandler {
    static final int BATCH = 256;
    private static final int NUM_BUFFERS = 10;

    private final VirtioNet dev;
    private final NetStats stats;
    private final NetBackend backend;
    private final int pair;
    private final int queueIndex;
    private final VirtQueue queue;
    private final boolean mergeable;
    private final boolean guestCsum;
    private final MemorySegment stage;
    private final DescriptorChain first;
    private final DescriptorChain cur;
    private final int[] heads;

    private long frameLen = -1;
    private long placed;
    private int buffers;
    private boolean firstHeld;
    private boolean waiting;

    NetRx(VirtioNet dev, int pair, int queueIndex, VirtQueue queue, long features, MemorySegment stage) {
        this.dev = dev;
        this.stats = dev.stats();
        this.backend = dev.backend();
        this.pair = pair;
        this.queueIndex = queueIndex;
        this.queue = queue;
        this.mergeable = VirtioFeatures.has(features, VirtioNet.F_MRG_RXBUF);
        this.guestCsum = VirtioFeatures.has(features, VirtioNet.F_GUEST_CSUM);
        this.stage = stage;
        this.first = queue.newChain();
        this.cur = queue.newChain();
        this.heads = new int[queue.size()];
    }

    @Override
    public boolean process() throws VirtQueueException {
        boolean completed = false;
        int frames = 0;
        queue.disableNotification(); // buffers are looked for when a frame needs them
        while (true) {
            if (frameLen < 0) {
                if (frames == BATCH) {
                    dev.kick(queueIndex);
                    break;
                }
                if (!nextFrame()) {
                    break;
                }
                frames++;
                if (frameLen < 0) {
                    continue; // dropped (counted)
                }
            }
            int r = mergeable ? placeMergeable() : placeOne();
            if (r < 0) {
                break; // no buffer: the frame waits, the driver's kick resumes
            }
            if (r > 0) {
                completed = true;
            }
        }
        return completed && queue.needsNotification();
    }

    /** Reads the next frame into the staging buffer; false when the backend has none. */
    private boolean nextFrame() {
        long n = backend.read(pair, stage, stage.byteSize());
        if (n < 0) {
            if (n != -Errno.EAGAIN && n != -Errno.EINTR) {
                stats.rxErrors++;
            }
            return false;
        }
        if (n < VirtioNet.HDR_BYTES + VirtioNet.ETH_HLEN) {
            stats.rxMalformed++;
            return true;
        }
        if (!dev.linkUp()) {
            stats.rxLinkDown++;
            return true;
        }
        long dst = 0;
        for (int i = 0; i < 6; i++) {
            dst = (dst << 8) | (stage.get(ValueLayout.JAVA_BYTE, VirtioNet.HDR_BYTES + i) & 0xff);
        }
        if (!dev.filter().accepts(dst)) {
            stats.rxFiltered++;
            return true;
        }
        if (!guestCsum) {
            stage.set(ValueLayout.JAVA_BYTE, 0, (byte) 0); // flags: 0 without GUEST_CSUM (5.1.6.4.1)
        }
        frameLen = n;
        placed = 0;
        buffers = 0;
        return true;
    }

    /** Pops a chain into {@code c}; false (and the driver asked to kick) when there is none. */
    private boolean popOrWait(DescriptorChain c) throws VirtQueueException {
        while (!queue.pop(c)) {
            if (!queue.enableNotification()) {
                if (!waiting) {
                    waiting = true;
                    stats.rxNoBuffers++;
                }
                return false;
            }
        }
        return true;
    }

    /** Without mergeable buffers: 1 delivered, 0 dropped, -1 waiting for a buffer. */
    private int placeOne() throws VirtQueueException {
        if (!firstHeld) {
            if (!popOrWait(first)) {
                return -1;
            }
            firstHeld = true;
        }
        long len = frameLen;
        frameLen = -1;
        waiting = false;
        if (first.writableBytes() < VirtioNet.HDR_BYTES + VirtioNet.ETH_HLEN) {
            // a chain that can hold no frame at all: returned empty rather than kept forever
            stats.rxMalformed++;
            stats.rxOversize++;
            queue.fillUsed(0, first.head(), 0);
            queue.publishUsed(1);
            firstHeld = false;
            return 1;
        }
        if (first.writableBytes() < len) {
            stats.rxOversize++; // the chain stays for the next frame
            return 0;
        }
        stage.set(ValueLayout.JAVA_SHORT_UNALIGNED, NUM_BUFFERS, (short) 1);
        first.writeWritable(0, stage, 0, len);
        queue.fillUsed(0, first.head(), len);
        queue.publishUsed(1);
        firstHeld = false;
        delivered(len);
        return 1;
    }

    /** With mergeable buffers: 1 delivered, 0 dropped, -1 waiting for buffers (what is placed stays placed). */
    private int placeMergeable() throws VirtQueueException {
        while (placed < frameLen) {
            DescriptorChain c;
            if (buffers == 0) {
                if (!firstHeld) {
                    if (!popOrWait(first)) {
                        return -1;
                    }
                    firstHeld = true;
                }
                c = first;
                if (c.writableBytes() < VirtioNet.HDR_BYTES) {
                    // a buffer that cannot hold the header (5.1.6.3.1): returned empty, the frame tries the next
                    stats.rxMalformed++;
                    queue.fillUsed(0, c.head(), 0);
                    queue.publishUsed(1);
                    firstHeld = false;
                    continue;
                }
            } else {
                if (!popOrWait(cur)) {
                    return -1;
                }
                c = cur;
            }
            long n = Math.min(c.writableBytes(), frameLen - placed);
            if (n > 0) {
                c.writeWritable(0, stage, placed, n);
            }
            heads[buffers] = c.head();
            queue.fillUsed(buffers, c.head(), n);
            buffers++;
            placed += n;
            if (placed < frameLen && buffers == queue.size()) {
                // the whole ring cannot hold it: every buffer goes back empty (the driver drops short packets)
                for (int i = 0; i < buffers; i++) {
                    queue.fillUsed(i, heads[i], 0);
                }
                queue.publishUsed(buffers);
                stats.rxOversize++;
                frameLen = -1;
                firstHeld = false;
                waiting = false;
                return 1;
            }
        }
        first.writeWritableByte(NUM_BUFFERS, (byte) buffers);
        first.writeWritableByte(NUM_BUFFERS + 1, (byte) (buffers >>> 8));
        queue.publishUsed(buffers);
        long len = frameLen;
        frameLen = -1;
        firstHeld = false;
        waiting = false;
        delivered(len);
        return 1;
    }

    private void delivered(long len) {
        stats.rxPackets++;
        stats.rxBytes += len - VirtioNet.HDR_BYTES;
    }
}
