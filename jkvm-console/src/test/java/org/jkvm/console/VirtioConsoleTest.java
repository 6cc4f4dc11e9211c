package org.jkvm.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.jkvm.memory.MmapGuestMemory;
import org.jkvm.memory.PcMemoryLayout;
import org.jkvm.virtio.MockDriver;
import org.jkvm.virtio.MockDriver.Buf;
import org.jkvm.virtio.VirtQueue;
import org.jkvm.virtio.VirtQueueException;
import org.jkvm.virtio.VirtioDevice;
import org.jkvm.virtio.VirtioFeatures;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The console device with a mock driver over plain memory, to a file, a socket and a scripted backend. */
class VirtioConsoleTest {
    @TempDir
    Path dir;
    MmapGuestMemory memory;
    MockDriver rxRing;
    MockDriver txRing;
    VirtioDevice.QueueHandler rx;
    VirtioDevice.QueueHandler tx;
    VirtioConsole device;

    /** Input handed out as asked; output collected. */
    static final class Scripted implements ConsoleBackend {
        final StringBuilder out = new StringBuilder();
        ByteBuffer in = ByteBuffer.allocate(0);

        @Override
        public void write(ByteBuffer data) {
            byte[] b = new byte[data.remaining()];
            data.get(b);
            out.append(new String(b, StandardCharsets.US_ASCII));
        }

        @Override
        public int read(ByteBuffer dst) {
            int k = Math.min(in.remaining(), dst.remaining());
            for (int i = 0; i < k; i++) {
                dst.put(in.get());
            }
            return k;
        }

        @Override
        public long dropped() {
            return 0;
        }

        @Override
        public void close() {
        }
    }

    @BeforeEach
    void setUp() {
        memory = MmapGuestMemory.create(PcMemoryLayout.of(64 * PcMemoryLayout.MIB));
    }

    @AfterEach
    void tearDown() {
        if (device != null) {
            device.backend().close();
        }
        memory.close();
    }

    private void attach(ConsoleBackend backend) throws VirtQueueException {
        attach(backend, 0, 0);
    }

    private void attach(ConsoleBackend backend, int cols, int rows) throws VirtQueueException {
        device = new VirtioConsole(backend, cols, rows);
        rxRing = new MockDriver(memory, 16, 0x100000, 4 * PcMemoryLayout.MIB, false);
        txRing = new MockDriver(memory, 16, 0x500000, 4 * PcMemoryLayout.MIB, false);
        rx = device.activate(VirtioConsole.RX, rxRing.configure(new VirtQueue(memory, VirtioConsole.QUEUE_SIZE), true),
                device.deviceFeatures());
        tx = device.activate(VirtioConsole.TX, txRing.configure(new VirtQueue(memory, VirtioConsole.QUEUE_SIZE), true),
                device.deviceFeatures());
    }

    private long text(MockDriver ring, String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        long gpa = ring.alloc(b.length, 1);
        memory.write(gpa, b);
        return gpa;
    }

    private long buffer(MockDriver ring, int len) {
        long gpa = ring.alloc(len, 1);
        memory.fill(gpa, len, (byte) '.');
        return gpa;
    }

    private String read(long gpa, int len) {
        byte[] b = new byte[len];
        memory.read(gpa, b, 0, len);
        return new String(b, StandardCharsets.US_ASCII);
    }

    /** Input read from the host but not yet given to the guest survives a snapshot into a new device. */
    @Test
    void pendingInputIsDeviceState() throws Exception {
        Scripted host = new Scripted();
        device = new VirtioConsole(host);
        rxRing = new MockDriver(memory, 16, 0x100000, 4 * PcMemoryLayout.MIB, false);
        VirtQueue q = rxRing.configure(new VirtQueue(memory, VirtioConsole.QUEUE_SIZE), true);
        VirtioDevice.QueueHandler rx1 = device.activate(VirtioConsole.RX, q, device.deviceFeatures());
        host.in = ByteBuffer.wrap("hello world".getBytes(StandardCharsets.US_ASCII));
        long small = buffer(rxRing, 5);
        rxRing.add(MockDriver.Buf.out(small, 5));
        rxRing.publish();
        rx1.process();
        assertThat(read(small, 5)).isEqualTo("hello");
        byte[] saved = device.saveDeviceState();
        assertThat(new String(saved, StandardCharsets.US_ASCII)).isEqualTo(" world");

        VirtioConsole restored = new VirtioConsole(new Scripted());
        restored.restoreDeviceState(saved);
        VirtQueue q2 = new VirtQueue(memory, VirtioConsole.QUEUE_SIZE);
        q2.restore(q.save());
        VirtioDevice.QueueHandler rx2 = restored.activate(VirtioConsole.RX, q2, restored.deviceFeatures());
        long big = buffer(rxRing, 16);
        rxRing.add(MockDriver.Buf.out(big, 16));
        rxRing.publish();
        rx2.process();
        assertThat(read(big, 6)).isEqualTo(" world");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> restored.restoreDeviceState(new byte[5000]))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void offersOnePortWithEmergencyWrite() throws Exception {
        attach(new Scripted());
        assertThat(device.deviceType()).isEqualTo(3);
        assertThat(device.numQueues()).isEqualTo(2);
        long f = device.deviceFeatures();
        assertThat(f & VirtioFeatures.bit(VirtioConsole.F_EMERG_WRITE)).isNotZero();
        assertThat(f & (VirtioFeatures.bit(VirtioConsole.F_MULTIPORT) | VirtioFeatures.bit(VirtioConsole.F_SIZE)))
                .isZero();
        assertThat(device.configSize()).isEqualTo(12);
    }

