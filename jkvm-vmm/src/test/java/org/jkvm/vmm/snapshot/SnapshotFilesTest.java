package org.jkvm.vmm.snapshot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32C;

import org.jkvm.hypervisor.MpState;
import org.jkvm.memory.MmapGuestMemory;
import org.jkvm.memory.PcMemoryLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The snapshot format (docs/snapshot.md): the golden state file (saved by jkvm from guests/counter on emu) decodes
 * and re-encodes byte for byte, so the format cannot change by accident; corrupt, truncated, newer-version and
 * invalid files are refused with their reason; RAM is written sparsely and mapped back privately.
 */
class SnapshotFilesTest {
    private static final long MIB = 1 << 20;

    static byte[] golden() throws IOException {
        try (InputStream in = SnapshotFilesTest.class.getResourceAsStream("/snapshot/golden-v1/vmstate")) {
            return in.readAllBytes();
        }
    }

    @Test
    void goldenStateDecodesAndReencodesIdentically() throws IOException {
        byte[] file = golden();
        VmState s = SnapshotFiles.decodeState(file, "golden");
        assertThat(s.machine().backend()).isEqualTo("emu");
        assertThat(s.machine().memoryBytes()).isEqualTo(64 * MIB);
        assertThat(s.vcpus()).hasSize(1);
        VcpuState v = s.vcpus().get(0);
        assertThat(v.regs().r12()).isEqualTo(21); // the counter guest's N when it was saved
        assertThat(v.regs().r13()).isEqualTo(21 ^ 0x5a5a5a5a5a5a5a5aL);
        assertThat(v.sregs().cr3()).isEqualTo(0x9000);
        assertThat(v.mpState()).isIn(MpState.HALTED, MpState.RUNNABLE);
        assertThat(v.lapic().reg(0xf0) & 0x1ff).isEqualTo(0x1ff); // the guest enabled its APIC, spurious 0xFF
        assertThat(s.platform().irqchip().ioapic().redirectionTable()[2] & 0xff).isEqualTo(0x41);
        assertThat(s.platform().pit().channels().get(0).count()).isEqualTo(11932);
        assertThat(s.platform().pit().channels().get(0).mode()).isEqualTo(2);
        assertThat(s.pci().functions()).hasSize(1); // the host bridge
        assertThat(SnapshotFiles.encodeState(s)).isEqualTo(file);
    }

    @Test
    void refusesBadMagicNewerVersionAndFlags() throws IOException {
        byte[] f = golden();
        byte[] magic = f.clone();
        magic[0] = 'X';
        assertThatThrownBy(() -> SnapshotFiles.decodeState(magic, "f")).isInstanceOf(SnapshotException.class)
                .hasMessageContaining("not a jkvm snapshot");
        byte[] newer = f.clone();
        ByteBuffer.wrap(newer).order(ByteOrder.LITTLE_ENDIAN).putInt(8, SnapshotFiles.FORMAT_VERSION + 1);
        assertThatThrownBy(() -> SnapshotFiles.decodeState(newer, "f")).isInstanceOf(SnapshotException.class)
                .hasMessageContaining("version 2 is newer than this jkvm reads (1)");
        byte[] flags = f.clone();
        ByteBuffer.wrap(flags).order(ByteOrder.LITTLE_ENDIAN).putInt(12, 1);
        assertThatThrownBy(() -> SnapshotFiles.decodeState(flags, "f")).hasMessageContaining("unknown header flags");
    }

    @Test
    void refusesTruncatedFiles() throws IOException {
        byte[] f = golden();
        for (int len : new int[] {0, 7, 27, 28, f.length / 2, f.length - 1}) {
            byte[] cut = java.util.Arrays.copyOf(f, len);
            assertThatThrownBy(() -> SnapshotFiles.decodeState(cut, "f")).isInstanceOf(SnapshotException.class)
                    .hasMessageMatching(len < 8 || len < 28 ? ".*truncated.*" : ".*truncated.*");
        }
    }

    @Test
    void refusesCorruptPayload() throws IOException {
        byte[] f = golden();
        for (int at : new int[] {28, 100, f.length - 2}) {
            byte[] bad = f.clone();
            bad[at] ^= 0x20;
            assertThatThrownBy(() -> SnapshotFiles.decodeState(bad, "f")).isInstanceOf(SnapshotException.class)
                    .hasMessageContaining("checksum mismatch");
        }
    }

