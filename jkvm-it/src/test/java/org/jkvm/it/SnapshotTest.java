package org.jkvm.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

import com.fasterxml.jackson.databind.JsonNode;

import org.jkvm.api.qmp.QmpClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Snapshots end to end (docs/snapshot.md) with guests/counter (PIT -> IOAPIC -> LAPIC ticks, "count N" on COM1 every
 * 10 ticks, N kept in R12, R13 and RAM): a jkvm process saves it through QMP ({@code stop}, {@code migrate
 * file:DIR}) and exits; new processes restore it ({@code --restore}, {@code --incoming file:}) and the count goes on
 * from the next number, on the same or the other backend; one snapshot restores twice at once; broken snapshots are
 * refused before anything starts; the golden snapshot in jkvm-vmm's test resources restores.
 */
class SnapshotTest {
    private static final Path COUNTER = JkvmProcess.GUESTS.resolve("counter.elf");
    private static final Pattern COUNT = Pattern.compile("count (\\d+)\n");

    private static void needKvm() {
        if (!"true".equals(System.getenv("CI"))) {
            assumeTrue(Files.exists(Path.of("/dev/kvm")), "no /dev/kvm");
        }
    }

    /** Boots the counter on {@code accel}, saves it at count >= 3 into {@code snap}; returns the N it was saved at. */
    private static long save(Path tmp, String accel, Path snap) throws Exception {
        Path sock = tmp.resolve("qmp-" + accel + ".sock");
        try (JkvmProcess p = JkvmProcess.start("run", "--accel", accel, "--memory", "64M", "--kernel",
                COUNTER.toString(), "--qmp", "unix:" + sock + ",server,nowait")) {
            assertThat(p.awaitOutput("count 3\n", 60)).as(p.stderr()).isTrue();
            try (QmpClient c = QmpSupport.connect(sock, 10)) {
                assertThat(QmpSupport.cmd(c, "stop").has("return")).isTrue();
                JsonNode r = QmpSupport.cmd(c, "migrate", "{\"uri\": \"file:" + snap + "\"}");
                assertThat(r.has("return")).as(r.toString()).isTrue();
                JsonNode info = QmpSupport.cmd(c, "query-migrate").get("return");
                assertThat(info.get("status").asText()).isEqualTo("completed");
                assertThat(info.get("ram").get("total").asLong()).isEqualTo(64L << 20);
                Thread.sleep(100); // the console flushes buffered output within 10 ms
                long last = lastCount(p.stdout());
                QmpSupport.cmd(c, "quit");
                assertThat(p.waitFor(20)).isZero();
                assertThat(lastCount(p.stdout())).as("nothing runs after stop").isEqualTo(last);
                return last;
            }
        }
    }

    private static long lastCount(String out) {
        Matcher m = COUNT.matcher(out);
        long last = -1;
        while (m.find()) {
            last = Long.parseLong(m.group(1));
        }
        return last;
    }

