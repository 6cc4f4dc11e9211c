package org.jkvm.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What happens to a Linux guest's block I/O when the host fails it or jkvm dies (one boot on {@code --accel emu}):
 * a disk image on a full host file system gives the guest I/O errors while jkvm runs on, and data the guest flushed
 * with fsync is in the image even when jkvm is killed with SIGKILL right after.
 */
class BlockDurabilityLinuxTest {
    static final long FULL_IMAGE_BYTES = 64L << 20;
    static final String TMPFS_SIZE = "4m";

    @TempDir
    static Path work;
    static Path tmpfs;
    static boolean mounted;
    static Path full;
    static Path durable;
    static Map<String, String> values;
    static String console;
    static String stderr;
    static boolean aliveAfterErrors;
    static int killedExit;

    @BeforeAll
    static void bootKillAndCollect() throws Exception {
        DebianGuest.images();
        tmpfs = Files.createDirectories(work.resolve("tmpfs"));
        DebianGuest.exec(30, "mount", "-t", "tmpfs", "-o", "size=" + TMPFS_SIZE, "jkvm-it-full", tmpfs.toString());
        mounted = true;
        full = tmpfs.resolve("full.img");
        try (var f = new java.io.RandomAccessFile(full.toFile(), "rw")) {
            f.setLength(FULL_IMAGE_BYTES); // sparse: the tmpfs fills up after about 4 MiB of writes
        }
        durable = work.resolve("durable.img");
        Files.write(durable, new byte[1 << 20]);
        Path initrd = DebianGuest.initrdWith(work, "blk-durability.sh");
        try (JkvmProcess p = DebianGuest.boot(initrd, "--accel", "emu", "--memory", "256M",
                "--disk", "path=" + full, "--disk", "path=" + durable)) {
            assertThat(p.awaitOutput("FSYNCED=yes", 900)).as(p.stdout() + p.stderr()).isTrue();
            aliveAfterErrors = p.process().isAlive();
            p.process().destroyForcibly(); // SIGKILL: no chance to write anything back
            assertThat(p.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
            killedExit = p.process().exitValue();
            console = p.stdout();
            stderr = p.stderr();
        }
        values = DebianGuest.values(console);
    }

    @AfterAll
    static void unmount() throws Exception {
        if (mounted) {
            DebianGuest.exec(30, "umount", tmpfs.toString());
        }
    }

    @Test
    void aFullHostDiskGivesTheGuestIoErrorsAndJkvmRunsOn() {
        assertThat(values).containsEntry("FULL_FAILED", "1");
        int written = Integer.parseInt(values.get("FULL_CHUNKS_WRITTEN"));
        assertThat(written).as("64 KiB chunks before the 4 MiB tmpfs was full").isBetween(8, 64);
        assertThat(Integer.parseInt(values.get("FULL_IOERR_LOGGED"))).as("the kernel logged the I/O error")
                .isPositive();
        assertThat(values.get("FULL_READ_AFTER")).as("the disk still reads after the errors")
                .isEqualTo(values.get("CHUNK_MD5"));
        assertThat(aliveAfterErrors).isTrue();
        assertThat(stderr).doesNotContain("Exception").doesNotContain("needs reset");
    }

    @Test
    void whatTheGuestFlushedSurvivesSigkill() throws Exception {
        assertThat(killedExit).as("killed by SIGKILL").isEqualTo(137);
        assertThat(values).containsEntry("FSYNC_STATUS", "0");
        byte[] image = Files.readAllBytes(durable);
        String md5 = HexFormat.of().formatHex(MessageDigest.getInstance("MD5")
                .digest(Arrays.copyOfRange(image, 16 * 4096, 80 * 4096)));
        assertThat(md5).isEqualTo(values.get("PATTERN_MD5"));
    }
}
