package org.jkvm.net;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.function.Consumer;
import java.util.function.IntConsumer;

import org.jkvm.sys.Tap;
import org.jkvm.virtio.DescriptorChain;
import org.jkvm.virtio.VirtQueue;
import org.jkvm.virtio.VirtQueueException;
import org.jkvm.virtio.VirtioDevice;
import org.jkvm.virtio.VirtioFeatures;

/**
 * The network device (virtio 1.2 section 5.1, device ID 1) over a {@link NetBackend} (a TAP). Queues: receiveq
 * {@code 2i} and transmitq {@code 2i+1} for each of the N queue pairs, then the control queue {@code 2N}. The
 * 12-byte {@code virtio_net_hdr_v1} (VERSION_1) goes to and from the TAP unchanged, so checksum and segmentation
 * offloads pass straight through: the guest's receive offloads (GUEST_CSUM, GUEST_TSO4/6, GUEST_ECN, GUEST_UFO) are
 * what TUNSETOFFLOAD tells the TAP; the transmit ones (CSUM, HOST_TSO4/6, HOST_ECN, HOST_UFO) need nothing, the
 * kernel takes the header as it is.
 *
 * <p>Offered: VERSION_1, EVENT_IDX, INDIRECT_DESC, CSUM, GUEST_CSUM, CTRL_GUEST_OFFLOADS, MTU, MAC, the TSO/ECN/UFO
 * offloads the TAP supports, MRG_RXBUF, STATUS, CTRL_VQ, CTRL_RX, CTRL_RX_EXTRA, GUEST_ANNOUNCE, CTRL_MAC_ADDR, and
 * MQ when there is more than one pair. Not offered: CTRL_VLAN (no VLAN filter), RSS, HASH_REPORT, SPEED_DUPLEX,
 * the packed ring. Configuration space (12 bytes): mac, status (LINK_UP, ANNOUNCE), max_virtqueue_pairs, mtu.
 *
 * <p>Receive ({@link NetRx}) and transmit ({@link NetTx}) run on the I/O thread; the control queue is handled
 * here. {@link #setLink} and {@link #announce} change the status and send a configuration change interrupt through
 * the hook the transport gives ({@link #setConfigChangeHook}).
 */
public final class VirtioNet implements VirtioDevice {
    public static final int DEVICE_TYPE = 1;
    public static final int QUEUE_SIZE = 256;
    public static final int CTRL_QUEUE_SIZE = 64;
    public static final int HDR_BYTES = Tap.VNET_HDR_BYTES;
    /** The largest Ethernet frame, without the virtio-net header: 64 KiB of IP plus an Ethernet and a VLAN header. */
    public static final int MAX_FRAME = 65536 + 18;
    public static final int ETH_HLEN = 14;
    public static final int DEFAULT_MTU = 1500;

    // feature bits (5.1.3)
    public static final int F_CSUM = 0, F_GUEST_CSUM = 1, F_CTRL_GUEST_OFFLOADS = 2, F_MTU = 3, F_MAC = 5,
            F_GUEST_TSO4 = 7, F_GUEST_TSO6 = 8, F_GUEST_ECN = 9, F_GUEST_UFO = 10, F_HOST_TSO4 = 11,
            F_HOST_TSO6 = 12, F_HOST_ECN = 13, F_HOST_UFO = 14, F_MRG_RXBUF = 15, F_STATUS = 16, F_CTRL_VQ = 17,
            F_CTRL_RX = 18, F_CTRL_VLAN = 19, F_CTRL_RX_EXTRA = 20, F_GUEST_ANNOUNCE = 21, F_MQ = 22,
            F_CTRL_MAC_ADDR = 23;
    public static final int S_LINK_UP = 1, S_ANNOUNCE = 2;
    /** struct virtio_net_config: mac[6], status, max_virtqueue_pairs, mtu (le16 each). */
    public static final int CONFIG_BYTES = 12, CFG_STATUS = 6, CFG_MAX_PAIRS = 8, CFG_MTU = 10;
    // control queue (5.1.6.5)
    public static final int CTRL_RX = 0, CTRL_MAC = 1, CTRL_VLAN = 2, CTRL_ANNOUNCE = 3, CTRL_MQ = 4,
            CTRL_GUEST_OFFLOADS = 5;
    public static final int CTRL_MAC_TABLE_SET = 0, CTRL_MAC_ADDR_SET = 1;
    public static final int VIRTIO_NET_OK = 0, VIRTIO_NET_ERR = 1;

