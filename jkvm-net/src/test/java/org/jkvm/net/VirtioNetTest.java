package org.jkvm.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import org.jkvm.memory.MmapGuestMemory;
import org.jkvm.memory.PcMemoryLayout;
import org.jkvm.sys.Tap;
import org.jkvm.virtio.MockDriver;
import org.jkvm.virtio.MockDriver.Buf;
import org.jkvm.virtio.VirtQueue;
import org.jkvm.virtio.VirtQueueException;
import org.jkvm.virtio.VirtioDevice;
import org.jkvm.virtio.VirtioFeatures;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The network device driven by a mock driver over plain memory, against an in-memory backend. */
class VirtioNetTest {
    static final long MAC = 0x5254_0012_3456L;
    static final long BASE_FEATURES = VirtioFeatures.bit(VirtioFeatures.VIRTIO_F_VERSION_1)
            | VirtioFeatures.bit(VirtioFeatures.VIRTIO_F_EVENT_IDX) | VirtioNet.bit(VirtioNet.F_STATUS)
            | VirtioNet.bit(VirtioNet.F_MAC) | VirtioNet.bit(VirtioNet.F_CTRL_VQ) | VirtioNet.bit(VirtioNet.F_CTRL_RX)
            | VirtioNet.bit(VirtioNet.F_CTRL_RX_EXTRA) | VirtioNet.bit(VirtioNet.F_CTRL_MAC_ADDR)
            | VirtioNet.bit(VirtioNet.F_GUEST_ANNOUNCE) | VirtioNet.bit(VirtioNet.F_CSUM)
            | VirtioNet.bit(VirtioNet.F_GUEST_CSUM) | VirtioNet.bit(VirtioNet.F_GUEST_TSO4)
            | VirtioNet.bit(VirtioNet.F_CTRL_GUEST_OFFLOADS);

    MmapGuestMemory memory;
    MemoryBackend backend;
    VirtioNet net;
    MockDriver rxRing;
    MockDriver txRing;
    MockDriver ctrlRing;
    VirtioDevice.QueueHandler rx;
    VirtioDevice.QueueHandler tx;
    VirtioDevice.QueueHandler ctrl;
    List<Integer> kicks = new ArrayList<>();
    int configChanges;
    int filterEvents;

    @BeforeEach
    void setUp() {
        memory = MmapGuestMemory.create(PcMemoryLayout.of(64 * PcMemoryLayout.MIB));
        backend = new MemoryBackend(1, Tap.TUN_F_CSUM | Tap.TUN_F_TSO4 | Tap.TUN_F_TSO6);
        net = new VirtioNet(backend, MAC);
        net.setQueueKick(kicks::add);
        net.setConfigChangeHook(() -> configChanges++);
        net.setFilterChangedListener(n -> filterEvents++);
    }

    @AfterEach
    void tearDown() {
        net.close();
        memory.close();
    }

    void start(long features, int rxSize) throws VirtQueueException {
        rxRing = new MockDriver(memory, rxSize, 0x10_0000, 0x40_0000, true);
        txRing = new MockDriver(memory, 256, 0x50_0000, 0x40_0000, true);
        ctrlRing = new MockDriver(memory, 64, 0x90_0000, 0x10_0000, true);
        VirtQueue rq = rxRing.configure(new VirtQueue(memory, VirtioNet.QUEUE_SIZE), true);
        VirtQueue tq = txRing.configure(new VirtQueue(memory, VirtioNet.QUEUE_SIZE), true);
        VirtQueue cq = ctrlRing.configure(new VirtQueue(memory, VirtioNet.CTRL_QUEUE_SIZE), true);
        rx = net.activate(0, rq, features);
        tx = net.activate(1, tq, features);
        ctrl = net.activate(2, cq, features);
    }

    static byte[] frame(long dst, int len, int seed) {
        byte[] f = new byte[len];
        new Random(seed).nextBytes(f);
        System.arraycopy(MacAddress.bytes(dst), 0, f, 0, 6);
        System.arraycopy(MacAddress.bytes(0x0200_0000_0001L), 0, f, 6, 6);
        return f;
    }

