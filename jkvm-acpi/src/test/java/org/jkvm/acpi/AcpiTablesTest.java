package org.jkvm.acpi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.jkvm.acpi.TableBytes.ascii;
import static org.jkvm.acpi.TableBytes.sum;
import static org.jkvm.acpi.TableBytes.u32;
import static org.jkvm.acpi.TableBytes.u64;
import static org.jkvm.acpi.TableBytes.u8;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class AcpiTablesTest {
    private static final List<String> HEADER_TABLES = List.of("RSDT", "XSDT", "FACP", "DSDT", "APIC");

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 4, 64, 300, 2000})
    void everyTableChecksumsToZeroAndCarriesJkvmsIdentity(int cpuCount) {
        AcpiImage image = AcpiTables.build(AcpiConfig.pc(cpuCount));
        for (String signature : HEADER_TABLES) {
            byte[] table = TableBytes.table(image, signature);
            assertThat(ascii(table, 0, 4)).isEqualTo(signature);
            assertThat(sum(table, 0, table.length)).as("%s checksum", signature).isZero();
            assertThat(ascii(table, 10, 6)).isEqualTo("JKVM  ");
            assertThat(ascii(table, 16, 8)).isEqualTo("JKVMVM  ");
            assertThat(ascii(table, 28, 4)).isEqualTo("JKVM");
        }
        byte[] rsdp = TableBytes.table(image, AcpiTables.RSDP);
        assertThat(sum(rsdp, 0, 20)).as("RSDP v1 checksum").isZero();
        assertThat(sum(rsdp, 0, 36)).as("RSDP extended checksum").isZero();
    }

    @Test
    void rsdpIsRevisionTwoAtTheBaseAndPointsAtBothRootTables() {
        AcpiImage image = AcpiTables.build(AcpiConfig.pc(4));
        assertThat(image.baseGpa()).isEqualTo(0xE0000);
        assertThat(image.rsdpGpa()).isEqualTo(0xE0000).isEqualTo(image.tableGpa("RSD PTR "));
        byte[] rsdp = TableBytes.table(image, AcpiTables.RSDP);
        assertThat(rsdp).hasSize(36);
        assertThat(ascii(rsdp, 0, 8)).isEqualTo("RSD PTR ");
        assertThat(ascii(rsdp, 9, 6)).isEqualTo("JKVM  ");
        assertThat(u8(rsdp, 15)).isEqualTo(2);
        assertThat(u32(rsdp, 16)).isEqualTo(image.tableGpa("RSDT"));
        assertThat(u64(rsdp, 24)).isEqualTo(image.tableGpa("XSDT"));
    }

    @Test
    void rootTablesListTheFadtAndMadt() {
        AcpiImage image = AcpiTables.build(AcpiConfig.pc(4));
        byte[] rsdt = TableBytes.table(image, "RSDT");
        byte[] xsdt = TableBytes.table(image, "XSDT");
        assertThat(rsdt).hasSize(36 + 2 * 4);
        assertThat(xsdt).hasSize(36 + 2 * 8);
        List<Long> expected = List.of(image.tableGpa("FACP"), image.tableGpa("APIC"));
        assertThat(List.of(u32(rsdt, 36), u32(rsdt, 40))).isEqualTo(expected);
        assertThat(List.of(u64(xsdt, 36), u64(xsdt, 44))).isEqualTo(expected);
        for (long gpa : expected) {
            assertThat(ascii(TableBytes.tableAt(image, gpa), 0, 4)).isIn("FACP", "APIC");
        }
    }

    @Test
    void tablesAreAlignedAndDisjointInsideTheImage() {
        AcpiImage image = AcpiTables.build(AcpiConfig.pc(64));
        assertThat(image.rsdpGpa() % 16).isZero();
        assertThat(image.tableGpa("FACS") % 64).isZero();
        long previousEnd = image.baseGpa();
        for (String signature : List.of("RSD PTR ", "FACS", "DSDT", "FACP", "APIC", "RSDT", "XSDT")) {
            long gpa = image.tableGpa(signature);
            assertThat(gpa).as(signature).isGreaterThanOrEqualTo(previousEnd);
            previousEnd = gpa + TableBytes.table(image, signature).length;
        }
        assertThat(previousEnd).isEqualTo(image.endGpa());
        assertThat(image.endGpa()).isLessThanOrEqualTo(0x100000);
    }

    @Test
    void facsIsSixtyFourZeroedBytesWithSignature() {
        byte[] facs = TableBytes.table(AcpiTables.build(AcpiConfig.pc(1)), "FACS");
        assertThat(facs).hasSize(64);
        assertThat(ascii(facs, 0, 4)).isEqualTo("FACS");
        assertThat(u8(facs, 32)).as("version").isEqualTo(2);
        assertThat(u32(facs, 8)).as("hardware signature").isZero();
        assertThat(u32(facs, 16)).as("global lock").isZero();
    }

    @Test
    void imageFitsTheBiosAreaForLargeGuests() {
        AcpiImage image = AcpiTables.build(AcpiConfig.pc(2000));
        assertThat(image.sizeBytes()).isLessThanOrEqualTo(AcpiTables.MAX_IMAGE_SIZE_BYTES);
        assertThat(image.endGpa()).isLessThanOrEqualTo(0x100000);
    }

    @Test
    void refusesAnImageLargerThanTheTableArea() {
        assertThatThrownBy(() -> AcpiTables.build(AcpiConfig.pc(4096)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("4096 vCPUs").hasMessageContaining("131072-byte table area");
    }

    @Test
    void refusesAnImageRunningPastOneMib() {
        AcpiConfig config = new AcpiConfig(2000, 0xF0000, 0x600, 9, 0xFE, 0xFEC0_0000L, 0xFEE0_0000L, 0xCF9, 6);
        assertThatThrownBy(() -> AcpiTables.build(config)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("run past 1 MiB");
    }

    @Test
    void refusesAnImageAboveFourGib() {
        AcpiConfig config = new AcpiConfig(1, 0xFFFF_FF00L, 0x600, 9, 1, 0xFEC0_0000L, 0xFEE0_0000L, 0xCF9, 6);
        assertThatThrownBy(() -> AcpiTables.build(config)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("below 4 GiB");
    }

    @Test
    void otherBasesRelocateEveryPointer() {
        AcpiConfig config = new AcpiConfig(2, 0x9_0000, 0x600, 9, 2, 0xFEC0_0000L, 0xFEE0_0000L, 0xCF9, 6);
        AcpiImage image = AcpiTables.build(config);
        assertThat(image.rsdpGpa()).isEqualTo(0x9_0000);
        byte[] fadt = TableBytes.table(image, "FACP");
        assertThat(u32(fadt, 40)).isEqualTo(image.tableGpa("DSDT")).isBetween(0x9_0000L, image.endGpa());
    }

    @Test
    void imageIsImmutableAndDeterministic() {
        AcpiImage image = AcpiTables.build(AcpiConfig.pc(4));
        image.bytes()[0] = 0;
        assertThat(ascii(image.bytes(), 0, 8)).isEqualTo("RSD PTR ");
        assertThat(AcpiTables.build(AcpiConfig.pc(4))).isEqualTo(image);
        assertThatThrownBy(() -> image.tableGpa("SSDT")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("SSDT");
    }
}
