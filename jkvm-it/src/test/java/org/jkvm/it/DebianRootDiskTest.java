package org.jkvm.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * A full Debian 12 system (scripts/debian-image.sh: debootstrap, systemd, the image's own kernel and initrd) booted
 * from a raw disk on virtio-blk ({@code root=/dev/vda}) on the software CPU to systemd's multi-user target, then
 * powered off by its jkvm-ready service. Slow (many minutes on emu), so only with {@code -Pslow}:
 * {@code ./mvnw -o verify -pl jkvm-it -am -Pslow -Dtest=DebianRootDiskTest -Dsurefire.failIfNoSpecifiedTests=false}.
 * The image is built on first use (root and Debian's mirror needed) and booted from a sparse copy, so the cached one
 * stays pristine.
 */
@EnabledIfSystemProperty(named = "jkvm.slow", matches = "true", disabledReason = "slow: run with -Pslow")
class DebianRootDiskTest {
    static final Pattern READY = Pattern.compile("JKVM-DEBIAN-READY uptime=([0-9.]+) units-failed=([0-9]+)");

    @TempDir
    Path work;

    @Test
    void debianBootsFromVirtioBlkToMultiUserAndPowersOff() throws Exception {
        if (!"true".equals(System.getenv("CI"))) {
            assumeTrue(Files.isExecutable(Path.of("/usr/bin/apt-get")), "not a Debian host");
        }
        Path script = DebianGuest.SCRIPTS.resolve("debian-image.sh");
        DebianGuest.exec(1800, script.toString());
        Path dir = Path.of(DebianGuest.exec(30, script.toString(), "--print-dir").strip());
        Path disk = work.resolve("root.img");
        DebianGuest.exec(300, "cp", "--sparse=always", dir.resolve("root.img").toString(), disk.toString());

        long start = System.nanoTime();
        try (JkvmProcess p = JkvmProcess.start("run", "--accel", "emu", "--memory", "1G",
                "--kernel", dir.resolve("vmlinuz").toString(), "--initrd", dir.resolve("initrd.img").toString(),
                "--disk", "path=" + disk,
                "--cmdline", "root=/dev/vda rw console=ttyS0 panic=0 jkvm.poweroff=1")) {
            p.stdin().close();
            assertThat(p.awaitOutput("JKVM-DEBIAN-READY", 3600)).as(p.stdout() + p.stderr()).isTrue();
            double readyAt = (System.nanoTime() - start) / 1e9;
            int exit = p.waitFor(600);
            double offAt = (System.nanoTime() - start) / 1e9;
            String console = p.stdout();
            Matcher m = READY.matcher(console);
            assertThat(m.find()).as(console).isTrue();
            System.out.printf("Debian 12 on emu: multi-user after %.0f s (guest uptime %s s), powered off after %.0f s,"
                    + " %s failed units%n", readyAt, m.group(1), offAt, m.group(2));
            // systemd colours its status lines: "Reached target \e[0;1;39mmulti-user.target\e[0m"
            assertThat(console).containsPattern("Reached target \\S*multi-user\\.target")
                    .contains("EXT4-fs (vda): mounted filesystem");
            assertThat(m.group(2)).as("failed units").isEqualTo("0");
            assertThat(exit).as(p.stderr()).isZero();
            assertThat(p.stderr()).doesNotContain("needs reset").doesNotContain("Exception");
        }
    }
}