    /** A frame as the TAP gives it: a virtio-net header (flags DATA_VALID, as tun sets it) and the frame. */
    static byte[] fromTap(byte[] frame) {
        byte[] b = new byte[VirtioNet.HDR_BYTES + frame.length];
        b[0] = 2; // VIRTIO_NET_HDR_F_DATA_VALID
        System.arraycopy(frame, 0, b, VirtioNet.HDR_BYTES, frame.length);
        return b;
    }

    byte[] read(long gpa, int len) {
        byte[] b = new byte[len];
        memory.read(gpa, b, 0, len);
        return b;
    }

    // ---- identity and configuration ----

    @Test
    void offersTheNetworkDeviceAndItsConfiguration() {
        assertThat(net.deviceType()).isEqualTo(1);
        assertThat(net.numQueues()).isEqualTo(3);
        assertThat(net.maxQueueSize(0)).isEqualTo(256);
        assertThat(net.maxQueueSize(2)).isEqualTo(64);
        long f = net.deviceFeatures();
        for (int b : new int[] {VirtioNet.F_CSUM, VirtioNet.F_GUEST_CSUM, VirtioNet.F_GUEST_TSO4,
                VirtioNet.F_GUEST_TSO6, VirtioNet.F_HOST_TSO4, VirtioNet.F_MRG_RXBUF, VirtioNet.F_STATUS,
                VirtioNet.F_CTRL_VQ, VirtioNet.F_CTRL_RX, VirtioNet.F_MAC, VirtioNet.F_MTU,
                VirtioNet.F_CTRL_MAC_ADDR, VirtioNet.F_GUEST_ANNOUNCE, VirtioFeatures.VIRTIO_F_VERSION_1}) {
            assertThat(VirtioFeatures.has(f, b)).as("feature " + b).isTrue();
        }
        // the backend cannot do ECN or UFO towards the guest, and there is one queue pair
        assertThat(VirtioFeatures.has(f, VirtioNet.F_GUEST_ECN)).isFalse();
        assertThat(VirtioFeatures.has(f, VirtioNet.F_GUEST_UFO)).isFalse();
        assertThat(VirtioFeatures.has(f, VirtioNet.F_MQ)).isFalse();
        assertThat(VirtioFeatures.has(f, VirtioNet.F_CTRL_VLAN)).isFalse();
        byte[] cfg = new byte[16];
        net.readConfig(0, cfg, 0, 16);
        assertThat(Arrays.copyOf(cfg, 6)).isEqualTo(MacAddress.bytes(MAC));
        assertThat(cfg[6]).isEqualTo((byte) VirtioNet.S_LINK_UP);
        assertThat(cfg[8]).isEqualTo((byte) 1);
        assertThat((cfg[10] & 0xff) | (cfg[11] & 0xff) << 8).isEqualTo(1500);
        assertThat(cfg[12]).isZero();
    }

    @Test
    void multiqueueHasAControlQueueAfterThePairs() throws Exception {
        MemoryBackend two = new MemoryBackend(2, Tap.TUN_F_CSUM);
        VirtioNet mq = new VirtioNet(two, MAC);
        try {
            assertThat(mq.numQueues()).isEqualTo(5);
            assertThat(VirtioFeatures.has(mq.deviceFeatures(), VirtioNet.F_MQ)).isTrue();
            byte[] cfg = new byte[12];
            mq.readConfig(0, cfg, 0, 12);
            assertThat(cfg[8]).isEqualTo((byte) 2);
            MockDriver c = new MockDriver(memory, 64, 0x90_0000, 0x10_0000, true);
            VirtQueue cq = c.configure(new VirtQueue(memory, 64), true);
            long f = BASE_FEATURES | VirtioNet.bit(VirtioNet.F_MQ);
            mq.activate(0, new MockDriver(memory, 256, 0x10_0000, 0x40_0000, true)
                    .configure(new VirtQueue(memory, 256), true), f);
            assertThat(two.enabled).containsExactly(true, false); // after a reset only the first pair
            VirtioDevice.QueueHandler h = mq.activate(4, cq, f);
            assertThat(command(c, h, 4, 0, 2, 0)).isEqualTo(VirtioNet.VIRTIO_NET_OK);
            assertThat(mq.activePairs()).isEqualTo(2);
            assertThat(two.enabled).containsExactly(true, true);
            assertThat(command(c, h, 4, 0, 3, 0)).isEqualTo(VirtioNet.VIRTIO_NET_ERR); // more than offered
        } finally {
            mq.close();
        }
    }

