package org.jkvm.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;

import org.jkvm.api.qmp.QmpClient;
import org.jkvm.sys.Libc;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Debian's kernel on the software CPU with one virtio-net NIC ({@code --net tap,ifname=jtap0,id=nic0}) in a network
 * namespace the test makes: the TAP exists there (persistent, made by the test, 10.0.2.1/24) and jkvm runs there
 * ({@code ip netns exec}). The guest configures 10.0.2.15, pings the host side, receives a 2 MiB file over TCP from
 * a server the test runs in the namespace and sends 4 MiB back, checksums matching on both sides; then QMP's
 * set_link takes the link down (the guest sees carrier 0) and up again (carrier 1, ping works). query-pci,
 * query-rx-filter and NIC_RX_FILTER_CHANGED describe the NIC. One boot for everything (about two minutes).
 */
class VirtioNetLinuxTest {
    static final String NS = "jkvm-nettest-" + ProcessHandle.current().pid();
    static final String TAP = "jtap0";
    static final int FROM_HOST_BYTES = 2 << 20;
    static final java.util.regex.Pattern VALUE =
            java.util.regex.Pattern.compile("^([A-Z][A-Z0-9_-]*)=(.*?)\\r?$", java.util.regex.Pattern.MULTILINE);

    @TempDir
    static Path dir;
    static boolean namespaceMade;
    static ExecutorService inNs;
    static byte[] fromHost;
    static String console;
    static String stderr;
    static int exitCode;
    static Map<String, String> values;
    static JsonNode queryPci;
    static JsonNode rxFilter;
    static JsonNode filterEvent;
    static String toHostSha;
    static long toHostBytes;
    static double hostToGuestSeconds;
    static double guestToHostSeconds;
    static String setLinkUnknown;