    private final NetBackend backend;
    private final long configuredMac;
    private final int pairs;
    private final int mtu;
    private final long features;
    private final NetStats stats = new NetStats();
    private final Arena arena = Arena.ofShared();
    private final MemorySegment[] rxStage;
    private final MemorySegment[] txIov;
    private final MemorySegment ctrlScratch;

    private volatile RxFilter filter;
    private volatile int status = S_LINK_UP;
    private volatile boolean linkUp = true;
    private volatile long negotiated;
    private volatile int activePairs = 1;
    private volatile boolean filterEventArmed = true;
    private Runnable configChangeHook = () -> { };
    private IntConsumer queueKick = q -> { };
    private Consumer<VirtioNet> filterChanged = n -> { };

    /** A device with {@code backend.queues()} queue pairs and the address {@code mac}. */
    public VirtioNet(NetBackend backend, long mac) {
        this(backend, mac, DEFAULT_MTU);
    }

    public VirtioNet(NetBackend backend, long mac, int mtu) {
        this.backend = backend;
        this.configuredMac = mac;
        this.pairs = backend.queues();
        this.mtu = mtu;
        this.filter = RxFilter.initial(mac);
        int offloads = backend.supportedOffloads();
        long f = VirtioFeatures.bit(VirtioFeatures.VIRTIO_F_VERSION_1)
                | VirtioFeatures.bit(VirtioFeatures.VIRTIO_F_EVENT_IDX)
                | VirtioFeatures.bit(VirtioFeatures.VIRTIO_F_INDIRECT_DESC)
                | bit(F_CSUM) | bit(F_HOST_TSO4) | bit(F_HOST_TSO6) | bit(F_HOST_ECN) | bit(F_HOST_UFO)
                | bit(F_CTRL_GUEST_OFFLOADS) | bit(F_MTU) | bit(F_MAC) | bit(F_MRG_RXBUF) | bit(F_STATUS)
                | bit(F_CTRL_VQ) | bit(F_CTRL_RX) | bit(F_CTRL_RX_EXTRA) | bit(F_GUEST_ANNOUNCE)
                | bit(F_CTRL_MAC_ADDR);
        if ((offloads & Tap.TUN_F_CSUM) != 0) {
            f |= bit(F_GUEST_CSUM);
            f |= (offloads & Tap.TUN_F_TSO4) != 0 ? bit(F_GUEST_TSO4) : 0;
            f |= (offloads & Tap.TUN_F_TSO6) != 0 ? bit(F_GUEST_TSO6) : 0;
            f |= (offloads & Tap.TUN_F_TSO_ECN) != 0 ? bit(F_GUEST_ECN) : 0;
            f |= (offloads & Tap.TUN_F_UFO) != 0 ? bit(F_GUEST_UFO) : 0;
        }
        if (pairs > 1) {
            f |= bit(F_MQ);
        }
        this.features = f;
        rxStage = new MemorySegment[pairs];
        txIov = new MemorySegment[pairs];
        for (int i = 0; i < pairs; i++) {
            rxStage[i] = arena.allocate(HDR_BYTES + MAX_FRAME, 64);
            txIov[i] = arena.allocate(org.jkvm.sys.Libc.IOVEC_SIZE * QUEUE_SIZE, 8);
        }
        ctrlScratch = arena.allocate(16, 8);
    }

    static long bit(int b) {
        return 1L << b;
    }

    /** The transport's configuration change interrupt (sent when the status changes). */
    public void setConfigChangeHook(Runnable hook) {
        this.configChangeHook = hook;
    }

    /** Makes the I/O thread run queue {@code q} again (a batch limit was reached with work left). */
    public void setQueueKick(IntConsumer kick) {
        this.queueKick = kick;
    }