    // ---- transmit ----

    @Test
    void transmitsChainsWhateverTheirFraming() throws Exception {
        start(BASE_FEATURES, 256);
        byte[] f1 = frame(0x0200_0000_0002L, 100, 1);
        byte[] hdr = new byte[12];
        hdr[0] = 1; // NEEDS_CSUM: passed to the TAP as is
        long h = txRing.alloc(12, 8);
        long d = txRing.alloc(100, 8);
        memory.write(h, hdr);
        memory.write(d, f1);
        txRing.add(Buf.in(h, 12), Buf.in(d, 100));
        // header and frame in one buffer, through an indirect table
        byte[] f2 = frame(0x0200_0000_0003L, 60, 2);
        long one = txRing.alloc(72, 8);
        memory.write(one + 12, f2);
        txRing.addIndirect(Buf.in(one, 72));
        txRing.publish();
        assertThat(tx.process()).isTrue();
        assertThat(backend.sent).hasSize(2);
        byte[] expect1 = new byte[112];
        System.arraycopy(hdr, 0, expect1, 0, 12);
        System.arraycopy(f1, 0, expect1, 12, 100);
        assertThat(backend.sent.get(0)).isEqualTo(expect1);
        assertThat(Arrays.copyOfRange(backend.sent.get(1), 12, 72)).isEqualTo(f2);
        assertThat(txRing.popUsed().len()).isZero();
        assertThat(txRing.popUsed()).isNotNull();
        assertThat(net.stats().txPackets()).isEqualTo(2);
        assertThat(net.stats().txBytes()).isEqualTo(160);
    }

    @Test
    void dropsAndCountsShortOversizedAndRefusedFrames() throws Exception {
        start(BASE_FEATURES, 256);
        long small = txRing.alloc(20, 8);
        txRing.add(Buf.in(small, 20)); // shorter than header + Ethernet header
        long big = txRing.alloc(70_000, 8);
        txRing.add(Buf.in(big, 70_000)); // above 64 KiB + headers
        long ok = txRing.alloc(80, 8);
        txRing.add(Buf.in(ok, 80));
        txRing.publish();
        backend.writeErrno = 22; // EINVAL: the kernel refuses the header
        tx.process();
        assertThat(net.stats().txMalformed()).isEqualTo(1);
        assertThat(net.stats().txOversize()).isEqualTo(1);
        assertThat(net.stats().txErrors()).isEqualTo(1);
        assertThat(net.stats().lastTxErrno()).isEqualTo(22);
        for (int i = 0; i < 3; i++) {
            assertThat(txRing.popUsed()).as("every chain comes back").isNotNull();
        }
        backend.writeErrno = 0;
        net.setLink(false);
        txRing.add(Buf.in(ok, 80));
        txRing.publish();
        tx.process();
        assertThat(net.stats().txLinkDown()).isEqualTo(1);
        assertThat(backend.sent).isEmpty();
    }

    @Test
    void transmitYieldsAfterABatchAndReschedulesItself() throws Exception {
        start(BASE_FEATURES, 256);
        long buf = txRing.alloc(64, 8);
        for (int i = 0; i < 256; i++) {
            txRing.add(Buf.in(buf, 64));
        }
        txRing.publish();
        tx.process();
        assertThat(backend.sent).hasSize(256);
        assertThat(kicks).containsExactly(1); // a full batch: the queue's event is signalled to come back
    }

    // ---- receive ----

