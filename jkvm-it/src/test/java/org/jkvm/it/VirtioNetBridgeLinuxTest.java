package org.jkvm.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two jkvm guests (Debian's kernel on the software CPU, booted at the same time) on one Linux bridge in a network
 * namespace the test makes: each has a TAP jkvm creates and the test enslaves to the bridge. They find each other
 * (ARP), ping each other and move a line over TCP. Two boots at once: several minutes on a busy host.
 */
class VirtioNetBridgeLinuxTest {
    static final String NS = "jkvm-netbr-" + ProcessHandle.current().pid();
    static final Pattern VALUE = Pattern.compile("^([A-Z][A-Z0-9_-]*)=(.*?)\\r?$", Pattern.MULTILINE);

    @TempDir
    static Path dir;
    static boolean made;
    static final List<Map<String, String>> values = new ArrayList<>();
    static final List<Integer> exits = new ArrayList<>();
    static final List<String> stderrs = new ArrayList<>();

    static String ip(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("ip"));
        cmd.addAll(List.of(args));
        return DebianGuest.exec(30, cmd.toArray(String[]::new));
    }

    @BeforeAll
    static void bootTwo() throws Exception {
        boolean root = "0".equals(DebianGuest.exec(5, "id", "-u").strip());
        if (!"true".equals(System.getenv("CI"))) {
            assumeTrue(root && Files.exists(Path.of("/dev/net/tun")), "needs root and /dev/net/tun");
        }
        Path initrd = DebianGuest.initrdWith(dir, "virtio-net-peer.sh");
        ip("netns", "add", NS);
        made = true;
        ip("-n", NS, "link", "add", "br0", "type", "bridge");
        ip("-n", NS, "link", "set", "br0", "up");
        for (String tap : new String[] {"jbr0", "jbr1"}) {
            ip("-n", NS, "tuntap", "add", "dev", tap, "mode", "tap");
            ip("-n", NS, "link", "set", tap, "master", "br0");
            ip("-n", NS, "link", "set", tap, "up");
        }
        List<JkvmProcess> guests = new ArrayList<>();
        try {
            for (int i = 0; i < 2; i++) {
                String me = "10.0.3." + (11 + i);
                String peer = "10.0.3." + (12 - i);
                JkvmProcess p = JkvmProcess.startWrapped(List.of("ip", "netns", "exec", NS), "run", "--accel",
                        "emu", "--memory", "256M", "--kernel", DebianGuest.kernel().toString(), "--initrd",
                        initrd.toString(), "--cmdline", "console=ttyS0 panic=0 jkvm.ip=" + me + " jkvm.peer=" + peer,
                        "--net", "tap,ifname=jbr" + i + ",mac=52:54:00:00:03:" + (11 + i));
                p.stdin().close();
                guests.add(p);
            }
            for (JkvmProcess p : guests) {
                exits.add(p.waitFor(900));
                Map<String, String> v = new LinkedHashMap<>();
                Matcher m = VALUE.matcher(p.stdout());
                while (m.find()) {
                    v.put(m.group(1), m.group(2));
                }
                values.add(v);
                stderrs.add(p.stderr());
            }
        } finally {
            for (JkvmProcess p : guests) {
                p.close();
            }
        }
    }

    @AfterAll
    static void removeNamespace() throws Exception {
        if (made) {
            ip("netns", "del", NS);
        }
    }

    @Test
    void bothGuestsRanTheirScripts() {
        for (int i = 0; i < 2; i++) {
            assertThat(exits.get(i)).as(stderrs.get(i)).isZero();
            assertThat(values.get(i)).as(values.get(i).toString()).containsEntry("PEER-SCRIPT", "done")
                    .containsEntry("JKVM-TEST-EXIT", "0");
        }
    }

    @Test
    void guestsReachEachOtherAcrossTheBridge() {
        assertThat(values.get(0)).containsEntry("PEER-PING-STATUS", "0").containsEntry("PEER-PING-RECEIVED", "3")
                .containsEntry("PEER-MAC", "52:54:00:00:03:12").containsEntry("PEER-SERVED", "0");
        assertThat(values.get(1)).containsEntry("PEER-PING-STATUS", "0").containsEntry("PEER-PING-RECEIVED", "3")
                .containsEntry("PEER-MAC", "52:54:00:00:03:11").containsEntry("PEER-LINE", "HELLO-FROM-10.0.3.11");
    }
}