    /** Called (on the I/O thread) when the driver changes the receive filter, until {@link #rearmFilterEvent}. */
    public void setFilterChangedListener(Consumer<VirtioNet> listener) {
        this.filterChanged = listener;
    }

    public NetBackend backend() {
        return backend;
    }

    public NetStats stats() {
        return stats;
    }

    public RxFilter filter() {
        return filter;
    }

    public int queuePairs() {
        return pairs;
    }

    /** Queue pairs the driver uses now (VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET; 1 after a reset). */
    public int activePairs() {
        return activePairs;
    }

    public boolean linkUp() {
        return linkUp;
    }

    /** The feature bits the driver accepted at its last DRIVER_OK. */
    public long negotiatedFeatures() {
        return negotiated;
    }

    /** The configured MAC address (what the configuration space shows after a reset). */
    public long configuredMac() {
        return configuredMac;
    }

    /**
     * QMP's set_link: the link's state as the guest sees it (VIRTIO_NET_S_LINK_UP, with a configuration change
     * interrupt). While it is down, frames in both directions are dropped and counted.
     */
    public void setLink(boolean up) {
        boolean changed;
        synchronized (this) {
            changed = linkUp != up;
            linkUp = up;
            status = up ? status | S_LINK_UP : status & ~S_LINK_UP;
        }
        if (changed) {
            configChangeHook.run();
        }
    }

    /**
     * Asks the guest to announce itself (VIRTIO_NET_S_ANNOUNCE with a configuration change interrupt; the driver
     * sends gratuitous ARPs and acknowledges with VIRTIO_NET_CTRL_ANNOUNCE_ACK). False unless the driver negotiated
     * GUEST_ANNOUNCE.
     */
    public boolean announce() {
        if (!VirtioFeatures.has(negotiated, F_GUEST_ANNOUNCE) || !VirtioFeatures.has(negotiated, F_CTRL_VQ)) {
            return false;
        }
        synchronized (this) {
            status |= S_ANNOUNCE;
        }
        configChangeHook.run();
        return true;
    }

    /** QEMU's query-rx-filter side effect: the next filter change sends NIC_RX_FILTER_CHANGED again. */
    public void rearmFilterEvent() {
        filterEventArmed = true;
    }

    @Override
    public int deviceType() {
        return DEVICE_TYPE;
    }

    @Override
    public long deviceFeatures() {
        return features;
    }

    @Override
    public int numQueues() {
        return 2 * pairs + 1;
    }

    @Override
    public int maxQueueSize(int index) {
        return index == 2 * pairs ? CTRL_QUEUE_SIZE : QUEUE_SIZE;
    }

    @Override
    public int configSize() {
        return CONFIG_BYTES;
    }

    @Override
    public void readConfig(int offset, byte[] dst, int dstOff, int len) {
        byte[] cfg = new byte[CONFIG_BYTES];
        byte[] mac = MacAddress.bytes(filter.mac());
        System.arraycopy(mac, 0, cfg, 0, 6);
        int s = status;
        cfg[CFG_STATUS] = (byte) s;
        cfg[CFG_STATUS + 1] = (byte) (s >>> 8);
        cfg[CFG_MAX_PAIRS] = (byte) pairs;
        cfg[CFG_MAX_PAIRS + 1] = (byte) (pairs >>> 8);
        cfg[CFG_MTU] = (byte) mtu;
        cfg[CFG_MTU + 1] = (byte) (mtu >>> 8);
        for (int i = 0; i < len; i++) {
            int at = offset + i;
            dst[dstOff + i] = at >= 0 && at < CONFIG_BYTES ? cfg[at] : 0;
        }
    }

    @Override
    public QueueHandler activate(int index, VirtQueue queue, long negotiatedFeatures) {
        if (index == 0) {
            // the first queue of a fresh DRIVER_OK: the device's state after a reset
            negotiated = negotiatedFeatures;
            filter = RxFilter.initial(configuredMac);
            synchronized (this) {
                status &= ~S_ANNOUNCE;
            }
            setActivePairs(1);
            backend.setOffload(tunOffloads(negotiatedFeatures));
        }
        if (index == 2 * pairs) {
            DescriptorChain chain = queue.newChain();
            return () -> control(queue, chain);
        }
        int pair = index / 2;
        return index % 2 == 0
                ? new NetRx(this, pair, index, queue, negotiatedFeatures, rxStage[pair])
                : new NetTx(this, pair, index, queue, txIov[pair]);
    }