    @Test
    void receivesIntoOneChainWithoutMergeableBuffers() throws Exception {
        start(BASE_FEATURES & ~VirtioNet.bit(VirtioNet.F_GUEST_CSUM) & ~VirtioNet.bit(VirtioNet.F_GUEST_TSO4), 256);
        long hdr = rxRing.alloc(12, 8);
        long data = rxRing.alloc(1514, 8);
        rxRing.add(Buf.out(hdr, 12), Buf.out(data, 1514));
        rxRing.publish();
        byte[] f = frame(MAC, 1000, 3);
        backend.inbound.add(fromTap(f));
        assertThat(rx.process()).isTrue();
        MockDriver.Used u = rxRing.popUsed();
        assertThat(u.len()).isEqualTo(1012);
        byte[] h = read(hdr, 12);
        assertThat(h[0]).as("flags cleared without GUEST_CSUM").isZero();
        assertThat(h[10]).as("num_buffers").isEqualTo((byte) 1);
        assertThat(read(data, 1000)).isEqualTo(f);
        assertThat(net.stats().rxPackets()).isEqualTo(1);
        assertThat(net.stats().rxBytes()).isEqualTo(1000);
    }

    @Test
    void waitsForBuffersWithoutDroppingOrReadingAhead() throws Exception {
        start(BASE_FEATURES, 256);
        byte[] f1 = frame(MAC, 200, 4);
        byte[] f2 = frame(MAC, 300, 5);
        backend.inbound.add(fromTap(f1));
        backend.inbound.add(fromTap(f2));
        assertThat(rx.process()).isFalse();
        assertThat(net.stats().rxNoBuffers()).isEqualTo(1);
        assertThat(backend.inbound).hasSize(1); // one frame waits in the device, the other in the TAP
        rx.process(); // a second wake-up (the TAP's edge) counts no second wait
        assertThat(net.stats().rxNoBuffers()).isEqualTo(1);
        long b1 = rxRing.alloc(1526, 8);
        long b2 = rxRing.alloc(1526, 8);
        rxRing.add(Buf.out(b1, 1526));
        rxRing.add(Buf.out(b2, 1526));
        assertThat(rxRing.publish()).as("the device asked for a kick").isTrue();
        assertThat(rx.process()).isTrue();
        assertThat(read(b1 + 12, 200)).isEqualTo(f1);
        assertThat(read(b2 + 12, 300)).isEqualTo(f2);
        assertThat(read(b1, 1)[0]).as("DATA_VALID kept with GUEST_CSUM").isEqualTo((byte) 2);
        assertThat(net.stats().rxPackets()).isEqualTo(2);
    }

    @Test
    void dropsAFrameLargerThanTheChainAndKeepsTheChain() throws Exception {
        start(BASE_FEATURES, 256);
        long b = rxRing.alloc(112, 8);
        rxRing.add(Buf.out(b, 112));
        rxRing.publish();
        backend.inbound.add(fromTap(frame(MAC, 1000, 6)));
        byte[] small = frame(MAC, 64, 7);
        backend.inbound.add(fromTap(small));
        assertThat(rx.process()).isTrue();
        assertThat(net.stats().rxOversize()).isEqualTo(1);
        MockDriver.Used u = rxRing.popUsed();
        assertThat(u.len()).isEqualTo(76);
        assertThat(read(b + 12, 64)).isEqualTo(small);
        assertThat(rxRing.popUsed()).isNull();
    }

    @Test
    void spreadsAFrameOverMergeableBuffers() throws Exception {
        start(BASE_FEATURES | VirtioNet.bit(VirtioNet.F_MRG_RXBUF), 256);
        long[] bufs = new long[6];
        for (int i = 0; i < bufs.length; i++) {
            bufs[i] = rxRing.alloc(256, 8);
            rxRing.add(Buf.out(bufs[i], 256));
        }
        rxRing.publish();
        byte[] f = frame(MAC, 1000, 8);
        backend.inbound.add(fromTap(f));
        assertThat(rx.process()).isTrue();
        int[] lens = new int[4];
        for (int i = 0; i < 4; i++) {
            lens[i] = rxRing.popUsed().len();
        }
        assertThat(lens).containsExactly(256, 256, 256, 244);
        assertThat(rxRing.popUsed()).isNull();
        assertThat(read(bufs[0] + 10, 2)).containsExactly(4, 0); // num_buffers
        byte[] got = new byte[1012];
        for (int i = 0; i < 4; i++) {
            memory.read(bufs[i], got, 256 * i, lens[i]);
        }
        assertThat(Arrays.copyOfRange(got, 12, 1012)).isEqualTo(f);
    }