    @Test
    void guestOutputReachesTheFileInOrder() throws Exception {
        Path file = dir.resolve("hvc0.log");
        Files.writeString(file, "before\n");
        attach(ConsoleBackend.open(ConsoleConfig.parse("file=" + file)));
        txRing.add(Buf.in(text(txRing, "hello "), 6), Buf.in(text(txRing, "world\n"), 6));
        txRing.add(Buf.in(text(txRing, "second line\n"), 12));
        txRing.publish();
        assertThat(tx.process()).isTrue();
        assertThat(txRing.popUsed().len()).as("nothing written into a transmit buffer").isZero();
        assertThat(txRing.popUsed()).isNotNull();
        device.writeConfig(VirtioConsole.CFG_EMERG_WR, new byte[] {'!', 0, 0, 0}, 0, 4);
        assertThat(Files.readString(file)).isEqualTo("before\nhello world\nsecond line\n!");
        assertThat(device.bytesFromGuest()).isEqualTo(25);
    }

    @Test
    void inputFillsReceiveBuffersAndWaitsForMore() throws Exception {
        Scripted s = new Scripted();
        attach(s);
        s.in = ByteBuffer.wrap("abcdef".getBytes(StandardCharsets.US_ASCII));
        assertThat(rx.process()).as("no receive buffers: nothing to complete").isFalse();
        long a = buffer(rxRing, 4);
        rxRing.add(Buf.out(a, 4));
        rxRing.publish();
        assertThat(rx.process()).isTrue();
        MockDriver.Used u = rxRing.popUsed();
        assertThat(u.len()).isEqualTo(4);
        assertThat(read(a, 4)).isEqualTo("abcd");
        long b = buffer(rxRing, 16);
        rxRing.add(Buf.out(b, 16));
        rxRing.publish();
        rx.process();
        assertThat(rxRing.popUsed().len()).isEqualTo(2);
        assertThat(read(b, 3)).isEqualTo("ef.");
        // A buffer with no input waiting stays posted.
        long c = buffer(rxRing, 8);
        rxRing.add(Buf.out(c, 8));
        rxRing.publish();
        assertThat(rx.process()).isFalse();
        assertThat(rxRing.popUsed()).isNull();
        s.in = ByteBuffer.wrap("g".getBytes(StandardCharsets.US_ASCII));
        rx.process();
        assertThat(rxRing.popUsed().len()).isEqualTo(1);
        assertThat(device.bytesToGuest()).isEqualTo(7);
    }

    @Test
    void aSocketClientTalksWithTheGuest() throws Exception {
        Path sock = dir.resolve("hvc0.sock");
        ConsoleBackend backend = ConsoleBackend.open(ConsoleConfig.parse("socket=" + sock));
        attach(backend);
        CountDownLatch kicked = new CountDownLatch(1);
        device.setInputKick(kicked::countDown);
        try (SocketChannel client = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            client.connect(UnixDomainSocketAddress.of(sock));
            client.write(ByteBuffer.wrap("from-host\n".getBytes(StandardCharsets.US_ASCII)));
            assertThat(kicked.await(10, TimeUnit.SECONDS)).as("input kicks the receive queue").isTrue();
            long buf = buffer(rxRing, 64);
            rxRing.add(Buf.out(buf, 64));
            rxRing.publish();
            long deadline = System.nanoTime() + 10_000_000_000L;
            int got = 0;
            while (got < 10 && System.nanoTime() < deadline) {
                rx.process();
                MockDriver.Used u = rxRing.popUsed();
                if (u != null) {
                    got += u.len();
                } else {
                    Thread.sleep(10);
                }
            }
            assertThat(read(buf, 10)).isEqualTo("from-host\n");
            // Output reaches the connected client.
            Thread.sleep(100); // the accept has happened (input came through it); output now has a client
            txRing.add(Buf.in(text(txRing, "from-guest\n"), 11));
            txRing.publish();
            tx.process();
            ByteBuffer in = ByteBuffer.allocate(64);
            client.configureBlocking(true);
            while (in.position() < 11) {
                assertThat(client.read(in)).isPositive();
            }
            assertThat(new String(in.array(), 0, 11, StandardCharsets.US_ASCII)).isEqualTo("from-guest\n");
        }
    }

