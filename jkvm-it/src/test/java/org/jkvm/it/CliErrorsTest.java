package org.jkvm.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every input jkvm cannot start with gives exit status 2, one clear line on stderr naming the problem, nothing on
 * stdout (no guest output: nothing half-started).
 */
class CliErrorsTest {
    @TempDir
    static Path dir;
    static Path hello;

    @BeforeAll
    static void guest() {
        hello = JkvmProcess.GUESTS.resolve("hello.mb");
        assertThat(hello).exists();
    }

    private static void assertUsageError(JkvmProcess p, String... fragments) {
        assertThat(p.exitCode()).as(p.stderr()).isEqualTo(2);
        assertThat(p.stdout()).isEmpty();
        assertThat(p.stderr().lines().toList()).as(p.stderr()).hasSize(1);
        assertThat(p.stderr()).startsWith("jkvm: ").contains(fragments);
    }

    private static JkvmProcess run(String... args) throws Exception {
        return JkvmProcess.run(60, args);
    }

    @Test
    void missingKernelOption() throws Exception {
        assertUsageError(run("run"), "Missing required option", "--kernel");
    }

    @Test
    void unknownOption() throws Exception {
        assertUsageError(run("run", "--kernel", hello.toString(), "--frobnicate"), "--frobnicate");
    }

    @Test
    void kernelThatDoesNotExist() throws Exception {
        assertUsageError(run("run", "--kernel", dir.resolve("nope").toString()), "no such file");
    }

    @Test
    void kernelThatIsADirectory() throws Exception {
        assertUsageError(run("run", "--kernel", dir.toString()), "is a directory");
    }

    @Test
    void kernelThatIsUnreadable() throws Exception {
        Path f = Files.write(dir.resolve("secret"), new byte[] {1});
        Files.setPosixFilePermissions(f, java.util.Set.of());
        JkvmProcess p;
        if ("root".equals(System.getProperty("user.name"))) {
            assumeRootWithUnshare(); // root reads any file unless it gives up CAP_DAC_OVERRIDE
            p = JkvmProcess.startWrapped(List.of("setpriv", "--bounding-set=-dac_override,-dac_read_search",
                    "--inh-caps=-dac_override,-dac_read_search"), "run", "--kernel", f.toString());
            p.stdin().close();
            p.waitFor(60);
        } else {
            p = run("run", "--kernel", f.toString());
        }
        assertUsageError(p, "permission denied");
    }

    @Test
    void kernelThatIsNotAKernel() throws Exception {
        byte[] junk = new byte[64 * 1024];
        new Random(7).nextBytes(junk);
        Path f = Files.write(dir.resolve("junk.bin"), junk);
        assertUsageError(run("run", "--accel", "kvm", "--kernel", f.toString()), "junk.bin");
    }

    @Test
    void truncatedBzImage() throws Exception {
        byte[] b = new byte[0x260];
        b[0x1fe] = 0x55;
        b[0x1ff] = (byte) 0xaa;
        b[0x202] = 'H';
        b[0x203] = 'd';
        b[0x204] = 'r';
        b[0x205] = 'S';
        b[0x206] = 0x0f; // protocol 2.15
        b[0x207] = 0x02;
        b[0x1f1] = 30; // setup_sects beyond the file
        Path f = Files.write(dir.resolve("truncated-bzImage"), b);
        assertUsageError(run("run", "--accel", "kvm", "--kernel", f.toString()), "truncated-bzImage");
    }

    @Test
    void badMemorySizes() throws Exception {
        assertUsageError(run("run", "--kernel", hello.toString(), "--memory", "12X"), "invalid size");
        assertUsageError(run("run", "--kernel", hello.toString(), "--memory", "16M"), "minimum of 64 MiB");
        assertUsageError(run("run", "--kernel", hello.toString(), "--memory", "65M"), "multiple of 2 MiB");
        assertUsageError(run("run", "--kernel", hello.toString(), "--memory", "99999999999999999999"), "too large");
    }

    @Test
    void memoryBeyondTheHost() throws Exception {
        assertUsageError(run("run", "--kernel", hello.toString(), "--memory", "1T"), "more than this host's");
    }

    @Test
    void tooManyOrTooFewCpus() throws Exception {
        assertUsageError(run("run", "--kernel", hello.toString(), "--cpus", "0"), "--cpus 0");
        assertUsageError(run("run", "--kernel", hello.toString(), "--cpus", "300"), "between 1 and 255");
        assertUsageError(run("run", "--kernel", hello.toString(), "--cpus", "many"), "--cpus");
    }

    @Test
    void unknownAccelerator() throws Exception {
        assertUsageError(run("run", "--kernel", hello.toString(), "--accel", "hvf"), "unknown accelerator 'hvf'");
    }

    /**
     * A private mount namespace whose /dev holds only what the JVM needs, so /dev/kvm is missing or cannot be
     * opened. Needs root and unshare (util-linux).
     */
    private static List<String> privateDev(boolean withKvm, boolean dropDac) {
        String mk = "mount -t tmpfs none /dev && mknod -m 666 /dev/null c 1 3 && mknod -m 666 /dev/zero c 1 5"
                + " && mknod -m 666 /dev/urandom c 1 9 && mknod -m 666 /dev/random c 1 8"
                + (withKvm ? " && mknod -m 000 /dev/kvm c 10 232" : "");
        // Without CAP_DAC_OVERRIDE even root is refused a mode-000 node, yet still reads its own files (the JDK, ~/.m2).
        String exec = dropDac ? "exec setpriv --bounding-set=-dac_override,-dac_read_search"
                + " --inh-caps=-dac_override,-dac_read_search \"$@\"" : "exec \"$@\"";
        return List.of("unshare", "--mount", "--propagation", "private", "sh", "-c", mk + " && " + exec, "sh");
    }

    private static void assumeRootWithUnshare() {
        boolean ok = "root".equals(System.getProperty("user.name")) && Files.isExecutable(Path.of("/usr/bin/unshare"));
        if (!"true".equals(System.getenv("CI"))) {
            assumeTrue(ok, "needs root and unshare");
        }
    }

    @Test
    void noDevKvm() throws Exception {
        assumeRootWithUnshare();
        JkvmProcess p = JkvmProcess.startWrapped(privateDev(false, false), "run", "--accel", "kvm",
                "--kernel", hello.toString());
        p.stdin().close();
        p.waitFor(60);
        assertUsageError(p, "/dev/kvm does not exist");
    }

    @Test
    void noPermissionOnDevKvm() throws Exception {
        assumeRootWithUnshare();
        JkvmProcess p = JkvmProcess.startWrapped(privateDev(true, true), "run", "--accel", "kvm",
                "--kernel", hello.toString());
        p.stdin().close();
        p.waitFor(60);
        assertUsageError(p, "no permission to open /dev/kvm");
    }
}