    /** The TUN_F_* flags for the guest receive offloads in {@code f}. */
    static int tunOffloads(long f) {
        if (!VirtioFeatures.has(f, F_GUEST_CSUM)) {
            return 0;
        }
        int t = Tap.TUN_F_CSUM;
        t |= VirtioFeatures.has(f, F_GUEST_TSO4) ? Tap.TUN_F_TSO4 : 0;
        t |= VirtioFeatures.has(f, F_GUEST_TSO6) ? Tap.TUN_F_TSO6 : 0;
        if ((t & (Tap.TUN_F_TSO4 | Tap.TUN_F_TSO6)) != 0 && VirtioFeatures.has(f, F_GUEST_ECN)) {
            t |= Tap.TUN_F_TSO_ECN;
        }
        t |= VirtioFeatures.has(f, F_GUEST_UFO) ? Tap.TUN_F_UFO : 0;
        return t;
    }

    private void setActivePairs(int n) {
        activePairs = n;
        for (int q = 0; q < pairs; q++) {
            backend.setQueueEnabled(q, q < n);
        }
    }

    // ---- used by the queue handlers (I/O thread) ----

    void kick(int queueIndex) {
        queueKick.accept(queueIndex);
    }

    // ---- the control queue (5.1.6.5) ----

    private boolean control(VirtQueue queue, DescriptorChain c) throws VirtQueueException {
        boolean completed = false;
        do {
            queue.disableNotification();
            while (queue.pop(c)) {
                int ack = command(c);
                if (c.writableBytes() < 1) {
                    stats.ctrlErrors++;
                    queue.addUsed(c.head(), 0);
                } else {
                    if (ack != VIRTIO_NET_OK) {
                        stats.ctrlErrors++;
                    }
                    c.writeWritableByte(0, (byte) ack);
                    queue.addUsed(c.head(), 1);
                }
                completed = true;
            }
        } while (queue.enableNotification()); // with EVENT_IDX this moves avail_event: the next command kicks
        return completed && queue.needsNotification();
    }

