package org.jkvm.acpi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jkvm.acpi.TableBytes.u16;
import static org.jkvm.acpi.TableBytes.u32;
import static org.jkvm.acpi.TableBytes.u8;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Walks the MADT's interrupt controller structures (ACPI 6.5 §5.2.12) as an OS would. */
class MadtTest {
    record Entry(int type, int offset, int length) {
    }

    record Processor(long uid, long apicId, long flags, boolean x2apic) {
    }

    private static List<Entry> entries(byte[] madt) {
        List<Entry> entries = new ArrayList<>();
        int offset = 44;
        while (offset < madt.length) {
            int length = u8(madt, offset + 1);
            assertThat(length).as("entry length at %d", offset).isGreaterThanOrEqualTo(2);
            entries.add(new Entry(u8(madt, offset), offset, length));
            offset += length;
        }
        assertThat(offset).as("entries end exactly at the table end").isEqualTo(madt.length);
        return entries;
    }

    private static List<Processor> processors(byte[] madt) {
        List<Processor> cpus = new ArrayList<>();
        for (Entry e : entries(madt)) {
            if (e.type() == 0) {
                assertThat(e.length()).isEqualTo(8);
                cpus.add(new Processor(u8(madt, e.offset() + 2), u8(madt, e.offset() + 3), u32(madt, e.offset() + 4),
                        false));
            } else if (e.type() == 9) {
                assertThat(e.length()).isEqualTo(16);
                assertThat(u16(madt, e.offset() + 2)).as("reserved").isZero();
                cpus.add(new Processor(u32(madt, e.offset() + 12), u32(madt, e.offset() + 4),
                        u32(madt, e.offset() + 8), true));
            }
        }
        return cpus;
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 4, 64, 254, 255, 256, 300})
    void oneEnabledProcessorPerVcpuWithApicIdEqualToIndex(int cpuCount) {
        byte[] madt = TableBytes.table(AcpiTables.build(AcpiConfig.pc(cpuCount)), "APIC");
        List<Processor> cpus = processors(madt);
        assertThat(cpus).hasSize(cpuCount);
        assertThat(cpus).allSatisfy(p -> {
            assertThat(p.flags() & 1).as("enabled").isEqualTo(1);
            assertThat(p.uid()).isEqualTo(p.apicId());
            assertThat(p.x2apic()).isEqualTo(p.apicId() >= 255);
        });
        assertThat(cpus.stream().map(Processor::apicId).toList())
                .isEqualTo(IntStream.range(0, cpuCount).mapToObj(i -> (long) i).toList());
    }

    @Test
    void headerHasLocalApicAddressAndPcatCompat() {
        byte[] madt = TableBytes.table(AcpiTables.build(AcpiConfig.pc(4)), "APIC");
        assertThat(u8(madt, 8)).as("revision").isEqualTo(5);
        assertThat(u32(madt, 36)).isEqualTo(0xFEE0_0000L);
        assertThat(u32(madt, 40)).as("PCAT_COMPAT").isEqualTo(1);
    }

    @Test
    void oneIoApicAtGsiZero() {
        byte[] madt = TableBytes.table(AcpiTables.build(AcpiConfig.pc(4)), "APIC");
        List<Entry> ioApics = entries(madt).stream().filter(e -> e.type() == 1).toList();
        assertThat(ioApics).hasSize(1);
        int o = ioApics.get(0).offset();
        assertThat(ioApics.get(0).length()).isEqualTo(12);
        assertThat(u8(madt, o + 2)).as("I/O APIC ID").isEqualTo(4);
        assertThat(u32(madt, o + 4)).isEqualTo(0xFEC0_0000L);
        assertThat(u32(madt, o + 8)).as("GSI base").isZero();
    }

    @Test
    void interruptSourceOverridesForPitAndSci() {
        byte[] madt = TableBytes.table(AcpiTables.build(AcpiConfig.pc(4)), "APIC");
        List<int[]> overrides = new ArrayList<>(); // {bus, source, gsi, flags}
        for (Entry e : entries(madt)) {
            if (e.type() == 2) {
                assertThat(e.length()).isEqualTo(10);
                overrides.add(new int[] {u8(madt, e.offset() + 2), u8(madt, e.offset() + 3),
                    (int) u32(madt, e.offset() + 4), u16(madt, e.offset() + 8)});
            }
        }
        assertThat(overrides).containsExactly(
                new int[] {0, 0, 2, 0b0101}, // IRQ0 -> GSI2, edge, active high
                new int[] {0, 9, 9, 0b1101}); // SCI: level, active high
    }

    @ParameterizedTest
    @ValueSource(ints = {4, 300})
    void nmiOnLint1OfAllProcessors(int cpuCount) {
        byte[] madt = TableBytes.table(AcpiTables.build(AcpiConfig.pc(cpuCount)), "APIC");
        List<Entry> nmis = entries(madt).stream().filter(e -> e.type() == 4).toList();
        assertThat(nmis).hasSize(1);
        int o = nmis.get(0).offset();
        assertThat(u8(madt, o + 2)).as("all processors").isEqualTo(0xFF);
        assertThat(u8(madt, o + 5)).as("LINT#").isEqualTo(1);
        List<Entry> x2Nmis = entries(madt).stream().filter(e -> e.type() == 10).toList();
        assertThat(x2Nmis).hasSize(cpuCount > 255 ? 1 : 0);
        for (Entry e : x2Nmis) {
            assertThat(e.length()).isEqualTo(12);
            assertThat(u32(madt, e.offset() + 4)).isEqualTo(0xFFFF_FFFFL);
            assertThat(u8(madt, e.offset() + 8)).isEqualTo(1);
        }
    }
}