    @Test
    void mergeableFrameWaitsUntilEnoughBuffersThenAppearsAtOnce() throws Exception {
        start(BASE_FEATURES | VirtioNet.bit(VirtioNet.F_MRG_RXBUF), 256);
        long a = rxRing.alloc(256, 8);
        long b = rxRing.alloc(256, 8);
        rxRing.add(Buf.out(a, 256));
        rxRing.add(Buf.out(b, 256));
        rxRing.publish();
        byte[] f = frame(MAC, 1000, 9);
        backend.inbound.add(fromTap(f));
        assertThat(rx.process()).isFalse();
        assertThat(rxRing.usedIdx()).as("nothing published while the frame is incomplete").isZero();
        assertThat(net.stats().rxNoBuffers()).isEqualTo(1);
        long c = rxRing.alloc(256, 8);
        long d = rxRing.alloc(256, 8);
        rxRing.add(Buf.out(c, 256));
        rxRing.add(Buf.out(d, 256));
        rxRing.publish();
        assertThat(rx.process()).isTrue();
        assertThat(rxRing.usedIdx()).isEqualTo(4);
        assertThat(read(a + 10, 2)).containsExactly(4, 0);
        assertThat(read(d, 244 - 12 + 12)).isEqualTo(Arrays.copyOfRange(f, 256 * 3 - 12, 1000));
    }

    @Test
    void mergeableFrameLargerThanTheWholeRingReturnsEveryBufferEmpty() throws Exception {
        start(BASE_FEATURES | VirtioNet.bit(VirtioNet.F_MRG_RXBUF), 4);
        for (int i = 0; i < 4; i++) {
            rxRing.add(Buf.out(rxRing.alloc(64, 8), 64));
        }
        rxRing.publish();
        backend.inbound.add(fromTap(frame(MAC, 1000, 10)));
        byte[] next = frame(MAC, 40, 11);
        backend.inbound.add(fromTap(next));
        rx.process();
        assertThat(net.stats().rxOversize()).isEqualTo(1);
        for (int i = 0; i < 4; i++) {
            assertThat(rxRing.popUsed().len()).isZero();
        }
        // the next frame waits for buffers, then arrives
        long b = rxRing.alloc(64, 8);
        rxRing.add(Buf.out(b, 64));
        rxRing.publish();
        rx.process();
        assertThat(rxRing.popUsed().len()).isEqualTo(52);
        assertThat(read(b + 12, 40)).isEqualTo(next);
    }

    @Test
    void countsShortFramesFromTheBackendAndUselessBuffers() throws Exception {
        start(BASE_FEATURES | VirtioNet.bit(VirtioNet.F_MRG_RXBUF), 256);
        long tiny = rxRing.alloc(8, 8);
        rxRing.add(Buf.out(tiny, 8)); // cannot hold the header
        long b = rxRing.alloc(256, 8);
        rxRing.add(Buf.out(b, 256));
        rxRing.publish();
        backend.inbound.add(new byte[20]); // not even a header and an Ethernet header
        backend.inbound.add(fromTap(frame(MAC, 60, 12)));
        rx.process();
        assertThat(net.stats().rxMalformed()).isEqualTo(2);
        assertThat(rxRing.popUsed().len()).isZero();
        assertThat(rxRing.popUsed().len()).isEqualTo(72);
    }

    @Test
    void aBufferOutsideRamIsAQueueError() throws Exception {
        start(BASE_FEATURES, 256);
        rxRing.add(Buf.out(memory.sizeBytes() - 16, 4096));
        rxRing.publish();
        backend.inbound.add(fromTap(frame(MAC, 60, 13)));
        assertThatThrownBy(() -> rx.process()).isInstanceOf(VirtQueueException.class)
                .hasMessageContaining("not inside guest RAM");
    }

