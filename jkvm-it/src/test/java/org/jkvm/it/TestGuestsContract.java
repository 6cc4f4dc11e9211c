package org.jkvm.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.jkvm.loader.E820;
import org.jkvm.memory.PcMemoryLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What every backend must do with the test guests (guests/), through the real jkvm process: real, protected and
 * long mode, the serial port, RTC, i8042, ACPI MADT and SMP bring-up with INIT/SIPI on 1, 2 and 4 vCPUs, ending
 * through the debug-exit port. Each backend's test class supplies {@link #accel()}.
 */
abstract class TestGuestsContract {
    /** The debug-exit status of a guest that wrote 0 (success). */
    static final int GUEST_OK = 1;

    /** The --accel value under test. */
    abstract String accel();

    static String guest(String name) {
        Path p = JkvmProcess.GUESTS.resolve(name);
        assertThat(p).as("test guest (built by make -C guests)").exists();
        return p.toString();
    }

    @Test
    void helloMultiboot() throws Exception {
        JkvmProcess p = JkvmProcess.run(60, "run", "--accel", accel(), "--memory", "64M", "--kernel",
                guest("hello.mb"));
        assertThat(p.exitCode()).as(p.stderr()).isEqualTo(GUEST_OK);
        assertThat(p.stdout()).isEqualTo("jkvm: hello from a multiboot guest\n");
    }

    @Test
    void hello64SeesTheZeroPageCommandLineAndE820() throws Exception {
        JkvmProcess p = JkvmProcess.run(60, "run", "--accel", accel(), "--memory", "128M",
                "--cmdline", "console=ttyS0 jkvm.test=hello64", "--kernel", guest("hello64.elf"));
        assertThat(p.exitCode()).as(p.stdout() + p.stderr()).isEqualTo(GUEST_OK);
        int e820 = E820.forLayout(PcMemoryLayout.of(128L << 20)).size();
        assertThat(p.stdout()).contains("jkvm: hello from long mode\n")
                .contains("cmdline: console=ttyS0 jkvm.test=hello64\n")
                .contains("e820: " + e820 + " entries\n");
    }

    /**
     * Device interrupts through the IOAPIC and the local APIC into the guest's IDT: COM1's THR-empty (ISA IRQ 4, pin
     * 4), then three ticks of the PIT (ISA IRQ 0, which every PC delivers on IOAPIC pin 2).
     */
    @Test
    void deviceInterruptsThroughTheIoapic() throws Exception {
        JkvmProcess p = JkvmProcess.run(60, "run", "--accel", accel(), "--memory", "64M", "--kernel", guest("irq.elf"));
        assertThat(p.exitCode()).as(p.stdout() + p.stderr()).isEqualTo(GUEST_OK);
        assertThat(p.stdout()).isEqualTo("irq: COM1 interrupt via IOAPIC pin 4, vector 0x40, taken 1 time(s)\n"
                + "irq: PIT channel 0 via IOAPIC pin 2, vector 0x41, 3 ticks\n");
    }

    /**
     * vblk.elf, a freestanding virtio 1.2 driver: PCI discovery, the VMM's BARs (a 64-bit one above 4 GiB), feature
     * negotiation, one split virtqueue, notifications (an ioeventfd on KVM) and MSI-X completions (an irqfd route on
     * KVM) into the guest's IDT; GET_ID, a read, a write, a flush and a read-back. The write is in the host file.
     */
    @Test
    void virtioBlkDriverOverPciAndMsix(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path img = dir.resolve("vblk.img");
        byte[] disk = new byte[1 << 20];
        byte[] text = "jkvm virtio-blk sector zero".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        System.arraycopy(text, 0, disk, 0, text.length);
        java.nio.file.Files.write(img, disk);
        JkvmProcess p = JkvmProcess.run(120, "run", "--accel", accel(), "--memory", "64M", "--kernel",
                guest("vblk.elf"), "--disk", "path=" + img + ",serial=VBLK-" + accel());
        assertThat(p.exitCode()).as(p.stdout() + p.stderr()).isEqualTo(GUEST_OK);
        assertThat(p.stdout()).isEqualTo("vblk: virtio-blk at 00:01.0\n"
                + "vblk: capacity 2048 sectors\n"
                + "vblk: serial VBLK-" + accel() + "\n"
                + "vblk: sector 0: jkvm virtio-blk sector zero\n"
                + "vblk: wrote, flushed and read back sector 1; 5 MSI-X interrupts\n");
        byte[] after = java.nio.file.Files.readAllBytes(img);
        for (int i = 0; i < 512; i++) {
            assertThat(after[512 + i]).as("sector 1 byte %d", i).isEqualTo((byte) (i ^ 0x5a));
        }
        assertThat(after[1024]).as("sector 2 untouched").isZero();
    }

    /** RAM above the 32-bit hole (a second RAM region at 4 GiB), committed only as touched. */
    @Test
    void largeGuestWithRamAboveFourGib() throws Exception {
        JkvmProcess p = JkvmProcess.run(60, "run", "--accel", accel(), "--memory", "8G", "--cmdline", "big",
                "--kernel", guest("hello64.elf"));
        assertThat(p.exitCode()).as(p.stdout() + p.stderr()).isEqualTo(GUEST_OK);
        int e820 = E820.forLayout(PcMemoryLayout.of(8L << 30)).size();
        assertThat(p.stdout()).contains("e820: " + e820 + " entries\n");
    }

    @ParameterizedTest(name = "{0} vCPUs")
    @ValueSource(ints = {1, 2, 4})
    void modesTourWithSmp(int cpus) throws Exception {
        JkvmProcess p = JkvmProcess.run(180, "run", "--accel", accel(), "--memory", "128M", "--cpus",
                String.valueOf(cpus), "--kernel", guest("modes.mb"));
        String out = p.stdout();
        assertThat(p.exitCode()).as(out + p.stderr()).isEqualTo(GUEST_OK);
        assertThat(out).contains("mode: protected32\n", "mode: real16\n", "mode: protected32 again\n",
                "mode: long64\n", "i8042: self-test ok\n", "acpi: " + cpus + " cpus\n",
                "smp: " + cpus + " of " + cpus + " cpus up");
        for (int id = 1; id < cpus; id++) {
            assertThat(out).contains("cpu: apic id " + id + " up\n");
        }
        assertThat(out).doesNotContain("cpu: apic id " + cpus + " up");
        // The RTC shows host time (UTC) to within a few minutes.
        Matcher m = Pattern.compile("rtc: (\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d)").matcher(out);
        assertThat(m.find()).as(out).isTrue();
        LocalDateTime guest = LocalDateTime.parse(m.group(1), DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss"));
        long skew = Math.abs(guest.toEpochSecond(ZoneOffset.UTC) - System.currentTimeMillis() / 1000);
        assertThat(skew).isLessThan(180);
    }
}