    private int readU8(DescriptorChain c, long off) {
        return c.readReadable(off, ctrlScratch, 0, 1) == 1 ? ctrlScratch.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0) & 0xff : -1;
    }

    private long readLe(DescriptorChain c, long off, int bytes) {
        if (c.readReadable(off, ctrlScratch, 0, bytes) != bytes) {
            return -1;
        }
        long v = 0;
        for (int i = bytes - 1; i >= 0; i--) {
            v = (v << 8) | (ctrlScratch.get(java.lang.foreign.ValueLayout.JAVA_BYTE, i) & 0xff);
        }
        return v;
    }

    private long readMac(DescriptorChain c, long off) {
        if (c.readReadable(off, ctrlScratch, 0, 6) != 6) {
            return -1;
        }
        long v = 0;
        for (int i = 0; i < 6; i++) {
            v = (v << 8) | (ctrlScratch.get(java.lang.foreign.ValueLayout.JAVA_BYTE, i) & 0xff);
        }
        return v;
    }

    /** Runs one control command; returns VIRTIO_NET_OK or VIRTIO_NET_ERR. */
    private int command(DescriptorChain c) {
        long len = c.readableBytes();
        if (len < 2) {
            return VIRTIO_NET_ERR;
        }
        int cls = readU8(c, 0);
        int cmd = readU8(c, 1);
        long f = negotiated;
        switch (cls) {
            case CTRL_RX -> {
                if (!VirtioFeatures.has(f, F_CTRL_RX) || len != 3 || cmd > 5
                        || (cmd > 1 && !VirtioFeatures.has(f, F_CTRL_RX_EXTRA))) {
                    return VIRTIO_NET_ERR;
                }
                setFilter(filter.withRxMode(cmd, readU8(c, 2) != 0));
                return VIRTIO_NET_OK;
            }
            case CTRL_MAC -> {
                if (cmd == CTRL_MAC_ADDR_SET) {
                    long mac = len == 8 ? readMac(c, 2) : -1;
                    if (!VirtioFeatures.has(f, F_CTRL_MAC_ADDR) || mac < 0) {
                        return VIRTIO_NET_ERR;
                    }
                    setFilter(filter.withMac(mac));
                    return VIRTIO_NET_OK;
                }
                if (cmd != CTRL_MAC_TABLE_SET || !VirtioFeatures.has(f, F_CTRL_RX)) {
                    return VIRTIO_NET_ERR;
                }
                return macTables(c, len);
            }
            case CTRL_ANNOUNCE -> {
                if (cmd != 0 || !VirtioFeatures.has(f, F_GUEST_ANNOUNCE)) {
                    return VIRTIO_NET_ERR;
                }
                synchronized (this) {
                    if ((status & S_ANNOUNCE) == 0) {
                        return VIRTIO_NET_ERR;
                    }
                    status &= ~S_ANNOUNCE;
                }
                return VIRTIO_NET_OK;
            }
            case CTRL_MQ -> {
                long n = len == 4 ? readLe(c, 2, 2) : -1;
                if (cmd != 0 || !VirtioFeatures.has(f, F_MQ) || n < 1 || n > pairs) {
                    return VIRTIO_NET_ERR;
                }
                setActivePairs((int) n);
                return VIRTIO_NET_OK;
            }
            case CTRL_GUEST_OFFLOADS -> {
                long offloads = len == 10 ? readLe(c, 2, 8) : -1;
                long allowed = f & (bit(F_GUEST_CSUM) | bit(F_GUEST_TSO4) | bit(F_GUEST_TSO6) | bit(F_GUEST_ECN)
                        | bit(F_GUEST_UFO));
                if (cmd != 0 || !VirtioFeatures.has(f, F_CTRL_GUEST_OFFLOADS) || len != 10
                        || (offloads & ~allowed) != 0) {
                    return VIRTIO_NET_ERR;
                }
                return backend.setOffload(tunOffloads(offloads)) == 0 ? VIRTIO_NET_OK : VIRTIO_NET_ERR;
            }
            default -> {
                return VIRTIO_NET_ERR; // VLAN filtering is not offered
            }
        }
    }

    /** VIRTIO_NET_CTRL_MAC_TABLE_SET: two struct virtio_net_ctrl_mac (le32 entries, then 6 bytes each). */
    private int macTables(DescriptorChain c, long len) {
        long off = 2;
        long uniEntries = readLe(c, off, 4);
        if (uniEntries < 0 || off + 4 + 6 * uniEntries + 4 > len) {
            return VIRTIO_NET_ERR;
        }
        long[] uni = new long[(int) Math.min(uniEntries, RxFilter.TABLE_ENTRIES)];
        for (int i = 0; i < uni.length; i++) {
            uni[i] = readMac(c, off + 4 + 6L * i);
        }
        off += 4 + 6 * uniEntries;
        long multiEntries = readLe(c, off, 4);
        if (multiEntries < 0 || off + 4 + 6 * multiEntries != len) {
            return VIRTIO_NET_ERR;
        }
        long[] multi = new long[(int) Math.min(multiEntries, RxFilter.TABLE_ENTRIES)];
        for (int i = 0; i < multi.length; i++) {
            multi[i] = readMac(c, off + 4 + 6L * i);
        }
        setFilter(filter.withTables(uni, uniEntries > RxFilter.TABLE_ENTRIES, multi,
                multiEntries > RxFilter.TABLE_ENTRIES));
        return VIRTIO_NET_OK;
    }

    private void setFilter(RxFilter next) {
        filter = next;
        if (filterEventArmed) {
            filterEventArmed = false;
            filterChanged.accept(this);
        }
    }

    @Override
    public String name() {
        return "virtio-net";
    }

    /** Closes the backend (the TAP goes away if jkvm created it) and the device's buffers. */
    public void close() {
        backend.close();
        arena.close();
    }
}
