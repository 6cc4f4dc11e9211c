package org.jkvm.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;

import org.jkvm.api.qmp.QmpClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Linux on emu through a snapshot (one boot): Debian's kernel runs linux/snapshot.sh, a counter that writes each
 * number to its virtio-blk disk; jkvm saves it through QMP (stop, migrate file:) and exits; a new jkvm process
 * restores it: the counter goes on from the next number, the guest's clock is within seconds of the host's, the
 * disk writes made after the restore land in the image, and the serial console takes input.
 */
class SnapshotLinuxTest {
    private static final Pattern TICK = Pattern.compile("TICK=(\\d+) EPOCH=(\\d+)");

    private static long[] lastTick(String console) {
        Matcher m = TICK.matcher(console);
        long[] last = {-1, -1};
        while (m.find()) {
            last[0] = Long.parseLong(m.group(1));
            last[1] = Long.parseLong(m.group(2));
        }
        return last;
    }

    private static long[] firstTick(String console) {
        Matcher m = TICK.matcher(console);
        return m.find() ? new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))} : new long[] {-1, -1};
    }

    private static String sector(Path image, long n) throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "r")) {
            byte[] b = new byte[16];
            f.seek(n * 512);
            f.readFully(b);
            return new String(b, StandardCharsets.US_ASCII).split("\n")[0];
        }
    }

    @Test
    void linuxCounterAndDiskGoOnInANewProcess(@TempDir Path tmp) throws Exception {
        Path initrd = DebianGuest.initrdWith(tmp, "snapshot.sh");
        Path vda = tmp.resolve("vda.img");
        try (RandomAccessFile f = new RandomAccessFile(vda.toFile(), "rw")) {
            f.setLength(16L << 20);
        }
        Path sock = tmp.resolve("qmp.sock");
        Path snap = tmp.resolve("snap");
        long savedAt;
        long t0 = System.nanoTime();
        try (JkvmProcess p = JkvmProcess.start("run", "--accel", "emu", "--kernel", DebianGuest.kernel().toString(),
                "--initrd", initrd.toString(), "--cmdline", "console=ttyS0 panic=0", "--memory", "256M",
                "--disk", "path=" + vda, "--qmp", "unix:" + sock + ",server,nowait")) {
            assertThat(p.awaitOutput("TICK=3 ", 420)).as(p.stdout() + p.stderr()).isTrue();
            System.out.printf("boot to TICK=3: %.1f s%n", (System.nanoTime() - t0) / 1e9);
            assertThat(p.stdout()).contains("VDA_SIZE=32768");
            try (QmpClient c = QmpSupport.connect(sock, 10)) {
                assertThat(QmpSupport.cmd(c, "stop").has("return")).isTrue();
                long s0 = System.nanoTime();
                JsonNode r = QmpSupport.cmd(c, "migrate", "{\"uri\": \"file:" + snap + "\"}");
                assertThat(r.has("return")).as(r.toString()).isTrue();
                System.out.printf("snapshot of 256 MiB: %.0f ms, %s%n", (System.nanoTime() - s0) / 1e6,
                        QmpSupport.cmd(c, "query-migrate").get("return"));
                Thread.sleep(100);
                savedAt = lastTick(p.stdout())[0];
                QmpSupport.cmd(c, "quit");
                assertThat(p.waitFor(30)).isZero();
            }
        }
        assertThat(sector(vda, savedAt)).isEqualTo("block-" + savedAt);
        long r0 = System.nanoTime();
        try (JkvmProcess p = JkvmProcess.start("run", "--accel", "emu", "--restore", snap.toString())) {
            long next = savedAt + 1;
            assertThat(p.awaitOutput("TICK=" + next + " ", 60)).as(p.stdout() + p.stderr()).isTrue();
            System.out.printf("restore to the next tick: %.1f s%n", (System.nanoTime() - r0) / 1e9);
            assertThat(firstTick(p.stdout())[0]).as(p.stdout()).isEqualTo(next);
            assertThat(p.awaitOutput("TICK=" + (next + 2) + " ", 60)).as(p.stdout() + p.stderr()).isTrue();
            long[] t = lastTick(p.stdout());
            long hostNow = System.currentTimeMillis() / 1000;
            assertThat(Math.abs(hostNow - t[1])).as("guest clock %d vs host %d", t[1], hostNow).isLessThan(20);
            p.stdin().write("hello-after-restore\n".getBytes(StandardCharsets.US_ASCII));
            p.stdin().flush();
            assertThat(p.awaitOutput("GOT=hello-after-restore", 30)).as(p.stdout()).isTrue();
            long written = lastTick(p.stdout())[0];
            Thread.sleep(500);
            assertThat(sector(vda, written)).isEqualTo("block-" + written);
            assertThat(sector(vda, next)).isEqualTo("block-" + next);
        }
    }
}