    static String ip(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("ip"));
        cmd.addAll(List.of(args));
        return DebianGuest.exec(30, cmd.toArray(String[]::new));
    }

    static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    @BeforeAll
    static void bootOnce() throws Exception {
        boolean root = "0".equals(DebianGuest.exec(5, "id", "-u").strip());
        if (!"true".equals(System.getenv("CI"))) {
            assumeTrue(root && Files.exists(Path.of("/dev/net/tun")), "needs root and /dev/net/tun");
        }
        Path initrd = DebianGuest.initrdWith(dir, "virtio-net.sh");
        ip("netns", "add", NS);
        namespaceMade = true;
        ip("-n", NS, "link", "set", "lo", "up");
        ip("-n", NS, "tuntap", "add", "dev", TAP, "mode", "tap");
        ip("-n", NS, "addr", "add", "10.0.2.1/24", "dev", TAP);
        ip("-n", NS, "link", "set", TAP, "up");

        // the host side's servers: sockets made by a thread inside the namespace belong to it
        inNs = Executors.newCachedThreadPool();
        ServerSocket[] servers = inNs.submit(() -> {
            int nsFd = Libc.open("/run/netns/" + NS, Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
            try {
                Libc.setns(nsFd, Libc.CLONE_NEWNET);
            } finally {
                Libc.close(nsFd);
            }
            InetAddress host = InetAddress.getByName("10.0.2.1");
            ServerSocket send = new ServerSocket();
            send.bind(new InetSocketAddress(host, 5001));
            ServerSocket receive = new ServerSocket();
            receive.bind(new InetSocketAddress(host, 5002));
            return new ServerSocket[] {send, receive};
        }).get(30, TimeUnit.SECONDS);
        fromHost = new byte[FROM_HOST_BYTES];
        new Random(42).nextBytes(fromHost);
        Future<Double> sent = inNs.submit(() -> {
            try (ServerSocket s = servers[0]; Socket c = s.accept()) {
                long t0 = System.nanoTime();
                OutputStream out = c.getOutputStream();
                out.write(fromHost);
                c.shutdownOutput();
                InputStream in = c.getInputStream();
                while (in.read() >= 0) {
                    // the guest's nc closes once it has everything
                }
                return (System.nanoTime() - t0) / 1e9;
            }
        });
        Future<byte[]> received = inNs.submit(() -> {
            try (ServerSocket s = servers[1]; Socket c = s.accept()) {
                long t0 = System.nanoTime();
                byte[] all = c.getInputStream().readAllBytes();
                guestToHostSeconds = (System.nanoTime() - t0) / 1e9;
                return all;
            }
        });

        Path sock = dir.resolve("qmp.sock");
        List<String> wrapper = List.of("ip", "netns", "exec", NS);
        try (JkvmProcess p = JkvmProcess.startWrapped(wrapper, "run", "--accel", "emu", "--memory", "512M",
                "--cpus", "1", "--kernel", DebianGuest.kernel().toString(), "--initrd", initrd.toString(),
                "--cmdline", "console=ttyS0 panic=0", "--net", "tap,ifname=" + TAP + ",id=nic0",
                "--qmp", "unix:" + sock + ",server=on,wait=off")) {
            p.stdin().close();
            try (QmpClient qmp = QmpSupport.connect(sock, 60)) {
                assertThat(p.awaitOutput("Linux version", 120)).as(p.stderr()).isTrue();
                queryPci = QmpSupport.cmd(qmp, "query-pci").get("return");
                assertThat(p.awaitOutput("PING-STATUS=", 600)).as(p.stdout() + p.stderr()).isTrue();
                filterEvent = QmpSupport.awaitEvent(qmp, "NIC_RX_FILTER_CHANGED", 10);
                rxFilter = QmpSupport.cmd(qmp, "query-rx-filter", "{\"name\": \"nic0\"}").get("return");
                setLinkUnknown = QmpSupport.cmd(qmp, "set_link", "{\"name\": \"nope\", \"up\": false}")
                        .path("error").path("class").asText();
                hostToGuestSeconds = sent.get(600, TimeUnit.SECONDS);
                byte[] got = received.get(600, TimeUnit.SECONDS);
                toHostBytes = got.length;
                toHostSha = sha256(got);
                assertThat(p.awaitOutput("LINK-TEST=ready", 600)).as(p.stdout() + p.stderr()).isTrue();
                assertThat(QmpSupport.cmd(qmp, "set_link", "{\"name\": \"nic0\", \"up\": false}").has("return"))
                        .isTrue();
                assertThat(p.awaitOutput("OPERSTATE-AFTER-DOWN=", 300)).as(p.stdout()).isTrue();
                assertThat(QmpSupport.cmd(qmp, "set_link", "{\"name\": \"nic0\", \"up\": true}").has("return"))
                        .isTrue();
            }
            exitCode = p.waitFor(600);
            console = p.stdout();
            stderr = p.stderr();
        }
        values = new java.util.LinkedHashMap<>();
        java.util.regex.Matcher m = VALUE.matcher(console);
        while (m.find()) {
            values.put(m.group(1), m.group(2));
        }
        // kept for a look after the run (the guest's console and jkvm's stderr)
        Files.writeString(Path.of("target/virtio-net-linux-console.txt"), console + "\n--- stderr ---\n" + stderr);
    }

    @AfterAll
    static void cleanUp() throws Exception {
        if (inNs != null) {
            inNs.shutdownNow();
        }
        if (namespaceMade) {
            ip("netns", "del", NS);
        }
    }

    @Test
    void guestRanTheScriptAndPoweredOff() {
        assertThat(exitCode).as(stderr + console).isZero();
        assertThat(values).containsEntry("VIRTIO-NET-SCRIPT", "done").containsEntry("JKVM-TEST-EXIT", "0");
        assertThat(stderr).doesNotContain("needs reset").doesNotContain("Exception");
    }

    @Test
    void guestHasAVirtioNicWithTheConfiguredAddress() {
        assertThat(values).containsEntry("NET-DRIVER", "virtio_net").containsEntry("NET-MAC", "52:54:00:12:34:56")
                .containsEntry("NET-MTU", "1500").containsEntry("NET-CARRIER", "1");
        assertThat(values.get("NET-IFACES")).contains("eth0");
        // the features the driver took: VERSION_1 (bit 32), MRG_RXBUF (15), CTRL_VQ (17), CSUM (0)
        String f = values.get("NET-VIRTIO-FEATURES");
        assertThat(f.charAt(32)).isEqualTo('1');
        assertThat(f.charAt(15)).isEqualTo('1');
        assertThat(f.charAt(17)).isEqualTo('1');
        assertThat(f.charAt(0)).isEqualTo('1');
    }

    @Test
    void guestPingsTheHostSide() {
        assertThat(values).containsEntry("PING-STATUS", "0").containsEntry("PING-RECEIVED", "3");
        System.out.println("virtio-net ping guest->host min/avg/max ms: " + values.get("PING-RTT"));
    }

    @Test
    void filesCrossOverTcpBothWaysIntact() throws Exception {
        assertThat(values).containsEntry("FROMHOST-BYTES", String.valueOf(FROM_HOST_BYTES))
                .containsEntry("FROMHOST-SHA256", sha256(fromHost));
        assertThat(toHostBytes).isEqualTo(4L << 20);
        assertThat(values).containsEntry("TOHOST-SHA256", toHostSha).containsEntry("TOHOST-NC-STATUS", "0");
        assertThat(values).containsEntry("NET-RX-ERRORS", "0");
        System.out.printf("virtio-net TCP host->guest %d bytes in %.2f s (%.2f MB/s); guest->host %d bytes in"
                        + " %.2f s (%.2f MB/s)%n", FROM_HOST_BYTES, hostToGuestSeconds,
                FROM_HOST_BYTES / hostToGuestSeconds / 1e6, toHostBytes, guestToHostSeconds,
                toHostBytes / guestToHostSeconds / 1e6);
    }

    @Test
    void linkDownThroughQmpIsCarrierLossInTheGuest() {
        assertThat(values).containsEntry("CARRIER-AFTER-DOWN", "0").containsEntry("OPERSTATE-AFTER-DOWN", "down")
                .containsEntry("CARRIER-AFTER-UP", "1").containsEntry("PING-AFTER-UP", "0");
        assertThat(setLinkUnknown).isEqualTo("DeviceNotFound");
    }

    @Test
    void monitorDescribesTheNic() {
        JsonNode nic = null;
        for (JsonNode d : queryPci.get(0).get("devices")) {
            if (d.get("qdev_id").asText().equals("nic0")) {
                nic = d;
            }
        }
        assertThat(nic).as(queryPci.toString()).isNotNull();
        assertThat(nic.get("id").get("vendor").asInt()).isEqualTo(0x1af4);
        assertThat(nic.get("id").get("device").asInt()).isEqualTo(0x1041);
        assertThat(nic.get("class_info").get("desc").asText()).isEqualTo("Ethernet controller");
        assertThat(filterEvent.get("data").get("name").asText()).isEqualTo("nic0");
        assertThat(filterEvent.get("data").get("path").asText()).isEqualTo("/machine/peripheral/nic0/virtio-backend");
        JsonNode f = rxFilter.get(0);
        assertThat(f.get("name").asText()).isEqualTo("nic0");
        assertThat(f.get("main-mac").asText()).isEqualTo("52:54:00:12:34:56");
        assertThat(f.get("promiscuous").asBoolean()).as(f.toString()).isFalse();
        assertThat(f.get("broadcast-allowed").asBoolean()).isTrue();
        // Linux joins the all-hosts groups: IPv6 33:33:00:00:00:01 at least
        assertThat(f.get("multicast-table").toString()).contains("33:33:00:00:00:01");
    }
}
