package org.jkvm.net;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import org.jkvm.sys.Libc;
import org.jkvm.virtio.DescriptorChain;
import org.jkvm.virtio.VirtQueue;
import org.jkvm.virtio.VirtQueueException;
import org.jkvm.virtio.VirtioDevice;

/**
 * One transmit queue (virtio 1.2 section 5.1.6.2): each chain's device-readable buffers, header first, go to the
 * backend in one writev(2) straight from guest memory (an iovec array allocated once; nothing per packet). A chain
 * shorter than a header plus an Ethernet header, or longer than the largest frame, is dropped and counted, as are
 * frames sent while the link is down and frames the backend refuses (the kernel checks the GSO header); every chain
 * is returned. At most {@value #BATCH} chains per call, then the queue is rescheduled.
 */
final class NetTx implements VirtioDevice.QueueHandler {
    static final int BATCH = 256;

    private final VirtioNet dev;
    private final NetStats stats;
    private final NetBackend backend;
    private final int pair;
    private final int queueIndex;
    private final VirtQueue queue;
    private final MemorySegment iov;
    private final DescriptorChain chain;

    NetTx(VirtioNet dev, int pair, int queueIndex, VirtQueue queue, MemorySegment iov) {
        this.dev = dev;
        this.stats = dev.stats();
        this.backend = dev.backend();
        this.pair = pair;
        this.queueIndex = queueIndex;
        this.queue = queue;
        this.iov = iov;
        this.chain = queue.newChain();
    }

    @Override
    public boolean process() throws VirtQueueException {
        boolean completed = false;
        int sent = 0;
        do {
            queue.disableNotification();
            while (queue.pop(chain)) {
                send(chain);
                queue.addUsed(chain.head(), 0);
                completed = true;
                if (++sent == BATCH) {
                    dev.kick(queueIndex); // notifications stay off: the kick brings the thread back
                    return queue.needsNotification();
                }
            }
        } while (queue.enableNotification());
        return completed && queue.needsNotification();
    }

    private void send(DescriptorChain c) {
        long len = c.readableBytes();
        if (len < VirtioNet.HDR_BYTES + VirtioNet.ETH_HLEN) {
            stats.txMalformed++;
            return;
        }
        if (len > VirtioNet.HDR_BYTES + VirtioNet.MAX_FRAME) {
            stats.txOversize++;
            return;
        }
        if (!dev.linkUp()) {
            stats.txLinkDown++;
            return;
        }
        int n = c.readableCount();
        for (int i = 0; i < n; i++) {
            iov.set(ValueLayout.JAVA_LONG, i * Libc.IOVEC_SIZE, c.hva(i));
            iov.set(ValueLayout.JAVA_LONG, i * Libc.IOVEC_SIZE + 8, c.length(i));
        }
        long r = backend.writev(pair, iov, n);
        if (r < 0) {
            stats.txErrors++;
            stats.lastTxErrno = (int) -r;
            return;
        }
        stats.txPackets++;
        stats.txBytes += len - VirtioNet.HDR_BYTES;
    }
}
