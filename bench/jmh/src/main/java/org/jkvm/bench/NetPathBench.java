package org.jkvm.bench;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import org.jkvm.memory.MmapGuestMemory;
import org.jkvm.memory.PcMemoryLayout;
import org.jkvm.net.TapBackend;
import org.jkvm.net.VirtioNet;
import org.jkvm.sys.Errno;
import org.jkvm.sys.Libc;
import org.jkvm.sys.Tap;
import org.jkvm.virtio.MockDriver;
import org.jkvm.virtio.VirtQueue;
import org.jkvm.virtio.VirtQueueException;
import org.jkvm.virtio.VirtioDevice;
import org.jkvm.virtio.VirtioFeatures;
import org.jkvm.virtio.Virtq;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The virtio-net data path without a guest, over real TAP devices, beside the same system calls made directly on the
 * TAP descriptors. The guest side is a mock driver writing the rings into guest memory, as in {@link BlockReadBench};
 * the device is jkvm-net's {@link VirtioNet} on a {@link TapBackend}, driven through its queue handlers (what the I/O
 * thread runs). Needs root: the benchmark makes a network namespace of its own ({@code ip netns add}) and creates
 * every TAP inside it from a thread that entered it with setns(2); the namespace is deleted at tear-down.
 *
 * <ul>
 * <li><b>transmit</b> (guest to host): {@value #BATCH} chains made available at once, one descriptor each
 * (virtio-net header and frame together, as Linux's driver lays out a linear packet), sent by one
 * {@code process()} call of the transmit queue: one writev(2) per frame to TAP {@code ntx0}, whose frames the
 * namespace's stack drops (an EtherType no protocol handles, to a MAC address not its own). Baseline: the same
 * {@value #BATCH} frames from the same guest memory, one writev(2) each on the TAP's descriptor.</li>
 * <li><b>receive</b> (host to guest): a frame written into a TAP reaches the host stack, never the same descriptor,
 * so frames come in through a Linux bridge: the benchmark writes {@value #BATCH} frames into TAP {@code ninj0}, the
 * bridge floods them (the destination is unknown to it) out of TAP {@code nrx0}, the device's TAP, whose
 * descriptor the receive queue reads (the forwarding happens inside the write call: tun hands the frame to the
 * stack synchronously). The guest has 256 receive buffers of 2 KiB posted (mergeable receive buffers negotiated,
 * as Linux does); after the batch the used ones are posted again. Baseline: the same injection, then read(2) of
 * each frame from {@code nrx0}'s descriptor into one buffer. Both sides pay the injection (a TAP write plus the
 * bridge), so the ratio understates the device's own share of the receive cost.</li>
 * </ul>
 * Frame sizes are Ethernet frames without the FCS: 64 bytes (minimum) and 1514 (a full 1500-byte MTU), each behind
 * the 12-byte virtio-net header. IPv6 and multicast are turned off in the namespace's devices so that no neighbour
 * discovery, MLD or IGMP frame mixes in; a frame that goes missing or a foreign one fails the run at tear-down.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class NetPathBench {
    static final int BATCH = 64;
    static final int QUEUE = VirtioNet.QUEUE_SIZE;
    static final int RX_BUFFER = 2048;
    static final int HDR = VirtioNet.HDR_BYTES;
    static final long GUEST_MAC = 0x5254_0012_3456L;
    static final long PEER_MAC = 0x0200_0000_0002L;
    static final long FEATURES = VirtioFeatures.bit(VirtioFeatures.VIRTIO_F_VERSION_1)
            | VirtioFeatures.bit(VirtioFeatures.VIRTIO_F_EVENT_IDX) | bit(VirtioNet.F_MAC) | bit(VirtioNet.F_STATUS)
            | bit(VirtioNet.F_MRG_RXBUF);

    /** Ethernet frame bytes (without the virtio-net header and the FCS). */
    @Param({"64", "1514"})
    public int frameBytes;

    final String ns = "jkvm-netbench-" + ProcessHandle.current().pid();
    ExecutorService inNs;
    MmapGuestMemory memory;
    Arena arena;

    // transmit: a device on ntx0
    TapBackend txTap;
    VirtioNet txNet;
    MockDriver txRing;
    VirtioDevice.QueueHandler tx;
    MemorySegment[] txIov = new MemorySegment[BATCH];
    int txAvail;

    // receive: frames injected into ninj0, flooded by the bridge out of nrx0, read by a device on nrx0
    Tap inject;
    TapBackend rxTap;
    VirtioNet rxNet;
    MockDriver rxRing;
    VirtioDevice.QueueHandler rx;
    int rxAvail;
    MemorySegment injectFrame;
    MemorySegment rawRxBuffer;
    long injected;
    long received;
    long strangers;

    static long bit(int b) {
        return 1L << b;
    }

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        ip("netns", "add", ns);
        inNs = Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().name("in-" + ns).unstarted(r));
        inNamespace(() -> {
            int nsFd = Libc.open("/run/netns/" + ns, Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
            try {
                Libc.setns(nsFd, Libc.CLONE_NEWNET);
            } finally {
                Libc.close(nsFd);
            }
            // /proc/sys/net is the opening thread's namespace: no IPv6 chatter on the devices made next
            for (String conf : new String[] {"default", "all"}) {
                Path p = Path.of("/proc/sys/net/ipv6/conf/" + conf + "/disable_ipv6");
                if (Files.exists(p)) {
                    Files.writeString(p, "1");
                }
            }
            return null;
        });
        ip("-n", ns, "link", "add", "nbr0", "type", "bridge", "forward_delay", "0");
        txTap = inNamespace(() -> TapBackend.open("ntx0", 1));
        inject = inNamespace(() -> Tap.open("ninj0", false));
        rxTap = inNamespace(() -> TapBackend.open("nrx0", 1));
        ip("-n", ns, "link", "set", "ninj0", "master", "nbr0");
        ip("-n", ns, "link", "set", "nrx0", "master", "nbr0");
        // no IGMP reports or snooping queries either: only the benchmark's frames leave nrx0
        ip("-n", ns, "link", "set", "nbr0", "type", "bridge", "mcast_snooping", "0");
        for (String dev : new String[] {"nbr0", "ntx0", "ninj0", "nrx0"}) {
            ip("-n", ns, "link", "set", dev, "multicast", "off", "up");
        }
        waitForwarding("ninj0");
        waitForwarding("nrx0");

        memory = MmapGuestMemory.create(PcMemoryLayout.of(64 * PcMemoryLayout.MIB));
        arena = Arena.ofShared();
        byte[] frame = frame(frameBytes);

        // transmit: chain i is descriptor i, one buffer with the header and the frame
        txNet = new VirtioNet(txTap, GUEST_MAC);
        MockDriver unusedRx = new MockDriver(memory, QUEUE, 0x10_0000, 0x10_0000, true);
        txNet.activate(0, unusedRx.configure(new VirtQueue(memory, QUEUE), true), FEATURES);
        txRing = new MockDriver(memory, QUEUE, 0x20_0000, 0x80_0000, true);
        tx = txNet.activate(1, txRing.configure(new VirtQueue(memory, QUEUE), true), FEATURES);
        byte[] packet = new byte[HDR + frameBytes];
        System.arraycopy(frame, 0, packet, HDR, frameBytes);
        for (int i = 0; i < BATCH; i++) {
            long gpa = txRing.alloc(packet.length, 64);
            memory.write(gpa, packet);
            txRing.writeDesc(i, gpa, packet.length, 0, 0);
            txIov[i] = arena.allocate(Libc.IOVEC_SIZE, 8);
            txIov[i].set(ValueLayout.JAVA_LONG, 0, memory.slice(gpa, packet.length).address());
            txIov[i].set(ValueLayout.JAVA_LONG, 8, packet.length);
        }

        // receive: every descriptor a 2 KiB device-writable buffer, all of them posted (avail entry k holds k mod 256)
        rxNet = new VirtioNet(rxTap, GUEST_MAC);
        rxRing = new MockDriver(memory, QUEUE, 0x100_0000, 0x100_0000, true);
        rx = rxNet.activate(0, rxRing.configure(new VirtQueue(memory, QUEUE), true), FEATURES);
        for (int i = 0; i < QUEUE; i++) {
            rxRing.writeDesc(i, rxRing.alloc(RX_BUFFER, 64), RX_BUFFER, Virtq.DESC_F_WRITE, 0);
            rxRing.writeAvailRing(i, i);
        }
        rxAvail = QUEUE;
        rxRing.writeAvailIdx(rxAvail);
        injectFrame = arena.allocate(HDR + frameBytes, 64);
        MemorySegment.copy(frame, 0, injectFrame, ValueLayout.JAVA_BYTE, HDR, frameBytes);
        rawRxBuffer = arena.allocate(HDR + VirtioNet.MAX_FRAME, 64);
        // the device's TAP starts empty
        while (rxTap.read(0, rawRxBuffer, rawRxBuffer.byteSize()) >= 0) {
            // drain
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        try {
            var t = txNet.stats();
            var r = rxNet.stats();
            strangers += r.rxBytes() - r.rxPackets() * frameBytes != 0 ? 1 : 0;
            if (received != injected || strangers != 0 || t.txErrors() != 0 || r.rxOversize() != 0
                    || r.rxErrors() != 0 || r.rxNoBuffers() != 0) {
                throw new IllegalStateException("receive: " + injected + " frames injected, " + received
                        + " received, " + strangers + " not the benchmark's; tx device " + t + "; rx device " + r);
            }
        } finally {
            txNet.close();
            rxNet.close();
            inject.close();
            memory.close();
            arena.close();
            inNs.shutdownNow();
            ip("netns", "del", ns);
        }
    }

    // ---- transmit ----

    /** {@value #BATCH} chains made available at once and sent to the TAP by one process() call. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int txVirtioNet() throws VirtQueueException {
        for (int i = 0; i < BATCH; i++) {
            txRing.writeAvailRing((txAvail + i) & (QUEUE - 1), i);
        }
        txAvail = (txAvail + BATCH) & 0xffff;
        txRing.writeAvailIdx(txAvail);
        tx.process();
        return txRing.usedIdx();
    }

    /** The same frames from the same guest memory, one writev(2) each on the TAP's descriptor. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long txRawTap() {
        long sum = 0;
        for (int i = 0; i < BATCH; i++) {
            sum += txTap.writev(0, txIov[i], 1);
        }
        if (sum != (long) BATCH * (HDR + frameBytes)) {
            throw new IllegalStateException("TAP write failed: " + sum);
        }
        return sum;
    }

    // ---- receive ----

    private void injectBatch() {
        for (int i = 0; i < BATCH; i++) {
            long r = inject.write(injectFrame, injectFrame.byteSize());
            if (r != injectFrame.byteSize()) {
                throw new IllegalStateException("injecting into ninj0: " + (r < 0 ? Errno.name((int) -r) : r));
            }
        }
        injected += BATCH;
    }

    /**
     * {@value #BATCH} frames injected, then the receive queue run until it has placed them in the guest's buffers
     * (one call unless the kernel was slower), then as many buffers posted again.
     */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int rxVirtioNet() throws VirtQueueException {
        injectBatch();
        int before = rxRing.usedIdx();
        int got = 0;
        for (int tries = 0; got < BATCH && tries < 1000; tries++) {
            rx.process();
            got = (rxRing.usedIdx() - before) & 0xffff;
        }
        received += got;
        for (int i = 0; i < got; i++) {
            rxRing.writeAvailRing((rxAvail + i) & (QUEUE - 1), (rxAvail + i) & (QUEUE - 1));
        }
        rxAvail = (rxAvail + got) & 0xffff;
        rxRing.writeAvailIdx(rxAvail);
        return got;
    }

    /** The same injection, then read(2) of each frame from the device TAP's descriptor into one buffer. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long rxRawTap() {
        injectBatch();
        long sum = 0;
        int got = 0;
        for (int tries = 0; got < BATCH && tries < 1000 + BATCH; tries++) {
            long n = rxTap.read(0, rawRxBuffer, rawRxBuffer.byteSize());
            if (n >= 0) {
                if (n != HDR + frameBytes) {
                    strangers++;
                }
                sum += n;
                got++;
            }
        }
        received += got;
        return sum;
    }

    // ---- set-up helpers ----

    /** An Ethernet frame of {@code len} bytes to {@code GUEST_MAC} from {@code PEER_MAC}, EtherType 0x88B5. */
    static byte[] frame(int len) {
        byte[] f = new byte[len];
        for (int i = 0; i < 6; i++) {
            f[i] = (byte) (GUEST_MAC >>> (40 - 8 * i));
            f[6 + i] = (byte) (PEER_MAC >>> (40 - 8 * i));
        }
        f[12] = (byte) 0x88; // IEEE 802 local experimental EtherType: no protocol takes it
        f[13] = (byte) 0xb5;
        for (int i = 14; i < len; i++) {
            f[i] = (byte) i;
        }
        return f;
    }

    <T> T inNamespace(Callable<T> c) throws Exception {
        return inNs.submit(c).get(30, TimeUnit.SECONDS);
    }

    /** Waits until bridge port {@code dev} forwards (forward_delay 0 makes that immediate once it is up). */
    void waitForwarding(String dev) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!ip("-n", ns, "-d", "link", "show", dev).contains("state forwarding")) {
            if (System.nanoTime() > end) {
                throw new IllegalStateException("bridge port " + dev + " does not forward");
            }
            Thread.sleep(20);
        }
    }

    static String ip(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("ip"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + ": " + out.strip());
        }
        return out;
    }
}
