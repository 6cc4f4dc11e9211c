package org.jkvm.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What survives when jkvm dies (one boot on {@code --accel emu}): data the guest flushed with fsync is in the disk
 * image even when jkvm is killed with SIGKILL right after, and so is what the guest wrote to a virtio console with a
 * {@code file=} backend. (A full host disk is in {@link VirtioBlkLinuxTest}, whose boot ends in a clean power-off.)
 */
class BlockDurabilityLinuxTest {
    @TempDir
    static Path work;
    static Path durable;
    static Path hvcFile;
    static Map<String, String> values;
    static String console;
    static String stderr;
    static int killedExit;

    @BeforeAll
    static void bootKillAndCollect() throws Exception {
        DebianGuest.images();
        durable = work.resolve("durable.img");
        Files.write(durable, new byte[1 << 20]);
        hvcFile = work.resolve("hvc0.log");
        Path initrd = DebianGuest.initrdWith(work, "blk-durability.sh");
        try (JkvmProcess p = DebianGuest.boot(initrd, "--accel", "emu", "--memory", "256M",
                "--disk", "path=" + durable, "--console-dev", "file=" + hvcFile)) {
            assertThat(p.awaitOutput("FSYNCED=yes", 900)).as(p.stdout() + p.stderr()).isTrue();
            p.process().destroyForcibly(); // SIGKILL: no chance to write anything back
            assertThat(p.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
            killedExit = p.process().exitValue();
            console = p.stdout();
            stderr = p.stderr();
        }
        values = DebianGuest.values(console);
    }

    @Test
    void whatTheGuestFlushedSurvivesSigkill() throws Exception {
        assertThat(killedExit).as("killed by SIGKILL").isEqualTo(137);
        assertThat(values).containsEntry("FSYNC_STATUS", "0");
        byte[] image = Files.readAllBytes(durable);
        String md5 = HexFormat.of().formatHex(MessageDigest.getInstance("MD5")
                .digest(Arrays.copyOfRange(image, 16 * 4096, 80 * 4096)));
        assertThat(md5).isEqualTo(values.get("PATTERN_MD5"));
        assertThat(stderr).doesNotContain("Exception").doesNotContain("needs reset");
    }

    @Test
    void whatTheGuestWroteToHvc0IsInTheConsoleFile() throws Exception {
        assertThat(values).containsEntry("HVC_STATUS", "0");
        // hvc0 opened without raw mode: the tty turns \n into \r\n
        assertThat(Files.readString(hvcFile)).isEqualTo("HVC0-TO-FILE-BEFORE-KILL\r\n");
    }
}
