package org.jkvm.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How a VM ends, on KVM, with tiny purpose-built guests: ACPI power-off, the two reset paths with both --reboot
 * behaviours, a triple fault, SIGTERM, and the serial console's input with QEMU's Ctrl-A x.
 */
class LifecycleTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void needKvm() {
        if (!"true".equals(System.getenv("CI"))) {
            assumeTrue(Files.exists(Path.of("/dev/kvm")), "no /dev/kvm");
        }
    }

    private static final int[] PRINT_BOOT = TinyGuest.concat(TinyGuest.outb(0x3f8, 'B'), TinyGuest.outb(0x3f8, '\n'));

    @Test
    void acpiSoftOffExitsZero() throws Exception {
        // PM1a_CNT (0x604): SLP_TYP = 5 (\_S5), SLP_EN.
        Path g = TinyGuest.write(dir, "poweroff.mb", TinyGuest.concat(TinyGuest.outw(0x604, (5 << 10) | (1 << 13)),
                TinyGuest.SPIN));
        long t0 = System.nanoTime();
        JkvmProcess p = JkvmProcess.run(60, "run", "--accel", "kvm", "--memory", "64M", "--kernel", g.toString());
        assertThat(p.exitCode()).as(p.stderr()).isZero();
        assertThat(p.stderr()).isEmpty();
        assertThat((System.nanoTime() - t0) / 1_000_000_000).isLessThan(30);
    }

    @Test
    void keyboardControllerResetExitsZeroByDefault() throws Exception {
        Path g = TinyGuest.write(dir, "kbdreset.mb", TinyGuest.concat(PRINT_BOOT, TinyGuest.outb(0x64, 0xfe),
                TinyGuest.SPIN));
        JkvmProcess p = JkvmProcess.run(60, "run", "--accel", "kvm", "--memory", "64M", "--kernel", g.toString());
        assertThat(p.exitCode()).as(p.stderr()).isZero();
        assertThat(p.stdout()).isEqualTo("B\n");
    }

    @Test
    void resetWithRestartBootsAgain() throws Exception {
        Path g = TinyGuest.write(dir, "cf9reset.mb", TinyGuest.concat(PRINT_BOOT, TinyGuest.outb(0xcf9, 0x06),
                TinyGuest.SPIN));
        try (JkvmProcess p = JkvmProcess.start("run", "--accel", "kvm", "--memory", "64M", "--reboot=restart",
                "--kernel", g.toString())) {
            assertThat(p.awaitOutput("B\nB\nB\n", 60)).as(p.stdout() + p.stderr()).isTrue();
            p.process().destroy(); // SIGTERM
            assertThat(p.waitFor(30)).isZero();
            assertThat(p.stderr()).contains("restarting").contains("terminating on signal 15");
        }
    }

    @Test
    void tripleFaultIsAGuestCrashNamingTheVcpuAndRip() throws Exception {
        Path g = TinyGuest.write(dir, "triple.mb", TinyGuest.UD2);
        JkvmProcess p = JkvmProcess.run(60, "run", "--accel", "kvm", "--memory", "64M", "--kernel", g.toString());
        assertThat(p.exitCode()).isEqualTo(4);
        assertThat(p.stderr()).contains("vCPU 0: triple fault at RIP=0x100020");
    }

    /**
     * kvm_pvm (this project's machines: /dev/kvm without VMX/SVM) cannot emulate XSAVE: KVM reports an emulation
     * failure, which jkvm must turn into a clear crash report. With hardware virtualization XSAVE simply runs.
     */
    @Test
    void kvmEmulationFailureIsAGuestCrashNamingTheVcpuAndRip() throws Exception {
        assumeTrue(!org.jkvm.vmm.Accelerator.hostHasHardwareVirtualization(), "XSAVE runs natively on VMX/SVM");
        Path g = TinyGuest.write(dir, "xsave.mb", 0x0f, 0x20, 0xe0, 0x0d, 0x00, 0x00, 0x04, 0x00, // CR4.OSXSAVE
                0x0f, 0x22, 0xe0, 0x31, 0xc0, 0x31, 0xd2, 0xb0, 0x01,                            // edx:eax = 1
                0x0f, 0xae, 0x25, 0x00, 0x00, 0x20, 0x00,                                         // xsave [2 MiB]
                0xeb, 0xfe);
        JkvmProcess p = JkvmProcess.run(60, "run", "--accel", "kvm", "--memory", "64M", "--kernel", g.toString());
        assertThat(p.exitCode()).isEqualTo(4);
        assertThat(p.stderr()).contains("vCPU 0: KVM internal error: emulation failure")
                .contains("at RIP=0x100031");
    }

    @Test
    void sigtermStopsASpinningGuestCleanly() throws Exception {
        Path g = TinyGuest.write(dir, "spin.mb", TinyGuest.concat(PRINT_BOOT, TinyGuest.SPIN));
        try (JkvmProcess p = JkvmProcess.start("run", "--accel", "kvm", "--cpus", "2", "--memory", "64M",
                "--kernel", g.toString())) {
            assertThat(p.awaitOutput("B\n", 60)).isTrue();
            long t0 = System.nanoTime();
            p.process().destroy();
            assertThat(p.waitFor(30)).isZero();
            assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(2000);
            assertThat(p.stderr()).as("stdout: " + p.stdout()).contains("jkvm: terminating on signal 15");
        }
    }

    /** Echoes COM1 input until 'q', then exits through the debug port with 0x21. */
    private static final int[] ECHO = {
        0x66, 0xba, 0xfd, 0x03,       // 0: mov dx, 0x3fd (LSR)
        0xec,                         // 4: in al, dx
        0xa8, 0x01,                   // 5: test al, 1 (data ready)
        0x74, 0xf7,                   // 7: jz 0
        0x66, 0xba, 0xf8, 0x03,       // 9: mov dx, 0x3f8
        0xec,                         // 13: in al, dx
        0xee,                         // 14: out dx, al
        0x3c, 'q',                    // 15: cmp al, 'q'
        0x75, 0xed,                   // 17: jne 0
        0x66, 0xba, 0xf4, 0x00,       // 19: mov dx, 0xf4
        0xb0, 0x21,                   // 23: mov al, 0x21
        0xee,                         // 25: out dx, al
        0xeb, 0xfe,                   // 26: jmp $
    };

    @Test
    void serialInputReachesTheGuest() throws Exception {
        Path g = TinyGuest.write(dir, "echo.mb", ECHO);
        try (JkvmProcess p = JkvmProcess.start("run", "--accel", "kvm", "--memory", "64M", "--kernel", g.toString())) {
            String text = "typed into COM1, all of it, without loss: 0123456789abcdefghijklmnopq";
            p.stdin().write(text.getBytes(StandardCharsets.US_ASCII));
            p.stdin().flush();
            assertThat(p.waitFor(120)).as(p.stderr()).isEqualTo((0x21 << 1) | 1);
            assertThat(p.stdout()).isEqualTo(text);
        }
    }

    @Test
    void ctrlAxQuits() throws Exception {
        Path g = TinyGuest.write(dir, "echo2.mb", ECHO);
        try (JkvmProcess p = JkvmProcess.start("run", "--accel", "kvm", "--memory", "64M", "--kernel", g.toString())) {
            p.stdin().write(new byte[] {'a', 'b', 1, 1});
            p.stdin().flush();
            assertThat(p.awaitOutput("ab\u0001", 60)).as(p.stdout()).isTrue();
            p.stdin().write(new byte[] {1, 'x'});
            p.stdin().flush();
            assertThat(p.waitFor(60)).isZero();
            assertThat(p.stdout()).isEqualTo("ab\u0001");
            assertThat(p.stderr()).contains("terminated by Ctrl-A x");
        }
    }
}
