package org.jkvm.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;

import org.jkvm.api.qmp.QmpClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Debian cloud kernel on the software CPU with three raw disks as virtio-blk PCI devices, a virtio-rng and a
 * virtio-console: the guest enumerates PCI, loads virtio_pci and virtio_blk, sees /dev/vda (writable, 16 MiB, its
 * serial) and /dev/vdb (read-only, 8 MiB), reads what the host put there, writes a small and a 1 MiB pattern that
 * must land in the host file, survives an unbind (device reset) and rebind of vda's driver, cannot write the
 * read-only disk, discards a range (a hole in the host file), fills /dev/vdc whose image lies on a full 4 MiB
 * tmpfs (I/O errors in the guest, jkvm runs on and powers off cleanly), reads /dev/hwrng, talks both ways over
 * /dev/hvc0 and sees its size, and completes through MSI-X. The monitor's
 * query-pci, query-block and info pci describe the same devices. A boot takes one to two minutes, so the class
 * boots once (in {@link #bootOnce}) and each test checks one part of what that boot showed.
 */
class VirtioBlkLinuxTest {
    static final Path SCRIPTS = JkvmProcess.GUESTS.resolve("../../scripts").normalize();
    static final long VDA_BYTES = 16L << 20;
    static final long VDB_BYTES = 8L << 20;
    static final long VDC_BYTES = 64L << 20;
    static final String TMPFS_SIZE = "4m";
    static final Pattern VALUE = Pattern.compile("^([A-Z][A-Za-z0-9_:.-]*)=(.*?)\\r?$", Pattern.MULTILINE);

    @TempDir
    static Path dir;
    static Path vda;
    static Path vdb;
    static Path tmpfs;
    static boolean mounted;
    static Path vdc;
    static boolean aliveAfterFullDisk;
    static byte[] vdbBefore;
    static String console;
    static String stderr;
    static int exitCode;
    static Map<String, String> values;
    static JsonNode queryPci;
    static String hvcFromGuest;
    static JsonNode queryBlock;
    static JsonNode queryBlockstats;
    static String infoPci;

    private static String exec(long timeoutSeconds, String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(timeoutSeconds, TimeUnit.SECONDS)).as(String.join(" ", cmd)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", cmd) + "\n" + out).isZero();
        return out;
    }

    private static byte[] image(long size, String header, long seed) {
        byte[] b = new byte[(int) size];
        new Random(seed).nextBytes(b);
        byte[] h = header.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(h, 0, b, 0, h.length);
        return b;
    }

    @BeforeAll
    static void bootOnce() throws Exception {
        if (!"true".equals(System.getenv("CI"))) {
            assumeTrue(Files.isExecutable(Path.of("/usr/bin/apt-get")), "not a Debian host");
        }
        exec(900, SCRIPTS.resolve("guest-images.sh").toString());
        Path images = Path.of(exec(30, SCRIPTS.resolve("guest-images.sh").toString(), "--print-dir").strip());

        Path script = dir.resolve("virtio-blk.sh");
        try (InputStream in = VirtioBlkLinuxTest.class.getResourceAsStream("/linux/virtio-blk.sh")) {
            Files.write(script, in.readAllBytes());
        }
        Path extra = dir.resolve("test.cpio.gz");
        exec(60, SCRIPTS.resolve("mkinitrd-test.sh").toString(), extra.toString(), script.toString());
        Path initrd = dir.resolve("initrd");
        try (OutputStream out = Files.newOutputStream(initrd)) {
            Files.copy(images.resolve("initramfs.cpio.gz"), out);
            Files.copy(extra, out);
        }
        vda = dir.resolve("vda.img");
        vdb = dir.resolve("vdb.img");
        Files.write(vda, image(VDA_BYTES, "JKVM-HOST-HEADER", 1));
        vdbBefore = image(VDB_BYTES, "JKVM-READONLY-IMG", 2);
        Files.write(vdb, vdbBefore);
        tmpfs = Files.createDirectories(dir.resolve("tmpfs"));
        exec(30, "mount", "-t", "tmpfs", "-o", "size=" + TMPFS_SIZE, "jkvm-it-full", tmpfs.toString());
        mounted = true;
        vdc = tmpfs.resolve("full.img");
        try (var f = new java.io.RandomAccessFile(vdc.toFile(), "rw")) {
            f.setLength(VDC_BYTES); // sparse: the tmpfs fills up after about 4 MiB of writes
        }

        Path sock = dir.resolve("qmp.sock");
        Path hvc = dir.resolve("hvc0.sock");
        try (JkvmProcess p = JkvmProcess.start("run", "--accel", "emu", "--memory", "512M", "--cpus", "2", "--rng",
                "--console-dev", "socket=" + hvc + ",cols=132,rows=50",
                "--kernel", images.resolve("vmlinuz").toString(), "--initrd", initrd.toString(),
                "--cmdline", "console=ttyS0 panic=0",
                "--disk", "path=" + vda + ",serial=jkvm-serial-1",
                "--disk", "path=" + vdb + ",readonly=on,id=ro0",
                "--disk", "path=" + vdc + ",id=full0",
                "--qmp", "unix:" + sock + ",server=on,wait=off")) {
            p.stdin().close();
            try (QmpClient qmp = QmpSupport.connect(sock, 60)) {
                // the monitor answers from its start; the machine (and its PCI bus) exists once the kernel runs
                assertThat(p.awaitOutput("Linux version", 120)).as(p.stderr()).isTrue();
                queryPci = QmpSupport.cmd(qmp, "query-pci").get("return");
                queryBlock = QmpSupport.cmd(qmp, "query-block").get("return");
                infoPci = qmp.execute("human-monitor-command", QmpSupport.hmp("info pci")).get("return").asText();
            }
            // The console client: connected before the guest writes to hvc0 (output with no client is dropped).
            try (java.nio.channels.SocketChannel c = java.nio.channels.SocketChannel.open(
                    java.net.StandardProtocolFamily.UNIX)) {
                c.connect(java.net.UnixDomainSocketAddress.of(hvc));
                java.nio.ByteBuffer in = java.nio.ByteBuffer.allocate(256);
                StringBuilder got = new StringBuilder();
                long end = System.nanoTime() + 600_000_000_000L;
                while (!got.toString().contains("GUEST-TO-HOST-VIA-HVC0\n") && System.nanoTime() < end) {
                    in.clear();
                    if (c.read(in) < 0) {
                        break;
                    }
                    got.append(new String(in.array(), 0, in.position(), StandardCharsets.US_ASCII));
                }
                hvcFromGuest = got.toString();
                c.write(java.nio.ByteBuffer.wrap("HOST-TO-GUEST-VIA-HVC0\n".getBytes(StandardCharsets.US_ASCII)));
            }
            try (QmpClient qmp = QmpSupport.connect(sock, 10)) {
                // once the script has written and synced (it then waits 3 s): the counters include its I/O
                assertThat(p.awaitOutput("VIRTIO-BLK-SCRIPT=done", 600)).as(p.stderr()).isTrue();
                queryBlockstats = QmpSupport.cmd(qmp, "query-blockstats").get("return");
            }
            aliveAfterFullDisk = p.process().isAlive();
            exitCode = p.waitFor(600);
            console = p.stdout();
            stderr = p.stderr();
        }
        values = new LinkedHashMap<>();
        Matcher m = VALUE.matcher(console);
        while (m.find()) {
            values.put(m.group(1), m.group(2));
        }
    }

    @AfterAll
    static void cleanUp() throws Exception {
        if (mounted) {
            exec(30, "umount", tmpfs.toString());
        }
        if (vda != null) {
            Files.deleteIfExists(vda);
            Files.deleteIfExists(vdb);
        }
    }

    @Test
    void guestRanTheScriptAndPoweredOff() {
        assertThat(exitCode).as(stderr + console).isZero();
        assertThat(values).containsEntry("VIRTIO-BLK-SCRIPT", "done").containsEntry("JKVM-TEST-EXIT", "0");
        assertThat(stderr).doesNotContain("needs reset").doesNotContain("Exception");
        assertThat(console).contains("virtio_blk virtio0: [vda] 32768 512-byte logical blocks")
                .contains("virtio_blk virtio1: [vdb] 16384 512-byte logical blocks");
    }

    @Test
    void guestEnumeratesTheHostBridgeAndBothVirtioFunctions() {
        assertThat(values).containsEntry("PCI-0000:00:00.0", "0x8086:0x29c0:0x060000")
                .containsEntry("PCI-0000:00:01.0", "0x1af4:0x1042:0x010000")
                .containsEntry("PCI-0000:00:02.0", "0x1af4:0x1042:0x010000")
                .containsEntry("PCI-0000:00:03.0", "0x1af4:0x1042:0x010000")
                .containsEntry("PCI-0000:00:04.0", "0x1af4:0x1044:0x00ff00");
        assertThat(console).contains("ACPI: PCI Root Bridge [PCI0]")
                .contains("MMCONFIG at [mem 0xe0000000-0xe00fffff] reserved");
    }

    @Test
    void disksHaveTheirSizesFlagsAndSerial() {
        assertThat(values).containsEntry("VDA-EXISTS", "yes")
                .containsEntry("VDA-SECTORS", String.valueOf(VDA_BYTES / 512)).containsEntry("VDA-RO", "0")
                .containsEntry("VDA-SERIAL", "jkvm-serial-1")
                .containsEntry("VDB-SECTORS", String.valueOf(VDB_BYTES / 512)).containsEntry("VDB-RO", "1");
    }

    @Test
    void guestReadsWhatTheHostWrote() {
        assertThat(values).containsEntry("VDA-HEAD", "JKVM-HOST-HEADER").containsEntry("VDB-HEAD",
                "JKVM-READONLY-IMG");
    }

    @Test
    void guestWritesLandInTheHostFile() throws Exception {
        byte[] disk = Files.readAllBytes(vda);
        assertThat(new String(disk, 8 * 512, 21, StandardCharsets.US_ASCII)).isEqualTo("JKVM-GUEST-WROTE-THIS");
        String md5 = HexFormat.of().formatHex(MessageDigest.getInstance("MD5")
                .digest(Arrays.copyOfRange(disk, 1 << 20, 2 << 20)));
        assertThat(values).containsEntry("VDA-WRITE-STATUS", "0").containsEntry("VDA-RANDOM-MD5", md5)
                .containsEntry("VDA-REREAD-MD5", md5);
        assertThat(disk).hasSize((int) VDA_BYTES);
    }

    @Test
    void driverUnbindResetsTheDeviceAndARebindSetsItUpAgain() throws Exception {
        String md5 = HexFormat.of().formatHex(MessageDigest.getInstance("MD5")
                .digest(Arrays.copyOfRange(Files.readAllBytes(vda), 1 << 20, 2 << 20)));
        assertThat(values).containsEntry("VDA-AFTER-UNBIND", "gone").containsEntry("VDA-REBOUND-MD5", md5);
    }

    @Test
    void readOnlyDiskRefusesWrites() throws Exception {
        assertThat(values).containsEntry("VDB-WRITE", "refused");
        assertThat(Files.readAllBytes(vdb)).isEqualTo(vdbBefore);
    }

    @Test
    void eachVcpuHasItsOwnRequestQueueAndVector() {
        assertThat(values).containsEntry("VDA-MQ", "2").containsEntry("MSIX-VDA-QUEUES", "2");
    }

    @Test
    void hwrngIsTheVirtioRngAndServesRandomBytes() {
        assertThat(values).containsEntry("RNG-CURRENT", "virtio_rng.0").containsEntry("RNG-BYTES", "8192");
        assertThat(Integer.parseInt(values.get("RNG-DISTINCT"))).as("byte values seen in 4 KiB").isGreaterThan(240);
        JsonNode rng = null;
        for (JsonNode d : queryPci.get(0).get("devices")) {
            if (d.get("id").get("device").asInt() == 0x1044) {
                rng = d;
            }
        }
        assertThat(rng).as("query-pci lists the rng").isNotNull();
        assertThat(rng.get("class_info").get("class").asInt()).isEqualTo(0x00ff);
    }

    @Test
    void hvc0TalksToTheConsoleSocket() {
        assertThat(values).containsEntry("PCI-0000:00:05.0", "0x1af4:0x1043:0x078000").containsEntry("HVC0", "present");
        assertThat(hvcFromGuest).isEqualTo("GUEST-TO-HOST-VIA-HVC0\n");
        assertThat(values).containsEntry("HVC-RX", "HOST-TO-GUEST-VIA-HVC0");
        assertThat(values).as("cols=132,rows=50: stty size prints rows, then columns").containsEntry("HVC-SIZE",
                "50 132");
    }

    @Test
    void discardPunchesAHoleThatReadsAsZeros() throws Exception {
        assertThat(Long.parseLong(values.get("VDA-DISCARD-MAX"))).as("the driver saw VIRTIO_BLK_F_DISCARD")
                .isPositive();
        assertThat(Long.parseLong(values.get("VDA-WRITE-ZEROES-MAX"))).as("and VIRTIO_BLK_F_WRITE_ZEROES")
                .isPositive();
        assertThat(values).containsEntry("VDA-DISCARD-STATUS", "0");
        assertThat(values.get("VDA-DISCARDED-MD5")).isEqualTo(values.get("ZERO-MD5"));
        byte[] disk = Files.readAllBytes(vda);
        assertThat(Arrays.copyOfRange(disk, 4 << 20, 5 << 20)).as("the host file's discarded range")
                .isEqualTo(new byte[1 << 20]);
        byte[] original = image(VDA_BYTES, "JKVM-HOST-HEADER", 1);
        assertThat(Arrays.copyOfRange(disk, 3 << 20, 4 << 20)).as("the MiB before it is the image's own")
                .isEqualTo(Arrays.copyOfRange(original, 3 << 20, 4 << 20));
        assertThat(Arrays.copyOfRange(disk, 5 << 20, 6 << 20)).as("the MiB after it too")
                .isEqualTo(Arrays.copyOfRange(original, 5 << 20, 6 << 20));
        assertThat(queryBlockstats.get(0).get("stats").get("unmap_operations").asLong()).isPositive();
    }

    @Test
    void aFullHostDiskGivesTheGuestIoErrorsAndTheMachinePowersOffCleanly() {
        assertThat(values).containsEntry("FULL_FAILED", "1");
        int written = Integer.parseInt(values.get("FULL_CHUNKS_WRITTEN"));
        assertThat(written).as("64 KiB chunks before the 4 MiB tmpfs was full").isBetween(8, 64);
        assertThat(Integer.parseInt(values.get("FULL_IOERR_LOGGED"))).as("the kernel logged the I/O error")
                .isPositive();
        assertThat(values.get("FULL_READ_AFTER")).as("the disk still reads after the errors")
                .isEqualTo(values.get("CHUNK_MD5"));
        assertThat(aliveAfterFullDisk).isTrue();
        assertThat(exitCode).as("powered off cleanly after the errors").isZero();
        assertThat(stderr).doesNotContain("needs reset").doesNotContain("Exception");
        JsonNode full = queryBlockstats.get(2).get("stats");
        assertThat(full.get("failed_wr_operations").asLong()).as("the ENOSPC writes counted").isPositive();
    }

    @Test
    void completionsArriveThroughMsix() {
        assertThat(values).containsEntry("MSIX-VDA-REQ", "1");
        assertThat(Long.parseLong(values.get("MSIX-VDA-COUNT"))).isPositive();
    }

    @Test
    void monitorDescribesTheSameDevices() {
        JsonNode devices = queryPci.get(0).get("devices");
        assertThat(devices).as("host bridge, three disks, the rng, the console").hasSize(6);
        assertThat(devices.get(0).get("class_info").get("desc").asText()).isEqualTo("Host bridge");
        JsonNode ro = devices.get(2);
        assertThat(ro.get("id").get("vendor").asInt()).isEqualTo(0x1af4);
        assertThat(ro.get("id").get("device").asInt()).isEqualTo(0x1042);
        assertThat(ro.get("qdev_id").asText()).isEqualTo("ro0");
        assertThat(ro.get("irq_pin").asInt()).isEqualTo(1);
        assertThat(ro.get("irq").asInt()).isEqualTo(16 + (2 + 0) % 4);
        JsonNode bar = ro.get("regions").get(0);
        assertThat(bar.get("size").asLong()).isEqualTo(0x8000);
        assertThat(bar.get("mem_type_64").asBoolean()).isTrue();
        assertThat(bar.get("address").asLong()).isGreaterThanOrEqualTo(1L << 32);

        assertThat(queryBlock).hasSize(3);
        JsonNode a = queryBlock.get(0).get("inserted");
        assertThat(a.get("file").asText()).isEqualTo(vda.toString());
        assertThat(a.get("ro").asBoolean()).isFalse();
        assertThat(a.get("image").get("virtual-size").asLong()).isEqualTo(VDA_BYTES);
        assertThat(queryBlock.get(1).get("inserted").get("ro").asBoolean()).isTrue();
        assertThat(queryBlock.get(1).get("qdev").asText()).isEqualTo("/machine/peripheral/ro0/virtio-backend");

        JsonNode vdaStats = queryBlockstats.get(0).get("stats");
        assertThat(vdaStats.get("wr_bytes").asLong()).isGreaterThanOrEqualTo(1 << 20);
        assertThat(vdaStats.get("rd_operations").asLong()).isPositive();
        assertThat(vdaStats.get("flush_operations").asLong()).isPositive();
        assertThat(vdaStats.get("failed_wr_operations").asLong()).isZero();
        JsonNode vdbStats = queryBlockstats.get(1).get("stats");
        assertThat(vdbStats.get("wr_operations").asLong()).isZero();
        assertThat(queryBlockstats.get(1).get("qdev").asText()).isEqualTo("/machine/peripheral/ro0/virtio-backend");

        assertThat(infoPci).contains("  Bus  0, device   0, function 0:\r\n    Host bridge: PCI device 8086:29c0")
                .contains("  Bus  0, device   2, function 0:\r\n    SCSI controller: PCI device 1af4:1042")
                .contains("      IRQ 18, pin A").contains("      id \"ro0\"").contains("BAR0: 64 bit memory at 0x");
    }
}