    private static long firstCount(String out) {
        Matcher m = COUNT.matcher(out);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    /** Restores {@code snap} on {@code accel}; checks the count goes on from {@code savedAt + 1} for 3 more. */
    private static void restoreAndCheck(Path snap, String accel, long savedAt, String... how) throws Exception {
        String[] args = how.length > 0 ? how : new String[] {"--restore", snap.toString()};
        String[] cmd = new String[4 + args.length];
        cmd[0] = "run";
        cmd[1] = "--accel";
        cmd[2] = accel;
        System.arraycopy(args, 0, cmd, 3, args.length);
        cmd[cmd.length - 1] = "--name=restored";
        try (JkvmProcess p = JkvmProcess.start(cmd)) {
            assertThat(p.awaitOutput("count " + (savedAt + 3) + "\n", 60)).as(p.stdout() + p.stderr()).isTrue();
            assertThat(firstCount(p.stdout())).as(p.stdout()).isEqualTo(savedAt + 1);
            assertThat(p.stdout()).doesNotContain("FAIL");
            p.stdin().write('x');
            p.stdin().flush();
            assertThat(p.awaitOutput("rx x\n", 20)).as("the console works after restore: " + p.stdout()).isTrue();
        }
    }

    @Test
    void emuSnapshotRestoresInNewProcessesTwiceAtOnce(@TempDir Path tmp) throws Exception {
        Path snap = tmp.resolve("snap");
        long n = save(tmp, "emu", snap);
        assertThat(n).isGreaterThanOrEqualTo(3);
        assertThat(Files.size(snap.resolve("memory"))).isEqualTo(64L << 20);
        // Two clones of one snapshot at the same time: each maps the RAM file privately.
        Thread other = Thread.ofPlatform().start(() -> {
            try {
                restoreAndCheck(snap, "emu", n, "--incoming", "file:" + snap);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        restoreAndCheck(snap, "emu", n);
        other.join(90_000);
        restoreAndCheck(snap, "emu", n); // and again afterwards: the file is unchanged
    }

    @Test
    void emuToKvm(@TempDir Path tmp) throws Exception {
        needKvm();
        Path snap = tmp.resolve("snap");
        long n = save(tmp, "emu", snap);
        restoreAndCheck(snap, "kvm", n);
    }

    @Test
    void kvmToEmuAndKvm(@TempDir Path tmp) throws Exception {
        needKvm();
        Path snap = tmp.resolve("snap");
        long n = save(tmp, "kvm", snap);
        restoreAndCheck(snap, "emu", n);
        restoreAndCheck(snap, "kvm", n);
    }

    /** x-jkvm-snapshot-save then, later, x-jkvm-snapshot-load in the same process: the count goes back. */
    @Test
    void loadReplacesTheRunningVm(@TempDir Path tmp) throws Exception {
        Path sock = tmp.resolve("qmp.sock");
        Path snap = tmp.resolve("snap");
        try (JkvmProcess p = JkvmProcess.start("run", "--accel", "emu", "--memory", "64M", "--kernel",
                COUNTER.toString(), "--qmp", "unix:" + sock + ",server,nowait")) {
            assertThat(p.awaitOutput("count 2\n", 60)).as(p.stderr()).isTrue();
            try (QmpClient c = QmpSupport.connect(sock, 10)) {
                JsonNode r = QmpSupport.cmd(c, "x-jkvm-snapshot-save", "{\"path\": \"" + snap + "\"}");
                assertThat(r.path("return").path("ram-bytes").asLong()).as(r.toString()).isEqualTo(64L << 20);
                long saved = lastCount(p.stdout());
                assertThat(p.awaitOutput("count " + (saved + 4) + "\n", 60)).isTrue();
                JsonNode bad = QmpSupport.cmd(c, "x-jkvm-snapshot-load", "{\"path\": \"" + tmp.resolve("none") + "\"}");
                assertThat(bad.path("error").path("desc").asText()).contains("cannot read snapshot state");
                int before = p.stdout().length();
                assertThat(QmpSupport.cmd(c, "x-jkvm-snapshot-load", "{\"path\": \"" + snap + "\"}").has("return"))
                        .isTrue();
                long deadline = System.nanoTime() + 60_000_000_000L;
                while (!p.stdout().substring(before).contains("count " + (saved + 2) + "\n")
                        && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                String after = p.stdout().substring(before);
                assertThat(after).contains("count " + (saved + 1) + "\n", "count " + (saved + 2) + "\n");
                assertThat(QmpSupport.cmd(c, "query-status").get("return").get("status").asText())
                        .isEqualTo("running");
                QmpSupport.cmd(c, "quit");
                assertThat(p.waitFor(20)).isZero();
            }
        }
    }

    /** The golden snapshot (jkvm-vmm/src/test/resources/snapshot/golden-v1, saved at count 21) still restores. */
    @Test
    void goldenSnapshotRestores(@TempDir Path tmp) throws Exception {
        Path snap = golden(tmp);
        restoreAndCheck(snap, "emu", 21);
    }

    static Path golden(Path tmp) throws IOException {
        Path src = Path.of("../jkvm-vmm/src/test/resources/snapshot/golden-v1");
        Path snap = tmp.resolve("golden");
        Files.createDirectories(snap);
        Files.copy(src.resolve("vmstate"), snap.resolve("vmstate"));
        try (InputStream in = new GZIPInputStream(Files.newInputStream(src.resolve("memory.gz")))) {
            Files.copy(in, snap.resolve("memory"), StandardCopyOption.REPLACE_EXISTING);
        }
        return snap;
    }

    @Test
    void brokenSnapshotsAreRefusedBeforeAnythingStarts(@TempDir Path tmp) throws Exception {
        Path snap = golden(tmp);
        byte[] state = Files.readAllBytes(snap.resolve("vmstate"));

        byte[] corrupt = state.clone();
        corrupt[200] ^= 1;
        Files.write(snap.resolve("vmstate"), corrupt);
        refused(snap, "checksum mismatch");

        Files.write(snap.resolve("vmstate"), java.util.Arrays.copyOf(state, state.length - 10));
        refused(snap, "truncated");

        byte[] newer = state.clone();
        ByteBuffer.wrap(newer).order(ByteOrder.LITTLE_ENDIAN).putInt(8, 2);
        Files.write(snap.resolve("vmstate"), newer);
        refused(snap, "snapshot format version 2 is newer than this jkvm reads (1)");

        Files.write(snap.resolve("vmstate"), state);
        try (var ch = java.nio.channels.FileChannel.open(snap.resolve("memory"),
                java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(32L << 20);
        }
        refused(snap, "holds 33554432 bytes, not the 67108864");

        Files.delete(snap.resolve("vmstate"));
        refused(snap, "cannot read snapshot state");
    }

    private static void refused(Path snap, String reason) throws Exception {
        try (JkvmProcess p = JkvmProcess.run(30, "run", "--accel", "emu", "--restore", snap.toString())) {
            assertThat(p.exitCode()).as(p.stderr()).isEqualTo(2);
            assertThat(p.stderr()).contains(reason);
            assertThat(p.stdout()).isEmpty();
        }
    }

    @Test
    void restoreTakesNoMachineOptions(@TempDir Path tmp) throws Exception {
        Path snap = golden(tmp);
        try (JkvmProcess p = JkvmProcess.run(30, "run", "--accel", "emu", "--restore", snap.toString(),
                "--memory", "128M")) {
            assertThat(p.exitCode()).isEqualTo(2);
            assertThat(p.stderr()).contains("--memory cannot be used with --restore");
        }
        String s = new String(Files.readAllBytes(snap.resolve("vmstate")), StandardCharsets.UTF_8);
        assertThat(s).contains("\"backend\":\"emu\"");
    }
}
