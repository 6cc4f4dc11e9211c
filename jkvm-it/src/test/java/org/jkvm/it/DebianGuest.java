package org.jkvm.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Debian guest of scripts/guest-images.sh (Debian's cloud kernel and a busybox initramfs) booted by jkvm with a
 * test script: the script becomes /jkvm-test.sh in an archive appended to the initramfs (scripts/mkinitrd-test.sh),
 * and the image's /init runs it after printing {@value #INIT_MARKER}, prints {@code JKVM-TEST-EXIT=<status>}, syncs
 * and powers off. Scripts report what they see as {@code KEY=VALUE} lines on the serial console ({@link #values}).
 * Booting takes a minute or more on the software CPU, so a test class boots once and checks many things.
 */
final class DebianGuest {
    static final String INIT_MARKER = "JKVM-INIT-OK";
    static final String TEST_EXIT = "JKVM-TEST-EXIT=";
    static final Path SCRIPTS = JkvmProcess.GUESTS.resolve("../../scripts").normalize();
    private static final Pattern VALUE = Pattern.compile("^([A-Z][A-Z0-9_]*)=(.*?)\\r?$", Pattern.MULTILINE);

    private static Path imagesDir;

    private DebianGuest() {}

    /**
     * Builds the images if needed (idempotent; downloads from Debian on first use) and returns their directory.
     * Skips the calling test on a host without apt-get, except under CI=true, where that is a failure.
     */
    static synchronized Path images() throws Exception {
        if (imagesDir == null) {
            if (!"true".equals(System.getenv("CI"))) {
                assumeTrue(Files.isExecutable(Path.of("/usr/bin/apt-get")), "not a Debian host");
            }
            exec(900, SCRIPTS.resolve("guest-images.sh").toString());
            imagesDir = Path.of(exec(30, SCRIPTS.resolve("guest-images.sh").toString(), "--print-dir").strip());
        }
        return imagesDir;
    }

    static Path kernel() throws Exception {
        return images().resolve("vmlinuz");
    }

    /** The image's initramfs followed by an archive holding the test resource {@code linux/<script>}. */
    static Path initrdWith(Path workDir, String script) throws Exception {
        Path sh = workDir.resolve(script);
        try (InputStream in = DebianGuest.class.getResourceAsStream("/linux/" + script)) {
            assertThat(in).as("test resource linux/" + script).isNotNull();
            Files.write(sh, in.readAllBytes());
        }
        Path extra = workDir.resolve(script + ".cpio.gz");
        exec(60, SCRIPTS.resolve("mkinitrd-test.sh").toString(), extra.toString(), sh.toString());
        Path initrd = workDir.resolve(script + ".initrd");
        try (OutputStream out = Files.newOutputStream(initrd)) {
            Files.copy(images().resolve("initramfs.cpio.gz"), out);
            Files.copy(extra, out);
        }
        return initrd;
    }

    /** Starts {@code jkvm run} on the kernel with {@code initrd}, a serial console, and {@code extra} options. */
    static JkvmProcess boot(Path initrd, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("run", "--kernel", kernel().toString(), "--initrd",
                initrd.toString(), "--cmdline", "console=ttyS0 panic=0"));
        args.addAll(List.of(extra));
        JkvmProcess p = JkvmProcess.start(args.toArray(String[]::new));
        p.stdin().close();
        return p;
    }

    /** Every {@code KEY=VALUE} line of {@code console}; a key printed twice keeps its last value. */
    static Map<String, String> values(String console) {
        Map<String, String> m = new LinkedHashMap<>();
        Matcher x = VALUE.matcher(console);
        while (x.find()) {
            m.put(x.group(1), x.group(2));
        }
        return m;
    }

    /** Runs a host command, failing the test unless it exits 0 in time; returns its output. */
    static String exec(long timeoutSeconds, String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(timeoutSeconds, TimeUnit.SECONDS)).as(String.join(" ", cmd)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", cmd) + "\n" + out).isZero();
        return out;
    }

    /** CPU time (user + system) the process {@code pid} has used, in seconds, from /proc/PID/stat. */
    static double cpuSeconds(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        // Fields 14 and 15 of proc(5) (utime, stime), counted from the state field (3) after the command name.
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
    }
}