    @Test
    void linkDownDropsReceivedFramesAndTellsTheGuest() throws Exception {
        start(BASE_FEATURES, 256);
        net.setLink(false);
        assertThat(configChanges).isEqualTo(1);
        byte[] cfg = new byte[8];
        net.readConfig(0, cfg, 0, 8);
        assertThat(cfg[6] & VirtioNet.S_LINK_UP).isZero();
        net.setLink(false);
        assertThat(configChanges).as("no change, no interrupt").isEqualTo(1);
        rxRing.add(Buf.out(rxRing.alloc(1526, 8), 1526));
        rxRing.publish();
        backend.inbound.add(fromTap(frame(MAC, 60, 14)));
        rx.process();
        assertThat(net.stats().rxLinkDown()).isEqualTo(1);
        assertThat(rxRing.popUsed()).isNull();
        net.setLink(true);
        assertThat(configChanges).isEqualTo(2);
        backend.inbound.add(fromTap(frame(MAC, 60, 15)));
        rx.process();
        assertThat(rxRing.popUsed()).isNotNull();
    }

    // ---- the control queue and the receive filter ----

    /** Sends one control command; returns the ack byte. */
    int command(MockDriver ring, VirtioDevice.QueueHandler handler, int cls, int cmd, int... data)
            throws VirtQueueException {
        byte[] b = new byte[2 + data.length];
        b[0] = (byte) cls;
        b[1] = (byte) cmd;
        for (int i = 0; i < data.length; i++) {
            b[2 + i] = (byte) data[i];
        }
        long out = ring.alloc(b.length, 8);
        memory.write(out, b);
        long ack = ring.alloc(1, 1);
        memory.writeByte(ack, (byte) 0x55);
        ring.add(Buf.in(out, b.length), Buf.out(ack, 1));
        assertThat(ring.publish()).as("the device asks for a kick for every command").isTrue();
        handler.process();
        MockDriver.Used u = ring.popUsed();
        assertThat(u.len()).isEqualTo(1);
        return memory.readByte(ack);
    }

    static int[] macTable(long... macs) {
        int[] t = new int[4 + 6 * macs.length];
        t[0] = macs.length;
        for (int i = 0; i < macs.length; i++) {
            byte[] m = MacAddress.bytes(macs[i]);
            for (int j = 0; j < 6; j++) {
                t[4 + 6 * i + j] = m[j] & 0xff;
            }
        }
        return t;
    }

