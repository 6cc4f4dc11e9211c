package org.jkvm.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jkvm.it.QmpSupport.awaitEvent;
import static org.jkvm.it.QmpSupport.cmd;
import static org.jkvm.it.QmpSupport.connect;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;

import org.jkvm.api.qmp.QmpClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --disk} around the guest (on the software CPU, with a tiny guest: no Linux boot needed): the image stays
 * locked while jkvm runs and a second writer is refused with QEMU's words; a reset rebuilds the machine and reopens
 * the disk; bad specifications are usage errors (exit 2) naming the option.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DiskCliTest {
    @TempDir
    Path dir;

    private Path image(String name) throws Exception {
        Path p = dir.resolve(name);
        Files.write(p, new byte[1 << 20]);
        return p;
    }

    @Test
    void theImageIsLockedAndAResetReopensIt() throws Exception {
        Path img = image("locked.img");
        Path sock = dir.resolve("disk.sock");
        Path guest = QmpSupport.counterGuest(dir);
        try (JkvmProcess p = JkvmProcess.start("run", "--accel", "emu", "--memory", "64M", "--kernel",
                guest.toString(), "--disk", "path=" + img + ",id=d0", "--qmp", "unix:" + sock + ",server=on,wait=off");
             QmpClient c = connect(sock, 30)) {
            assertThat(p.awaitOutput(".", 30)).isTrue();
            JsonNode block = cmd(c, "query-block").get("return");
            assertThat(block).hasSize(1);
            assertThat(block.get(0).get("qdev").asText()).isEqualTo("/machine/peripheral/d0/virtio-backend");

            JkvmProcess second = JkvmProcess.run(60, "run", "--accel", "emu", "--memory", "64M", "--kernel",
                    guest.toString(), "--disk", "path=" + img);
            assertThat(second.exitCode()).isEqualTo(2);
            assertThat(second.stderr()).contains("--disk " + img).contains("Failed to get \"write\" lock");
            JkvmProcess reader = JkvmProcess.run(60, "run", "--accel", "emu", "--memory", "64M", "--kernel",
                    guest.toString(), "--disk", "path=" + img + ",readonly=on");
            assertThat(reader.exitCode()).isEqualTo(2);
            assertThat(reader.stderr()).contains("Failed to get shared \"write\" lock");

            assertThat(cmd(c, "system_reset").toString()).isEqualTo("{\"return\":{}}");
            awaitEvent(c, "RESET", 10);
            int before = p.stdout().length();
            long end = System.nanoTime() + 30_000_000_000L;
            while (p.stdout().length() == before && System.nanoTime() < end) {
                Thread.sleep(20);
            }
            assertThat(p.process().isAlive()).as(p.stderr()).isTrue(); // the new machine reopened the image
            assertThat(cmd(c, "query-block").get("return").get(0).get("inserted").get("file").asText())
                    .isEqualTo(img.toString());
            JsonNode devices = cmd(c, "query-pci").get("return").get(0).get("devices");
            assertThat(devices.get(1).get("id").get("device").asInt()).isEqualTo(0x1042);
            assertThat(devices.get(1).get("qdev_id").asText()).isEqualTo("d0");
            cmd(c, "quit");
            assertThat(p.waitFor(30)).isZero();
        }
    }

    @Test
    void badDiskSpecificationsAreUsageErrors() throws Exception {
        Path guest = QmpSupport.counterGuest(dir);
        Path img = image("ok.img");
        String[][] cases = {
            {"path=" + dir.resolve("missing.img"), "--disk " + dir.resolve("missing.img") + ": no such file"},
            {"path=" + img + ",colour=blue", "--disk path=" + img + ",colour=blue: "},
            {"readonly=on", "--disk readonly=on: "},
            {"path=" + img + ",serial=" + "x".repeat(21), "longer than 20 characters"},
        };
        for (String[] c : cases) {
            JkvmProcess p = JkvmProcess.run(60, "run", "--accel", "emu", "--memory", "64M", "--kernel",
                    guest.toString(), "--disk", c[0]);
            assertThat(p.exitCode()).as(c[0]).isEqualTo(2);
            assertThat(p.stderr()).as(c[0]).startsWith("jkvm: ").contains(c[1]);
            assertThat(p.stdout()).isEmpty();
        }
        JkvmProcess dup = JkvmProcess.run(60, "run", "--accel", "emu", "--memory", "64M", "--kernel",
                guest.toString(), "--disk", "path=" + img + ",id=a", "--disk", "path=" + image("b.img") + ",id=a");
        assertThat(dup.exitCode()).isEqualTo(2);
        assertThat(dup.stderr()).contains("duplicate id 'a'");
    }
}
