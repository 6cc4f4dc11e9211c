package org.jkvm.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jkvm.it.QmpSupport.awaitEvent;
import static org.jkvm.it.QmpSupport.cmd;
import static org.jkvm.it.QmpSupport.connect;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;

import org.jkvm.api.qmp.QmpClient;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The QMP monitor end to end, on KVM: a scripted conversation with two clients, wait=on, reset, bad input. */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class QmpTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void needKvm() {
        if (!"true".equals(System.getenv("CI"))) {
            assumeTrue(Files.exists(Path.of("/dev/kvm")), "no /dev/kvm");
        }
    }

    private static int grows(JkvmProcess p, long millis) throws InterruptedException {
        int before = p.stdout().length();
        Thread.sleep(millis);
        return p.stdout().length() - before;
    }

    @Test
    void stopContPowerdownWithTwoClients() throws Exception {
        Path sock = dir.resolve("conv.sock");
        Path guest = QmpSupport.counterGuest(dir);
        try (JkvmProcess p = JkvmProcess.start("run", "--accel", "kvm", "--cpus", "2", "--memory", "64M",
                "--kernel", guest.toString(), "--qmp", "unix:" + sock + ",server=on,wait=off", "--name", "conv",
                "--uuid", "12345678-1234-1234-1234-123456789abc");
             QmpClient a = connect(sock, 30); QmpClient b = connect(sock, 5)) {
            assertThat(p.awaitOutput("..", 30)).isTrue();
            assertThat(cmd(a, "query-status").get("return").toString())
                    .isEqualTo("{\"running\":true,\"singlestep\":false,\"status\":\"running\"}");
            assertThat(cmd(a, "query-name").get("return").get("name").asText()).isEqualTo("conv");
            assertThat(cmd(b, "query-uuid").get("return").get("UUID").asText())
                    .isEqualTo("12345678-1234-1234-1234-123456789abc");
            assertThat(cmd(a, "query-kvm").get("return").toString()).isEqualTo("{\"enabled\":true,\"present\":true}");
            assertThat(p.awaitOutput("..", 30)).isTrue();

            JsonNode cpus = cmd(a, "query-cpus-fast").get("return");
            assertThat(cpus).hasSize(2);
            Set<Integer> tids = new HashSet<>();
            for (JsonNode c : cpus) {
                assertThat(c.get("target").asText()).isEqualTo("x86_64");
                tids.add(c.get("thread-id").asInt());
            }
            assertThat(tids).hasSize(2).doesNotContain(0, (int) p.process().pid());
            assertThat(cmd(a, "query-memory-size-summary").get("return").get("base-memory").asLong())
                    .isEqualTo(64L << 20);
            assertThat(cmd(a, "query-block").get("return")).isEmpty();
            assertThat(cmd(a, "query-chardev").get("return").findValuesAsText("filename"))
                    .containsExactly("unix:" + sock + ",server=on", "stdio");

            assertThat(cmd(a, "stop").toString()).isEqualTo("{\"return\":{}}");
            assertThat(awaitEvent(a, "STOP", 5).get("timestamp").has("microseconds")).isTrue();
            awaitEvent(b, "STOP", 5);
            assertThat(cmd(b, "query-status").get("return").get("status").asText()).isEqualTo("paused");
            assertThat(grows(p, 1200)).as("guest output while paused").isZero();
            String regs = a.execute("human-monitor-command", QmpSupport.hmp("info registers -a")).get("return").asText();
            assertThat(regs).contains("CPU#0").contains("CPU#1").contains("EIP=001000").contains("CR0=");
            assertThat(a.execute("human-monitor-command", QmpSupport.hmp("info status")).get("return").asText())
                    .isEqualTo("VM status: paused\r\n");

            assertThat(cmd(b, "cont").toString()).isEqualTo("{\"return\":{}}");
            awaitEvent(a, "RESUME", 5);
            assertThat(cmd(a, "query-status").get("return").get("running").asBoolean()).isTrue();
            assertThat(p.awaitOutput(p.stdout() + "..", 30)).as("guest output after cont").isTrue();
            assertThat(a.execute("human-monitor-command", QmpSupport.hmp("info cpus")).get("return").asText())
                    .startsWith("* CPU #0: thread_id=");

            assertThat(cmd(a, "system_powerdown").toString()).isEqualTo("{\"return\":{}}");
            awaitEvent(b, "POWERDOWN", 5);
            JsonNode shutdown = awaitEvent(a, "SHUTDOWN", 30);
            assertThat(shutdown.get("data").toString()).isEqualTo("{\"guest\":true,\"reason\":\"guest-shutdown\"}");
            assertThat(p.waitFor(30)).as(p.stderr()).isZero();
            assertThat(p.stderr()).isEmpty();
        }
    }

    @Test
    void waitOnHoldsTheVmUntilAClientConnectsThenQuitEndsIt() throws Exception {
        Path sock = dir.resolve("wait.sock");
        Path guest = QmpSupport.counterGuest(dir);
        try (JkvmProcess p = JkvmProcess.start("run", "--accel", "kvm", "--memory", "64M", "--kernel",
                guest.toString(), "--qmp", "unix:" + sock + ",server=on")) {
            long end = System.nanoTime() + 30_000_000_000L;
            while (!Files.exists(sock) && System.nanoTime() < end) {
                Thread.sleep(20);
            }
            Thread.sleep(1000);
            assertThat(p.stdout()).as("no guest output before a client connects").isEmpty();
            assertThat(p.stderr()).contains("waiting for a QMP client on unix:" + sock);
            try (QmpClient c = connect(sock, 5)) {
                assertThat(p.awaitOutput(".", 30)).isTrue();
                assertThat(cmd(c, "quit").toString()).isEqualTo("{\"return\":{}}");
                JsonNode shutdown = awaitEvent(c, "SHUTDOWN", 5);
                assertThat(shutdown.get("data").toString()).isEqualTo("{\"guest\":false,\"reason\":\"host-qmp-quit\"}");
                assertThat(p.waitFor(30)).isZero();
            }
            assertThat(Files.exists(sock)).as("socket removed at exit").isFalse();
        }
    }

    @Test
    void systemResetRebootsTheGuestAndTcpWorksBesideUnix() throws Exception {
        Path sock = dir.resolve("reset.sock");
        int port;
        try (var s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path g = TinyGuest.write(dir, "boot.mb", TinyGuest.concat(TinyGuest.outb(0x3f8, 'B'),
                TinyGuest.outb(0x3f8, '\n'), TinyGuest.SPIN));
        try (JkvmProcess p = JkvmProcess.start("run", "--accel", "kvm", "--memory", "64M", "--kernel", g.toString(),
                "--qmp", "unix:" + sock + ",server=on,wait=off", "--qmp", "tcp:127.0.0.1:" + port + ",server=on,wait=off");
             QmpClient c = connect(sock, 30)) {
            assertThat(p.awaitOutput("B\n", 30)).isTrue();
            try (QmpClient t = QmpClient.connect("tcp:127.0.0.1:" + port).negotiate()) {
                assertThat(cmd(c, "system_reset").toString()).isEqualTo("{\"return\":{}}");
                assertThat(awaitEvent(t, "RESET", 5).get("data").toString())
                        .isEqualTo("{\"guest\":false,\"reason\":\"host-qmp-system-reset\"}");
                assertThat(p.awaitOutput("B\nB\n", 30)).as(p.stdout()).isTrue();
                assertThat(cmd(t, "query-status").get("return").get("status").asText()).isEqualTo("running");
                cmd(t, "quit");
            }
            assertThat(p.waitFor(30)).isZero();
        }
    }

    @Test
    void badInputGetsErrorsOrAClosedConnectionAndNothingElseSuffers() throws Exception {
        Path sock = dir.resolve("bad.sock");
        Path guest = QmpSupport.counterGuest(dir);
        try (JkvmProcess p = JkvmProcess.start("run", "--accel", "kvm", "--memory", "64M", "--kernel",
                guest.toString(), "--qmp", "unix:" + sock + ",server=on,wait=off");
             QmpClient good = connect(sock, 30)) {
            try (QmpClient c = QmpClient.connect(sock.toString())) {
                assertThat(c.execute("query-status", null).path("error").path("class").asText())
                        .isEqualTo("CommandNotFound");
            }
            // A client that leaves half a request and goes.
            try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                ch.connect(UnixDomainSocketAddress.of(sock));
                ch.write(ByteBuffer.wrap("{\"execute\": \"qmp_capabilities\"}{\"execute\": ".getBytes(StandardCharsets.US_ASCII)));
            }
            try (QmpClient c = QmpClient.connect(sock.toString()).negotiate()) {
                assertThat(c.sendRaw("{\"foo\"}\n").path("error").path("desc").asText()).startsWith("JSON parse error");
                assertThat(c.sendRaw("[1]\n").path("error").path("desc").asText())
                        .isEqualTo("QMP input must be a JSON object");
                assertThat(c.sendRaw("{\"execute\": \"nope\"}\n").path("error").path("class").asText())
                        .isEqualTo("CommandNotFound");
                assertThat(cmd(c, "query-status", "{\"x\": 1}").path("error").path("desc").asText())
                        .isEqualTo("Parameter 'x' is unexpected");
                assertThat(cmd(c, "human-monitor-command", "{\"command-line\": 1}").path("error").path("desc")
                        .asText()).isEqualTo("Invalid parameter type for 'command-line', expected: string");
                assertThat(cmd(c, "human-monitor-command", "{}").path("error").path("desc").asText())
                        .isEqualTo("Parameter 'command-line' is missing");
                JsonNode big = c.sendRaw("{\"execute\": \"" + "x".repeat(1 << 20) + "\"}\n");
                assertThat(big.path("error").path("desc").asText()).contains("longer than 1048576 bytes");
                assertThat(c.readMessage()).as("closed after an oversized request").isNull();
            }
            // A client that sends a command and vanishes before reading the reply.
            try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                ch.connect(UnixDomainSocketAddress.of(sock));
                ch.write(ByteBuffer.wrap("{\"execute\":\"qmp_capabilities\"}{\"execute\":\"stop\"}"
                        .getBytes(StandardCharsets.US_ASCII)));
            }
            awaitEvent(good, "STOP", 10);
            assertThat(cmd(good, "cont").has("return")).isTrue();
            assertThat(cmd(good, "query-status").get("return").get("status").asText()).isEqualTo("running");
            assertThat(p.awaitOutput(p.stdout() + ".", 30)).isTrue();
            assertThat(p.process().isAlive()).isTrue();
            cmd(good, "quit");
            assertThat(p.waitFor(30)).isZero();
        }
    }
}