    /** A well-formed file (right checksum) whose state is out of range is refused by the records' validation. */
    @Test
    void refusesInvalidStateBehindAGoodChecksum() throws IOException {
        String json = new String(golden(), 28, golden().length - 28, StandardCharsets.UTF_8);
        assertThat(json).contains("\"memoryBytes\":67108864");
        assertThatThrownBy(() -> SnapshotFiles.decodeState(withPayload(json.replace("\"cpus\":1", "\"cpus\":2")), "f"))
                .hasMessageContaining("VM state has 1 vCPUs, its machine 2");
        assertThatThrownBy(() -> SnapshotFiles.decodeState(withPayload(json.replaceFirst("\"count\":11932",
                "\"count\":70000")), "f")).hasMessageContaining("PIT channel state out of range");
        assertThatThrownBy(() -> SnapshotFiles.decodeState(withPayload(json.replaceFirst("\"regs\":\\{",
                "\"regs\":{\"bogus\":1,")), "f")).hasMessageContaining("bogus");
        assertThatThrownBy(() -> SnapshotFiles.decodeState(withPayload(json.replaceFirst(",\"rip\":[0-9]+", "")),
                "f")).hasMessageContaining("rip");
        String lapic = json.replaceFirst("\"lapic\":\\{\"regs\":\"[^\"]*\"", "\"lapic\":{\"regs\":\"AAAA\"");
        assertThatThrownBy(() -> SnapshotFiles.decodeState(withPayload(lapic), "f"))
                .hasMessageContaining("LAPIC state must be 1024 bytes");
    }

    private static byte[] withPayload(String json) {
        byte[] p = json.getBytes(StandardCharsets.UTF_8);
        CRC32C crc = new CRC32C();
        crc.update(p);
        ByteBuffer b = ByteBuffer.allocate(28 + p.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put("JKVMSNAP".getBytes(StandardCharsets.US_ASCII)).putInt(1).putInt(0).putLong(p.length)
                .putInt((int) crc.getValue()).put(p);
        return b.array();
    }

    @Test
    void ramIsWrittenSparselyAndMappedBackPrivately(@TempDir Path dir) throws IOException {
        PcMemoryLayout layout = PcMemoryLayout.of(64 * MIB);
        Path ram = dir.resolve("memory");
        try (MmapGuestMemory m = MmapGuestMemory.create(layout)) {
            m.writeLong(0x1000, 0x1122334455667788L);
            m.writeByte(32 * MIB + 5, (byte) 7);
            m.writeLong(64 * MIB - 8, -1L);
            long written = SnapshotFiles.writeMemory(ram, m);
            assertThat(written).isEqualTo(3 * 4096);
        }
        assertThat(Files.size(ram)).isEqualTo(64 * MIB);
        long allocated = SnapshotFiles.allocatedBytes(ram);
        if (allocated >= 0) {
            assertThat(allocated).isLessThan(1 * MIB); // holes, not 64 MiB of zeros
        }
        try (MmapGuestMemory a = MmapGuestMemory.mapPrivate(layout, ram);
             MmapGuestMemory b = MmapGuestMemory.mapPrivate(layout, ram)) {
            assertThat(a.readLong(0x1000)).isEqualTo(0x1122334455667788L);
            assertThat(a.readByte(32 * MIB + 5)).isEqualTo((byte) 7);
            assertThat(a.readLong(64 * MIB - 8)).isEqualTo(-1L);
            a.writeLong(0x1000, 42);
            assertThat(b.readLong(0x1000)).isEqualTo(0x1122334455667788L); // clones do not see each other
        }
        try (MmapGuestMemory c = MmapGuestMemory.mapPrivate(layout, ram)) {
            assertThat(c.readLong(0x1000)).isEqualTo(0x1122334455667788L); // nor does the file
        }
        Files.write(ram, new byte[4096]);
        assertThatThrownBy(() -> MmapGuestMemory.mapPrivate(layout, ram))
                .hasMessageContaining("holds 4096 bytes, not the 67108864");
    }
}
