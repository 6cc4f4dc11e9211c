package org.jkvm.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Debian's cloud kernel on jkvm's software CPU ({@code --accel emu}) with 1, 2 and 4 vCPUs: what the guest sees
 * (CPUs, memory, time, a clean kernel log), a busybox workload against the host's answer, an idle guest's host CPU
 * use, and how the VM ends: poweroff, a kernel panic (pvpanic), a reboot. Three boots in all, each checking as much
 * as it can, because a boot takes a minute or more here.
 */
class LinuxOnEmuTest {
    static final long BOOT_TIMEOUT_S = 600;
    static final long MEMORY_BYTES = 512L << 20;

    @TempDir
    static Path work;

    @BeforeAll
    static void images() throws Exception {
        DebianGuest.images();
    }

    private static List<String> problems(String console) {
        return console.lines().filter(l -> l.startsWith("DMESG_PROBLEM=")).toList();
    }

    private static String host(String shell) throws Exception {
        return DebianGuest.exec(60, "sh", "-c", shell).strip();
    }

    @Test
    void oneVcpuBootsRunsBusyboxIdlesQuietlyAndPowersOffPromptly() throws Exception {
        Path initrd = DebianGuest.initrdWith(work, "checks.sh");
        try (JkvmProcess p = DebianGuest.boot(initrd, "--accel", "emu", "--cpus", "1", "--memory", "512M")) {
            assertThat(p.awaitOutput("IDLE=begin", BOOT_TIMEOUT_S)).as(p.stdout() + p.stderr()).isTrue();
            long hostEpoch = System.currentTimeMillis() / 1000;
            // Idle: the guest sleeps 10 s; measure 5 s of it, from 3 s in: after the RTC alarm (1 s in) and the JIT
            // compiler's tail of the boot.
            Thread.sleep(3000);
            long pid = p.process().pid();
            double cpu0 = DebianGuest.cpuSeconds(pid);
            Thread.sleep(5000);
            double idleCpu = (DebianGuest.cpuSeconds(pid) - cpu0) / 5.0;

            assertThat(p.awaitOutput(DebianGuest.TEST_EXIT, 60)).as(p.stdout()).isTrue();
            long exitSeen = System.nanoTime();
            int code = p.waitFor(30);
            double powerOffSeconds = (System.nanoTime() - exitSeen) / 1e9;
            String console = p.stdout();
            Map<String, String> v = DebianGuest.values(console);

            assertThat(console).contains(DebianGuest.INIT_MARKER);
            assertThat(console).contains(DebianGuest.TEST_EXIT + "0");
            assertThat(v).containsEntry("NPROC", "1");
            long memTotal = Long.parseLong(v.get("MEMTOTAL_KB")) * 1024;
            // Linux keeps ~8% of 512 MiB for itself (kernel image, page structs); QEMU's guest shows the same.
            assertThat(memTotal).isBetween((long) (MEMORY_BYTES * 0.90), MEMORY_BYTES);
            // Printed just before IDLE=begin; the test sees that line within a few milliseconds.
            assertThat(Long.parseLong(v.get("GUEST_EPOCH"))).isBetween(hostEpoch - 3, hostEpoch + 1);
            // The RTC alarm set 1 s ahead fired during the idle period: IRQ 8 through the IOAPIC.
            assertThat(Long.parseLong(v.get("RTC_IRQS_AFTER"))).isGreaterThan(Long.parseLong(v.get("RTC_IRQS_BEFORE")));
            assertThat(v).containsEntry("CLOCKSOURCE", "tsc");
            assertThat(problems(console)).isEmpty();

            assertThat(v.get("SEQ_SHA256")).isEqualTo(host("seq 1 50000 | sha256sum | cut -d' ' -f1"));
            assertThat(v.get("SORT_SHA256")).isEqualTo(host(
                    "seq 1 5000 | awk '{ print ($1 * 7919) % 10007 }' | sort -n | sha256sum | cut -d' ' -f1"));
            long s = 0;
            for (int i = 0; i < 1000; i++) {
                s = (s * 31 + i) % 1000003;
            }
            assertThat(v).containsEntry("LOOP", Long.toString(s));

            // Measured here: the vCPU thread's timer ticks cost about 0.02 core; the JIT compiler thread adds bursts
            // (0 to 0.04 core per 5 s window) while it compiles translated blocks that the idle loop made hot.
            assertThat(idleCpu).as("host CPU (cores) while the guest idles").isLessThan(0.10);
            assertThat(code).as(p.stderr()).isZero();
            assertThat(console).contains("reboot: Power down");
            assertThat(powerOffSeconds).as("poweroff to exit").isLessThan(1.0);
        }
    }

    @Test
    void twoVcpusBootAndAKernelPanicEndsJkvmWithAnError() throws Exception {
        Path initrd = DebianGuest.initrdWith(work, "panic.sh");
        try (JkvmProcess p = DebianGuest.boot(initrd, "--accel", "emu", "--cpus", "2", "--memory", "256M")) {
            int code = p.waitFor(BOOT_TIMEOUT_S);
            String console = p.stdout();
            Map<String, String> v = DebianGuest.values(console);
            assertThat(v).as(console).containsEntry("NPROC", "2").containsEntry("PANIC", "now");
            assertThat(problems(console)).isEmpty();
            assertThat(console).contains("Kernel panic - not syncing: sysrq triggered crash");
            assertThat(code).as(p.stderr()).isEqualTo(4);
            assertThat(p.stderr()).contains("guest kernel panicked (pvpanic)");
        }
    }

    @Test
    void fourVcpusBootAndARebootEndsJkvmByDefault() throws Exception {
        Path initrd = DebianGuest.initrdWith(work, "reboot.sh");
        try (JkvmProcess p = DebianGuest.boot(initrd, "--accel", "emu", "--cpus", "4", "--memory", "256M")) {
            int code = p.waitFor(BOOT_TIMEOUT_S);
            String console = p.stdout();
            Map<String, String> v = DebianGuest.values(console);
            assertThat(v).as(console).containsEntry("NPROC", "4").containsEntry("REBOOT", "now");
            assertThat(problems(console)).isEmpty();
            assertThat(console).doesNotContain(DebianGuest.TEST_EXIT); // the script never returned
            assertThat(code).as(p.stderr()).isZero();
            assertThat(console).contains("reboot: Restarting system");
        }
    }
}
