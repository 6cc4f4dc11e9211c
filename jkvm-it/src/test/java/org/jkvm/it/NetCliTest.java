package org.jkvm.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jkvm.it.QmpSupport.cmd;
import static org.jkvm.it.QmpSupport.connect;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;

import org.jkvm.api.qmp.QmpClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --net} around a tiny guest on the software CPU (no Linux boot): jkvm creates its TAPs in a network namespace
 * the test makes and runs it in ({@code ip netns exec}), and removes them when it exits; two NICs, one multi-queue,
 * appear in query-pci and query-rx-filter; set_link knows them; a snapshot is refused; {@code vhost=on} on emu says it uses jkvm's own data
 * path; without CAP_NET_ADMIN the start fails with one clear line; bad specifications are usage errors (exit 2).
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class NetCliTest {
    static final String NS = "jkvm-netcli-" + ProcessHandle.current().pid();
    static boolean made;

    @TempDir
    Path dir;

    static String ip(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("ip"));
        cmd.addAll(List.of(args));
        return DebianGuest.exec(30, cmd.toArray(String[]::new));
    }

    @BeforeAll
    static void namespace() throws Exception {
        boolean root = "0".equals(DebianGuest.exec(5, "id", "-u").strip());
        if (!"true".equals(System.getenv("CI"))) {
            assumeTrue(root && Files.exists(Path.of("/dev/net/tun")), "needs root and /dev/net/tun");
        }
        ip("netns", "add", NS);
        made = true;
    }

    @AfterAll
    static void removeNamespace() throws Exception {
        if (made) {
            ip("netns", "del", NS);
        }
    }

    @Test
    void twoNicsOnTapsJkvmCreatesAndRemoves() throws Exception {
        Path sock = dir.resolve("net.sock");
        Path guest = QmpSupport.counterGuest(dir);
        try (JkvmProcess p = JkvmProcess.startWrapped(List.of("ip", "netns", "exec", NS), "run", "--accel", "emu",
                "--memory", "64M", "--kernel", guest.toString(), "--net", "tap,ifname=jc0,id=n0,vhost=on",
                "--net", "tap,ifname=jc1,queues=2,mac=02:00:00:00:00:07",
                "--qmp", "unix:" + sock + ",server=on,wait=off");
             QmpClient c = connect(sock, 60)) {
            assertThat(p.awaitOutput(".", 60)).as(p.stderr()).isTrue();
            assertThat(p.stderr()).contains("--net tap,ifname=jc0,id=n0,vhost=on: vhost=on needs the kvm backend"
                    + " (vhost-net not implemented); the emu backend uses jkvm's own data path");
            String links = ip("-n", NS, "-d", "link", "show");
            assertThat(links).contains("jc0").contains("jc1").contains("multi_queue");
            int ethernet = 0;
            for (JsonNode d : cmd(c, "query-pci").get("return").get(0).get("devices")) {
                if (d.get("class_info").path("desc").asText().equals("Ethernet controller")) {
                    ethernet++;
                    assertThat(d.get("id").get("device").asInt()).isEqualTo(0x1041);
                }
            }
            assertThat(ethernet).isEqualTo(2);
            JsonNode filters = cmd(c, "query-rx-filter").get("return");
            assertThat(filters).hasSize(2);
            assertThat(filters.get(0).get("name").asText()).isEqualTo("n0");
            assertThat(filters.get(0).get("main-mac").asText()).isEqualTo("52:54:00:12:34:56");
            assertThat(filters.get(1).get("name").asText()).isEqualTo("net1");
            assertThat(filters.get(1).get("main-mac").asText()).isEqualTo("02:00:00:00:00:07");
            assertThat(cmd(c, "query-rx-filter", "{\"name\": \"x\"}").path("error").path("desc").asText())
                    .isEqualTo("invalid net client name: x");
            assertThat(cmd(c, "set_link", "{\"name\": \"net1\", \"up\": false}").has("return")).isTrue();
            assertThat(cmd(c, "set_link", "{\"name\": \"jc1\", \"up\": false}").path("error").path("class")
                    .asText()).isEqualTo("DeviceNotFound");
            assertThat(cmd(c, "migrate", "{\"uri\": \"file:" + dir.resolve("snap") + "\"}").path("error")
                    .path("desc").asText()).contains("snapshots of VMs with a virtio-net NIC are not supported yet");
            assertThat(cmd(c, "query-status").get("return").get("status").asText()).isEqualTo("running");
            cmd(c, "quit");
            assertThat(p.waitFor(30)).isZero();
        }
        assertThat(ip("-n", NS, "link", "show")).doesNotContain("jc0").doesNotContain("jc1");
    }

    @Test
    void withoutCapNetAdminOneClearLine() throws Exception {
        Path guest = QmpSupport.counterGuest(dir);
        JkvmProcess p = JkvmProcess.startWrapped(List.of("ip", "netns", "exec", NS, "setpriv", "--inh-caps",
                "-net_admin", "--bounding-set", "-net_admin"), "run", "--accel", "emu", "--memory", "64M",
                "--kernel", guest.toString(), "--net", "tap,ifname=jn0");
        p.stdin().close();
        assertThat(p.waitFor(60)).isEqualTo(2);
        assertThat(p.stderr().strip()).isEqualTo("jkvm: --net net0: creating TAP device 'jn0' needs root or"
                + " CAP_NET_ADMIN (ioctl(TUNSETIFF): EPERM)");
        p.close();
    }

    @Test
    void vhostOnTheKvmBackendIsRefused() throws Exception {
        assumeTrue(Files.exists(Path.of("/dev/kvm")), "needs /dev/kvm");
        Path guest = QmpSupport.counterGuest(dir);
        JkvmProcess p = JkvmProcess.run(60, "run", "--accel", "kvm", "--memory", "64M", "--kernel",
                guest.toString(), "--net", "tap,vhost=on");
        assertThat(p.exitCode()).isEqualTo(2);
        assertThat(p.stderr().strip()).isEqualTo("jkvm: --net tap,vhost=on: vhost=on: vhost-net not implemented"
                + " (use vhost=off: jkvm's own data path)");
        p.close();
    }

    @Test
    void badSpecificationsAreUsageErrors() throws Exception {
        Path guest = QmpSupport.counterGuest(dir);
        String[][] cases = {
            {"user", "--net user: unknown network backend 'user' (only tap)"},
            {"tap,mac=52:54:00:12:34", "--net tap,mac=52:54:00:12:34: MAC address '52:54:00:12:34': expected six"},
            {"tap,queues=17", "--net tap,queues=17: queues must be 1 to 16"},
            {"tap,vhost=maybe", "vhost must be on or off"},
        };
        for (String[] c : cases) {
            JkvmProcess p = JkvmProcess.run(60, "run", "--accel", "emu", "--memory", "64M", "--kernel",
                    guest.toString(), "--net", c[0]);
            assertThat(p.exitCode()).as(c[0]).isEqualTo(2);
            assertThat(p.stderr()).as(c[0]).contains(c[1]);
            p.close();
        }
        JkvmProcess dup = JkvmProcess.run(60, "run", "--accel", "emu", "--memory", "64M", "--kernel",
                guest.toString(), "--net", "tap,id=a", "--net", "tap,id=a");
        assertThat(dup.exitCode()).isEqualTo(2);
        assertThat(dup.stderr()).contains("duplicate id 'a'");
        dup.close();
    }
}
