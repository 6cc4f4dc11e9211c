package org.jkvm.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.jkvm.loader.BootConfig;
import org.jkvm.loader.EntryMode;
import org.jkvm.loader.KernelFormat;
import org.jkvm.loader.KernelLoader;
import org.jkvm.loader.LoadedKernel;
import org.jkvm.memory.GuestMemory;
import org.jkvm.memory.MmapGuestMemory;
import org.jkvm.memory.PcMemoryLayout;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Debian guest images scripts/guest-images.sh builds from Debian packages: the cloud kernel loads with jkvm's
 * bzImage loader together with the initramfs, and the initramfs holds busybox, /init with the boot marker, and the
 * virtio modules with their modules.dep. The script runs here (it is idempotent: quick when up to date); skipped
 * when apt-get is missing, except under CI=true.
 */
class GuestImagesTest {
    static final Path SCRIPT = JkvmProcess.GUESTS.resolve("../../scripts/guest-images.sh").normalize();
    static Path dir;

    private static String exec(long timeoutSeconds, String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(timeoutSeconds, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", cmd) + "\n" + out).isZero();
        return out;
    }

    @BeforeAll
    static void buildImages() throws Exception {
        if (!"true".equals(System.getenv("CI"))) {
            assumeTrue(Files.isExecutable(Path.of("/usr/bin/apt-get")), "not a Debian host");
        }
        exec(600, SCRIPT.toString());
        dir = Path.of(exec(30, SCRIPT.toString(), "--print-dir").strip());
    }

    @Test
    void kernelAndInitrdLoadWithJkvmsLoader() throws Exception {
        Path kernel = dir.resolve("vmlinuz");
        Path initrd = dir.resolve("initramfs.cpio.gz");
        assertThat(KernelLoader.detect(kernel)).isEqualTo(KernelFormat.BZIMAGE);
        PcMemoryLayout layout = PcMemoryLayout.of(512L << 20);
        try (GuestMemory mem = MmapGuestMemory.create(layout)) {
            LoadedKernel k = KernelLoader.load(kernel, new BootConfig(layout, "console=ttyS0",
                    java.util.Optional.of(initrd), 0xE0000), mem);
            assertThat(k.entryMode()).isEqualTo(EntryMode.LINUX_64);
            assertThat(k.initrdSizeBytes()).isEqualTo(Files.size(initrd));
            assertThat(k.initrdGpa()).isGreaterThanOrEqualTo(k.kernelEndGpa());
            byte[] head = new byte[2];
            mem.read(k.initrdGpa(), head, 0, 2);
            assertThat(head).containsExactly(0x1f, 0x8b); // gzip
        }
    }

    @Test
    void initramfsHasBusyboxInitAndVirtioModules() throws Exception {
        String list = exec(60, "sh", "-c", "gzip -dc '" + dir.resolve("initramfs.cpio.gz") + "' | cpio -it --quiet");
        List<String> files = list.lines().toList();
        assertThat(files).contains("init", "bin/busybox");
        assertThat(files).anyMatch(f -> f.matches("lib/modules/[^/]+/modules\\.dep"));
        for (String module : List.of("virtio_blk", "virtio_net", "virtio_pci", "virtio_console", "virtio_rng")) {
            assertThat(files).as(module).anyMatch(f -> f.endsWith("/" + module + ".ko") || f.endsWith("/" + module
                    + ".ko.xz") || f.endsWith("/" + module.replace('_', '-') + ".ko"));
        }
        String init = exec(60, "sh", "-c", "gzip -dc '" + dir.resolve("initramfs.cpio.gz")
                + "' | cpio -i --quiet --to-stdout init");
        assertThat(init).startsWith("#!").contains("JKVM-INIT-OK").contains("/jkvm-test.sh");
    }

    @Test
    void secondRunIsUpToDate() throws Exception {
        long before = Files.getLastModifiedTime(dir.resolve("initramfs.cpio.gz")).toMillis();
        exec(120, SCRIPT.toString());
        assertThat(Files.getLastModifiedTime(dir.resolve("initramfs.cpio.gz")).toMillis()).isEqualTo(before);
    }
}
