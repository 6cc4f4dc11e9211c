package org.jkvm.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;

import org.jkvm.api.qmp.QmpClient;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same QMP conversation with QEMU (microvm, KVM) and with jkvm: every reply both give has the same structure
 * (keys and value types, recursively; arrays by their first element), and the errors have the same class and, except
 * for JSON syntax errors, the same words.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class QmpQemuCompatTest {
    private static final String QEMU = "qemu-system-x86_64";

    @TempDir
    static Path dir;

    /** Requests as raw text; the replies (and the events they cause) are compared. */
    private static final List<String> CONVERSATION = List.of(
            "{\"execute\": \"query-status\"}",
            "{\"execute\": \"qmp_capabilities\", \"id\": 1}",
            "{\"execute\": \"qmp_capabilities\"}",
            "{\"execute\": \"query-version\", \"id\": \"v\"}",
            "{\"execute\": \"query-status\"}",
            "{\"execute\": \"query-name\"}",
            "{\"execute\": \"query-uuid\"}",
            "{\"execute\": \"query-kvm\"}",
            "{\"execute\": \"query-cpus-fast\"}",
            "{\"execute\": \"query-hotpluggable-cpus\"}",
            "{\"execute\": \"query-memory-size-summary\"}",
            "{\"execute\": \"query-chardev\"}",
            "{\"execute\": \"query-block\"}",
            "{\"execute\": \"query-blockstats\"}",
            "{\"execute\": \"query-commands\"}",
            "{\"execute\": \"query-qmp-schema\"}",
            "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"info status\"}}",
            "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"info cpus\"}}",
            "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"bogus\"}}",
            "{\"execute\": \"stop\"}",
            "{\"execute\": \"query-status\"}",
            "{\"execute\": \"stop\"}",
            "{\"execute\": \"cont\"}",
            "{\"execute\": \"query-status\"}",
            "{\"execute\": \"nope\", \"id\": [1]}",
            "[1]",
            "{\"foo\"}",
            "{\"execute\": 1}",
            "{\"execute\": \"query-status\", \"bar\": 1}",
            "{\"execute\": \"query-status\", \"arguments\": []}",
            "{\"arguments\": {}}",
            "{\"execute\": \"query-status\", \"arguments\": {\"x\": 1}}",
            "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": 5}}",
            "{\"execute\": \"human-monitor-command\", \"arguments\": {}}",
            "{\"execute\": \"query-blockstats\", \"arguments\": {\"query-nodes\": \"yes\"}}",
            "{\"execute\": \"system_powerdown\"}",
            "{\"execute\": \"quit\"}");

    @BeforeAll
    static void needTools() {
        boolean ci = "true".equals(System.getenv("CI"));
        if (!ci) {
            assumeTrue(Files.exists(Path.of("/dev/kvm")), "no /dev/kvm");
            assumeTrue(onPath(QEMU), QEMU + " not installed");
        }
    }

    private static boolean onPath(String exe) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(d, exe))) {
                return true;
            }
        }
        return false;
    }

    /** One exchange: the reply and the events read before it. */
    record Exchange(String request, JsonNode reply, List<JsonNode> events) {}

    private static List<Exchange> talk(Path sock) throws Exception {
        long end = System.nanoTime() + 30_000_000_000L;
        QmpClient client = null;
        while (client == null) {
            try {
                client = QmpClient.connect(sock.toString());
            } catch (java.io.IOException e) {
                if (System.nanoTime() > end) {
                    throw e;
                }
                Thread.sleep(20);
            }
        }
        List<Exchange> out = new ArrayList<>();
        try (QmpClient c = client) {
            out.add(new Exchange("greeting", c.greeting(), List.of()));
            for (String req : CONVERSATION) {
                JsonNode reply = c.sendRaw(req + "\n");
                out.add(new Exchange(req, reply, c.takeEvents()));
            }
        }
        return out;
    }

    @Test
    void jkvmAnswersAsQemuDoes() throws Exception {
        Path guest = QmpSupport.counterGuest(dir);
        Path qsock = dir.resolve("qemu.sock");
        Process qemu = new ProcessBuilder(QEMU, "-M", "microvm", "-accel", "kvm", "-nodefaults", "-display", "none",
                "-m", "64", "-serial", "file:" + dir.resolve("qemu-serial.txt"), "-name", "compat",
                "-qmp", "unix:" + qsock + ",server=on,wait=off", "-kernel", guest.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("qemu-out.txt").toFile()).start();
        List<Exchange> fromQemu;
        try {
            fromQemu = talk(qsock);
            qemu.waitFor(30, TimeUnit.SECONDS);
        } finally {
            qemu.destroyForcibly();
        }
        Path jsock = dir.resolve("jkvm.sock");
        List<Exchange> fromJkvm;
        try (JkvmProcess p = JkvmProcess.start("run", "--accel", "kvm", "--memory", "64M", "--name", "compat",
                "--kernel", guest.toString(), "--qmp", "unix:" + jsock + ",server=on,wait=off")) {
            assertThat(p.awaitOutput(".", 30)).as("the guest runs").isTrue(); // as QEMU's monitor starts after boot
            fromJkvm = talk(jsock);
            assertThat(p.waitFor(30)).isZero();
        }

        List<String> compared = new ArrayList<>();
        for (int i = 0; i < fromQemu.size(); i++) {
            Exchange q = fromQemu.get(i);
            Exchange j = fromJkvm.get(i);
            String what = q.request();
            if (q.reply().has("error") && j.reply().has("return")) {
                continue; // QEMU's microvm lacks it (query-hotpluggable-cpus): nothing to compare
            }
            assertThat(mismatch(j.reply(), q.reply(), "")).as(what + "\njkvm: " + j.reply() + "\nqemu: " + q.reply())
                    .isNull();
            if (q.reply().has("error")) {
                assertThat(j.reply().get("error").get("class")).as(what).isEqualTo(q.reply().get("error").get("class"));
                if (!q.reply().get("error").get("desc").asText().startsWith("JSON parse error")) {
                    assertThat(j.reply().get("error").get("desc")).as(what)
                            .isEqualTo(q.reply().get("error").get("desc"));
                }
            }
            assertThat(j.events().stream().map(e -> e.get("event").asText()).toList()).as(what + " events")
                    .isEqualTo(q.events().stream().map(e -> e.get("event").asText()).toList());
            for (int e = 0; e < j.events().size(); e++) {
                assertThat(mismatch(j.events().get(e), q.events().get(e), "")).as(what + " event").isNull();
            }
            compared.add(what);
        }
        assertThat(compared).hasSizeGreaterThan(30);
        // Same RunState and HMP texts where the VMs agree.
        assertThat(fromJkvm.get(5).reply().get("return")).isEqualTo(fromQemu.get(5).reply().get("return"));
        assertThat(fromJkvm.get(17).reply()).isEqualTo(fromQemu.get(17).reply());
    }

    /**
     * query-pci on a PC with a virtio-blk disk: QEMU's Q35 ({@code -S}: nothing runs, the devices exist) and jkvm
     * with the same raw image. The bus list, the host bridge entry and the modern virtio-blk entry (device 0x1042)
     * have the same structure, and both name the disk's vendor, device and class the same way.
     */
    @Test
    void queryPciAnswersAsQemuDoes() throws Exception {
        Path img = dir.resolve("pci-disk.img");
        try (var f = new java.io.RandomAccessFile(img.toFile(), "rw")) {
            f.setLength(1 << 20);
        }
        Path qsock = dir.resolve("qemu-pci.sock");
        Process qemu = new ProcessBuilder(QEMU, "-M", "q35", "-accel", "tcg", "-S", "-nodefaults", "-display", "none",
                "-m", "64", "-drive", "file=" + img + ",if=none,id=d0,format=raw,file.locking=off",
                "-device", "virtio-blk-pci,drive=d0,disable-legacy=on",
                "-qmp", "unix:" + qsock + ",server=on,wait=off")
                .redirectErrorStream(true).redirectOutput(dir.resolve("qemu-pci-out.txt").toFile()).start();
        JsonNode fromQemu;
        try {
            fromQemu = queryPci(qsock);
        } finally {
            qemu.destroyForcibly();
            qemu.waitFor(30, TimeUnit.SECONDS);
        }
        Path guest = QmpSupport.counterGuest(dir);
        Path jsock = dir.resolve("jkvm-pci.sock");
        JsonNode fromJkvm;
        try (JkvmProcess p = JkvmProcess.start("run", "--accel", "kvm", "--memory", "64M", "--kernel",
                guest.toString(), "--disk", "path=" + img + ",id=d0", "--qmp", "unix:" + jsock + ",server=on,wait=off")) {
            assertThat(p.awaitOutput(".", 30)).as("the guest runs").isTrue();
            fromJkvm = queryPci(jsock);
        }
        String both = "\njkvm: " + fromJkvm + "\nqemu: " + fromQemu;
        assertThat(fromJkvm.get("return")).as(both).isNotEmpty();
        JsonNode jBus = fromJkvm.get("return").get(0);
        JsonNode qBus = fromQemu.get("return").get(0);
        assertThat(mismatch(bareBus(jBus), bareBus(qBus), "bus")).as(both).isNull();
        assertThat(mismatch(device(jBus, 0x29c0, 0x0600), device(qBus, 0x29c0, 0x0600), "host bridge"))
                .as(both).isNull();
        JsonNode jDisk = device(jBus, 0x1042, 0x0100);
        JsonNode qDisk = device(qBus, 0x1042, 0x0100);
        assertThat(mismatch(jDisk, qDisk, "virtio-blk")).as(both).isNull();
        assertThat(jDisk.get("id")).isEqualTo(qDisk.get("id"));
        assertThat(jDisk.get("class_info")).isEqualTo(qDisk.get("class_info"));
        // QEMU puts the MSI-X table in a BAR of its own (two regions), jkvm beside the virtio structures (one).
        assertThat(jDisk.get("regions")).as(both).isNotEmpty();
    }

    private static JsonNode queryPci(Path sock) throws Exception {
        long end = System.nanoTime() + 30_000_000_000L;
        while (true) {
            try (QmpClient c = QmpClient.connect(sock.toString())) {
                c.sendRaw("{\"execute\": \"qmp_capabilities\"}\n");
                return c.sendRaw("{\"execute\": \"query-pci\"}\n");
            } catch (java.io.IOException e) {
                if (System.nanoTime() > end) {
                    throw e;
                }
                Thread.sleep(20);
            }
        }
    }

    /** The bus entry without its device list, which {@link #device} compares entry by entry. */
    private static JsonNode bareBus(JsonNode bus) {
        return ((com.fasterxml.jackson.databind.node.ObjectNode) bus.deepCopy()).put("devices", "");
    }

    /** The device on {@code bus} with PCI device ID {@code deviceId} and class {@code classCode}. */
    private static JsonNode device(JsonNode bus, int deviceId, int classCode) {
        for (JsonNode d : bus.get("devices")) {
            if (d.get("id").get("device").asInt() == deviceId && d.get("class_info").get("class").asInt() == classCode) {
                return d;
            }
        }
        throw new AssertionError("no device 0x" + Integer.toHexString(deviceId) + " in " + bus);
    }

    /**
     * Where {@code j}'s structure differs from {@code q}'s (same keys, same JSON types, recursively; arrays by their
     * first elements, an empty array matching any), or null when it does not.
     */
    static String mismatch(JsonNode j, JsonNode q, String path) {
        if (j.getNodeType() != q.getNodeType()) {
            return path + ": " + j.getNodeType() + " vs " + q.getNodeType();
        }
        if (j.isObject()) {
            java.util.Set<String> jk = new java.util.TreeSet<>();
            java.util.Set<String> qk = new java.util.TreeSet<>();
            j.fieldNames().forEachRemaining(jk::add);
            q.fieldNames().forEachRemaining(qk::add);
            if (!jk.equals(qk)) {
                return path + ": keys " + jk + " vs " + qk;
            }
            for (String k : jk) {
                String m = mismatch(j.get(k), q.get(k), path + "." + k);
                if (m != null) {
                    return m;
                }
            }
        } else if (j.isArray() && !j.isEmpty() && !q.isEmpty()) {
            return mismatch(j.get(0), q.get(0), path + "[0]");
        }
        return null;
    }
}