    @Test
    void outputWithNoClientIsDroppedAndCounted() throws Exception {
        ConsoleBackend backend = ConsoleBackend.open(ConsoleConfig.parse("socket=" + dir.resolve("idle.sock")));
        attach(backend);
        txRing.add(Buf.in(text(txRing, "nobody listens"), 14));
        txRing.publish();
        tx.process();
        assertThat(backend.dropped()).isEqualTo(14);
    }

    @Test
    void specErrorsSayWhatIsWrong() {
        assertThatThrownBy(() -> ConsoleConfig.parse("/tmp/x")).hasMessageContaining("socket=PATH or file=PATH");
        assertThatThrownBy(() -> ConsoleConfig.parse("pipe=/tmp/x")).hasMessageContaining("unknown backend 'pipe'");
        assertThatThrownBy(() -> ConsoleConfig.parse("file=")).hasMessageContaining("needs a path");
        assertThat(ConsoleConfig.parse("socket=/run/c.sock").kind()).isEqualTo(ConsoleConfig.Kind.SOCKET);
        assertThatThrownBy(() -> ConsoleConfig.parse("file=/tmp/x,cols=80")).hasMessageContaining("go together");
        assertThatThrownBy(() -> ConsoleConfig.parse("file=/tmp/x,cols=0,rows=25"))
                .hasMessageContaining("cols must be 1 to 65535");
        assertThatThrownBy(() -> ConsoleConfig.parse("file=/tmp/x,cols=80,rows=65536"))
                .hasMessageContaining("rows must be 1 to 65535");
        assertThatThrownBy(() -> ConsoleConfig.parse("file=/tmp/x,cols=wide,rows=25"))
                .hasMessageContaining("cols must be a number");
        assertThatThrownBy(() -> ConsoleConfig.parse("file=/tmp/x,cols=80,cols=81,rows=2"))
                .hasMessageContaining("cols given twice");
        assertThatThrownBy(() -> ConsoleConfig.parse("file=/tmp/x,speed=9600"))
                .hasMessageContaining("unknown option 'speed'");
        assertThatThrownBy(() -> ConsoleConfig.parse("file=/tmp/x,raw")).hasMessageContaining("key=value");
        ConsoleConfig sized = ConsoleConfig.parse("socket=/run/a,,b.sock,rows=50,cols=132");
        assertThat(sized.path().toString()).isEqualTo("/run/a,b.sock");
        assertThat(sized.cols()).isEqualTo(132);
        assertThat(sized.rows()).isEqualTo(50);
        assertThat(sized.hasSize()).isTrue();
        assertThat(ConsoleConfig.parse("file=/tmp/x").hasSize()).isFalse();
    }

    @Test
    void aSizedConsoleOffersSizeAndReportsColsAndRows() throws Exception {
        attach(new Scripted(), 132, 50);
        assertThat(device.deviceFeatures() & VirtioFeatures.bit(VirtioConsole.F_SIZE)).isNotZero();
        assertThat(device.deviceFeatures() & VirtioFeatures.bit(VirtioConsole.F_MULTIPORT)).isZero();
        assertThat(device.announceConfigAtDriverOk()).as("Linux reads the size on a config change only").isTrue();
        assertThat(new VirtioConsole(new Scripted()).announceConfigAtDriverOk()).isFalse();
        byte[] cfg = new byte[12];
        device.readConfig(0, cfg, 0, 12);
        assertThat(cfg).containsExactly(132, 0, 50, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        byte[] rows = new byte[2];
        device.readConfig(2, rows, 0, 2);
        assertThat(rows).containsExactly(50, 0);
        byte[] beyond = {9, 9, 9};
        device.readConfig(11, beyond, 0, 3); // past the 12 bytes: zeros, no exception
        assertThat(beyond).containsExactly(0, 0, 0);
        byte[] wide = new byte[4];
        new VirtioConsole(new Scripted(), 0xffff, 300).readConfig(0, wide, 0, 4);
        assertThat(wide).containsExactly(0xff, 0xff, 0x2c, 0x01);
        assertThatThrownBy(() -> new VirtioConsole(new Scripted(), 80, 0)).isInstanceOf(
                IllegalArgumentException.class);
    }
}
