package org.jkvm.sys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * TAP devices in a network namespace the test makes ({@code ip netns add}) and deletes: a thread enters it with
 * setns(2), so the TAPs exist only there. Frames move both ways: the test writes an ARP request for the host side's
 * address behind a virtio-net header and reads the kernel's ARP reply. Needs root (skipped otherwise, except under
 * CI=true).
 */
class TapTest {
    static final String NS = "jkvm-taptest-" + ProcessHandle.current().pid();
    static ExecutorService inNs;

    static String ip(String... args) throws Exception {
        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("ip"));
        cmd.addAll(java.util.List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", cmd) + ": " + out).isZero();
        return out;
    }

    @BeforeAll
    static void namespace() throws Exception {
        boolean root = "0".equals(new String(new ProcessBuilder("id", "-u").start().getInputStream().readAllBytes(),
                StandardCharsets.US_ASCII).strip());
        if (!"true".equals(System.getenv("CI"))) {
            assumeTrue(root && Files.exists(Path.of("/dev/net/tun")), "needs root and /dev/net/tun");
        }
        ip("netns", "add", NS);
        inNs = Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().name("in-" + NS).unstarted(r));
        inNs.submit(() -> {
            int nsFd = Libc.open("/run/netns/" + NS, Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
            try {
                Libc.setns(nsFd, Libc.CLONE_NEWNET);
            } finally {
                Libc.close(nsFd);
            }
            return null;
        }).get();
    }

    @AfterAll
    static void removeNamespace() throws Exception {
        if (inNs != null) {
            inNs.shutdownNow();
            ip("netns", "del", NS);
        }
    }

    static <T> T inNamespace(Callable<T> c) throws Exception {
        return inNs.submit(c).get(30, TimeUnit.SECONDS);
    }

    @Test
    void createsATapThatMovesFramesBothWays() throws Exception {
        try (Tap tap = inNamespace(() -> Tap.open("jt0", false)); Arena arena = Arena.ofConfined()) {
            assertThat(tap.name()).isEqualTo("jt0");
            assertThat(tap.created()).isTrue();
            assertThat(ip("-n", NS, "-d", "link", "show", "jt0")).contains("tap").contains("vnet_hdr");
            // nothing the host could read yet: the descriptor does not block
            MemorySegment buf = arena.allocate(2048, 8);
            assertThat(tap.read(buf, buf.byteSize())).isEqualTo(-Errno.EAGAIN);
            // the offloads a virtio-net guest asks for
            assertThat(tap.setOffload(Tap.TUN_F_CSUM | Tap.TUN_F_TSO4 | Tap.TUN_F_TSO6 | Tap.TUN_F_TSO_ECN))
                    .isZero();
            assertThat(tap.setOffload(0)).isZero();

            ip("-n", NS, "link", "set", "jt0", "up");
            ip("-n", NS, "addr", "add", "10.200.0.1/24", "dev", "jt0");
            byte[] guestMac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
            byte[] frame = arpRequest(guestMac, new byte[] {10, (byte) 200, 0, 2}, new byte[] {10, (byte) 200, 0, 1});
            MemorySegment out = arena.allocate(Tap.VNET_HDR_BYTES + frame.length, 8); // header: all zero
            MemorySegment.copy(frame, 0, out, ValueLayout.JAVA_BYTE, Tap.VNET_HDR_BYTES, frame.length);
            assertThat(tap.write(out, out.byteSize())).isEqualTo(out.byteSize());

            // the kernel answers; skip what else it sends (IPv6 neighbour discovery, MLD)
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            byte[] reply = null;
            while (reply == null && System.nanoTime() < end) {
                long n = tap.read(buf, buf.byteSize());
                if (n == -Errno.EAGAIN) {
                    Thread.sleep(5);
                    continue;
                }
                assertThat(n).isGreaterThan(Tap.VNET_HDR_BYTES);
                byte[] f = buf.asSlice(Tap.VNET_HDR_BYTES, n - Tap.VNET_HDR_BYTES).toArray(ValueLayout.JAVA_BYTE);
                if (f.length >= 42 && f[12] == 0x08 && f[13] == 0x06 && f[21] == 2) {
                    reply = f;
                }
            }
            assertThat(reply).as("ARP reply from the namespace's kernel").isNotNull();
            assertThat(java.util.Arrays.copyOfRange(reply, 0, 6)).isEqualTo(guestMac); // to the guest
            assertThat(java.util.Arrays.copyOfRange(reply, 28, 32)).containsExactly(10, (byte) 200, 0, 1);
        }
        // a TAP jkvm created goes away with its last descriptor
        assertThat(ip("-n", NS, "link", "show")).doesNotContain("jt0");
    }

    @Test
    void attachesToAnExistingPersistentTap() throws Exception {
        ip("-n", NS, "tuntap", "add", "dev", "jp0", "mode", "tap");
        try (Tap tap = inNamespace(() -> Tap.open("jp0", false))) {
            assertThat(tap.created()).isFalse();
            assertThat(tap.name()).isEqualTo("jp0");
        }
        assertThat(ip("-n", NS, "link", "show")).contains("jp0");
        ip("-n", NS, "tuntap", "del", "dev", "jp0", "mode", "tap");
    }

    @Test
    void multiQueueTapTakesSeveralQueues() throws Exception {
        try (Tap q0 = inNamespace(() -> Tap.open("jm0", true)); Tap q1 = inNamespace(() -> Tap.open("jm0", true))) {
            assertThat(q0.fd()).isNotEqualTo(q1.fd());
            assertThat(ip("-n", NS, "-d", "link", "show", "jm0")).contains("multi_queue");
        }
    }

    @Test
    void kernelChosenNameAndBadNames() throws Exception {
        try (Tap tap = inNamespace(() -> Tap.open("", false))) {
            assertThat(tap.name()).startsWith("tap");
        }
        assertThatThrownBy(() -> Tap.open("a-name-too-long-for-linux", false))
                .isInstanceOf(Tap.TapException.class).hasMessageContaining("at most 15 characters");
        assertThatThrownBy(() -> Tap.open("a/b", false)).isInstanceOf(Tap.TapException.class);
    }

    /** An Ethernet broadcast ARP request (RFC 826) from {@code mac}/{@code spa} asking for {@code tpa}. */
    static byte[] arpRequest(byte[] mac, byte[] spa, byte[] tpa) {
        byte[] f = new byte[42];
        java.util.Arrays.fill(f, 0, 6, (byte) 0xff);
        System.arraycopy(mac, 0, f, 6, 6);
        f[12] = 0x08;
        f[13] = 0x06;
        f[15] = 1; // hardware type Ethernet
        f[16] = 0x08; // protocol IPv4
        f[18] = 6;
        f[19] = 4;
        f[21] = 1; // request
        System.arraycopy(mac, 0, f, 22, 6);
        System.arraycopy(spa, 0, f, 28, 4);
        System.arraycopy(tpa, 0, f, 38, 4);
        return f;
    }
}
