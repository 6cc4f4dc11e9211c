package org.jkvm.loader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

/**
 * Loads the Debian cloud kernel from the image cache (scripts/guest-images.sh builds it; .ci/run does so before the
 * tests). Skipped when absent, except under CI=true, where a missing kernel fails.
 */
class DebianKernelTest extends LoaderTestBase {
    static Path debianKernel() {
        String cache = System.getenv("XDG_CACHE_HOME");
        Path base = cache != null && !cache.isEmpty() ? Path.of(cache) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("jkvm/images/debian-cloud/vmlinuz");
    }

    @Test
    void loadsTheDebianKernel() throws Exception {
        Path kernel = debianKernel();
        if (!"true".equals(System.getenv("CI"))) {
            assumeTrue(Files.isRegularFile(kernel), "no Debian kernel at " + kernel);
        }
        useLayout(512 * MIB);
        assertThat(KernelLoader.detect(kernel)).isEqualTo(KernelFormat.BZIMAGE);
        LoadedKernel k = load(kernel, "console=ttyS0", null);
        assertThat(k.entryMode()).isEqualTo(EntryMode.LINUX_64);
        assertThat(k.entryGpa() - 0x200).isEqualTo(k.kernelStartGpa());
        assertThat(k.kernelStartGpa() % (2 * MIB)).isZero();
        assertThat(TestImages.le(zeroPage()).getInt(0x202)).isEqualTo(0x53726448);
        assertThat(cString(BootMemoryMap.CMDLINE)).isEqualTo("console=ttyS0");
        byte[] head = Files.readAllBytes(kernel);
        int setupBytes = ((head[0x1f1] & 0xff) + 1) * 512;
        assertThat(read(k.kernelStartGpa(), 4096)).as("the protected-mode code, copied from the file")
                .isEqualTo(java.util.Arrays.copyOfRange(head, setupBytes, setupBytes + 4096));
    }
}