    static int[] concat(int[] a, int[] b) {
        int[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    @Test
    void filtersAsTheDriverProgramsIt() throws Exception {
        start(BASE_FEATURES, 256);
        RxFilter f = net.filter();
        assertThat(f.promisc()).as("promiscuous after reset, as QEMU").isTrue();
        long mcast = 0x0100_5e00_0001L;
        long other = 0x0200_0000_0099L;
        long extraUni = 0x0200_0000_0042L;
        assertThat(command(ctrlRing, ctrl, VirtioNet.CTRL_RX, 0, 0)).isZero(); // promisc off
        assertThat(filterEvents).isEqualTo(1);
        assertThat(command(ctrlRing, ctrl, VirtioNet.CTRL_MAC, VirtioNet.CTRL_MAC_TABLE_SET,
                concat(macTable(extraUni), macTable(mcast)))).isZero();
        assertThat(filterEvents).as("one event until the monitor asks again").isEqualTo(1);
        f = net.filter();
        assertThat(f.promisc()).isFalse();
        assertThat(f.unicast()).containsExactly(extraUni);
        assertThat(f.multicast()).containsExactly(mcast);
        assertThat(f.accepts(MAC)).isTrue();
        assertThat(f.accepts(extraUni)).isTrue();
        assertThat(f.accepts(other)).isFalse();
        assertThat(f.accepts(MacAddress.BROADCAST)).isTrue();
        assertThat(f.accepts(mcast)).isTrue();
        assertThat(f.accepts(0x0100_5e00_0002L)).isFalse();

        // frames through the device: one to another host is filtered, counted
        for (int i = 0; i < 3; i++) {
            rxRing.add(Buf.out(rxRing.alloc(1526, 8), 1526));
        }
        rxRing.publish();
        backend.inbound.add(fromTap(frame(other, 60, 16)));
        backend.inbound.add(fromTap(frame(MacAddress.BROADCAST, 60, 17)));
        rx.process();
        assertThat(net.stats().rxFiltered()).isEqualTo(1);
        assertThat(net.stats().rxPackets()).isEqualTo(1);

        net.rearmFilterEvent();
        assertThat(command(ctrlRing, ctrl, VirtioNet.CTRL_RX, 1, 1)).isZero(); // allmulti
        assertThat(filterEvents).isEqualTo(2);
        assertThat(net.filter().accepts(0x0100_5e00_0002L)).isTrue();
        assertThat(command(ctrlRing, ctrl, VirtioNet.CTRL_RX, 5, 1)).isZero(); // nobcast
        assertThat(net.filter().accepts(MacAddress.BROADCAST)).isFalse();
        // the MAC address itself
        assertThat(command(ctrlRing, ctrl, VirtioNet.CTRL_MAC, VirtioNet.CTRL_MAC_ADDR_SET,
                2, 0, 0, 0, 0, 7)).isZero();
        byte[] cfg = new byte[6];
        net.readConfig(0, cfg, 0, 6);
        assertThat(cfg).containsExactly(2, 0, 0, 0, 0, 7);
        assertThat(net.filter().accepts(0x0200_0000_0007L)).isTrue();
        assertThat(net.filter().accepts(MAC)).isFalse();
    }

    @Test
    void macTableOverflowAndMalformedCommandsAreHandled() throws Exception {
        start(BASE_FEATURES, 256);
        long[] many = new long[70];
        for (int i = 0; i < many.length; i++) {
            many[i] = 0x0100_5e00_0100L + i;
        }
        assertThat(command(ctrlRing, ctrl, VirtioNet.CTRL_MAC, 0, concat(macTable(), macTable(many)))).isZero();
        assertThat(net.filter().multicastOverflow()).isTrue();
        assertThat(net.filter().multicast()).hasSize(64);
        // an entry count beyond the data, a wrong length, unknown classes, VLAN: VIRTIO_NET_ERR
        assertThat(command(ctrlRing, ctrl, VirtioNet.CTRL_MAC, 0, 200, 0, 0, 0)).isEqualTo(1);
        assertThat(command(ctrlRing, ctrl, VirtioNet.CTRL_RX, 0, 1, 1)).isEqualTo(1);
        assertThat(command(ctrlRing, ctrl, 77, 0)).isEqualTo(1);
        assertThat(command(ctrlRing, ctrl, VirtioNet.CTRL_VLAN, 0, 1, 0)).isEqualTo(1);
        assertThat(command(ctrlRing, ctrl, VirtioNet.CTRL_MQ, 0, 1, 0)).as("MQ not negotiated").isEqualTo(1);
        assertThat(net.stats().ctrlErrors()).isEqualTo(5);
        // a command without room for the answer is returned and counted
        long out = ctrlRing.alloc(3, 8);
        ctrlRing.add(Buf.in(out, 3));
        ctrlRing.publish();
        ctrl.process();
        assertThat(ctrlRing.popUsed().len()).isZero();
        assertThat(net.stats().ctrlErrors()).isEqualTo(6);
    }

    @Test
    void guestOffloadsReachTheTap() throws Exception {
        start(BASE_FEATURES, 256);
        assertThat(backend.offload).as("at DRIVER_OK: what was negotiated")
                .isEqualTo(Tap.TUN_F_CSUM | Tap.TUN_F_TSO4);
        assertThat(command(ctrlRing, ctrl, VirtioNet.CTRL_GUEST_OFFLOADS, 0, 2, 0, 0, 0, 0, 0, 0, 0)).isZero();
        assertThat(backend.offload).isEqualTo(Tap.TUN_F_CSUM);
        assertThat(command(ctrlRing, ctrl, VirtioNet.CTRL_GUEST_OFFLOADS, 0, 0, 0, 0, 0, 0, 0, 0, 0)).isZero();
        assertThat(backend.offload).isZero();
        // TSO6 was not negotiated
        assertThat(command(ctrlRing, ctrl, VirtioNet.CTRL_GUEST_OFFLOADS, 0, 0, 1, 0, 0, 0, 0, 0, 0))
                .isEqualTo(1);
    }

    @Test
    void announceSetsTheStatusUntilTheDriverAcknowledges() throws Exception {
        start(BASE_FEATURES, 256);
        assertThat(command(ctrlRing, ctrl, VirtioNet.CTRL_ANNOUNCE, 0)).as("nothing to acknowledge").isEqualTo(1);
        assertThat(net.announce()).isTrue();
        assertThat(configChanges).isEqualTo(1);
        byte[] cfg = new byte[8];
        net.readConfig(0, cfg, 0, 8);
        assertThat(cfg[6]).isEqualTo((byte) (VirtioNet.S_LINK_UP | VirtioNet.S_ANNOUNCE));
        assertThat(command(ctrlRing, ctrl, VirtioNet.CTRL_ANNOUNCE, 0)).isZero();
        net.readConfig(0, cfg, 0, 8);
        assertThat(cfg[6]).isEqualTo((byte) VirtioNet.S_LINK_UP);
    }

    @Test
    void aResetForgetsTheFilterAndTheMacTheDriverSet() throws Exception {
        start(BASE_FEATURES, 256);
        command(ctrlRing, ctrl, VirtioNet.CTRL_RX, 0, 0);
        command(ctrlRing, ctrl, VirtioNet.CTRL_MAC, VirtioNet.CTRL_MAC_ADDR_SET, 2, 0, 0, 0, 0, 8);
        start(BASE_FEATURES, 256); // DRIVER_OK again after a reset
        assertThat(net.filter().promisc()).isTrue();
        assertThat(net.filter().mac()).isEqualTo(MAC);
    }

    @Test
    void configParsing() {
        NetConfig c = NetConfig.parse("tap,ifname=jt0,mac=52:54:00:AA:bb:01,queues=2,id=nic0,vhost=off");
        assertThat(c.ifname()).isEqualTo("jt0");
        assertThat(MacAddress.format(c.macOr(0))).isEqualTo("52:54:00:aa:bb:01");
        assertThat(c.queues()).isEqualTo(2);
        assertThat(c.id()).contains("nic0");
        assertThat(c.vhost()).isFalse();
        assertThat(NetConfig.parse("tap").macOr(1)).isEqualTo(0x5254_0012_3457L);
        assertThat(NetConfig.parse("tap,vhost=on").vhost()).isTrue();
        assertThatThrownBy(() -> NetConfig.parse("user")).hasMessageContaining("only tap");
        assertThatThrownBy(() -> NetConfig.parse("tap,mac=01:00:00:00:00:01")).hasMessageContaining("multicast");
        assertThatThrownBy(() -> NetConfig.parse("tap,mac=zz:00:00:00:00:01")).hasMessageContaining("bad octet");
        assertThatThrownBy(() -> NetConfig.parse("tap,queues=0")).hasMessageContaining("queues must be 1 to 16");
        assertThatThrownBy(() -> NetConfig.parse("tap,queues=x")).hasMessageContaining("not a number");
        assertThatThrownBy(() -> NetConfig.parse("tap,ifname=a-very-long-name-x")).hasMessageContaining("1 to 15");
        assertThatThrownBy(() -> NetConfig.parse("tap,speed=10")).hasMessageContaining("unknown option 'speed'");
        assertThatThrownBy(() -> NetConfig.parse("tap,id=1x")).hasMessageContaining("id '1x'");
        assertThatThrownBy(() -> NetConfig.parse("tap,id=a,id=b")).hasMessageContaining("given twice");
    }
}
