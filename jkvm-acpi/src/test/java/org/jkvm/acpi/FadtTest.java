package org.jkvm.acpi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jkvm.acpi.TableBytes.u16;
import static org.jkvm.acpi.TableBytes.u32;
import static org.jkvm.acpi.TableBytes.u64;
import static org.jkvm.acpi.TableBytes.u8;

import org.junit.jupiter.api.Test;

/** Offsets from ACPI 6.5 Table 5.9 / Linux struct acpi_table_fadt, written out here rather than shared. */
class FadtTest {
    private final AcpiImage image = AcpiTables.build(AcpiConfig.pc(4));
    private final byte[] fadt = TableBytes.table(image, "FACP");

    @Test
    void isTheFullRevisionSixTable() {
        assertThat(fadt).hasSize(276);
        assertThat(u8(fadt, 8)).as("revision").isEqualTo(6);
        assertThat(u8(fadt, 131)).as("minor revision").isEqualTo(5);
    }

    @Test
    void pointsAtTheDsdtAndFacsBothWays() {
        assertThat(u32(fadt, 36)).as("FIRMWARE_CTRL").isEqualTo(image.tableGpa("FACS"));
        assertThat(u32(fadt, 40)).as("DSDT").isEqualTo(image.tableGpa("DSDT"));
        assertThat(u64(fadt, 132)).as("X_FIRMWARE_CTRL").isEqualTo(image.tableGpa("FACS"));
        assertThat(u64(fadt, 140)).as("X_DSDT").isEqualTo(image.tableGpa("DSDT"));
    }

    @Test
    void sciAndNoSmiCommandPort() {
        assertThat(u16(fadt, 46)).as("SCI_INT").isEqualTo(9);
        assertThat(u32(fadt, 48)).as("SMI_CMD").isZero();
        assertThat(u8(fadt, 52)).as("ACPI_ENABLE").isZero();
    }

    @Test
    void pmRegisterBlocksAtTheirPorts() {
        assertThat(u32(fadt, 56)).as("PM1a_EVT_BLK").isEqualTo(0x600);
        assertThat(u32(fadt, 60)).as("PM1b_EVT_BLK").isZero();
        assertThat(u32(fadt, 64)).as("PM1a_CNT_BLK").isEqualTo(0x604);
        assertThat(u32(fadt, 68)).as("PM1b_CNT_BLK").isZero();
        assertThat(u32(fadt, 76)).as("PM_TMR_BLK").isEqualTo(0x608);
        assertThat(u32(fadt, 80)).as("GPE0_BLK").isZero();
        assertThat(u8(fadt, 88)).as("PM1_EVT_LEN").isEqualTo(4);
        assertThat(u8(fadt, 89)).as("PM1_CNT_LEN").isEqualTo(2);
        assertThat(u8(fadt, 91)).as("PM_TMR_LEN").isEqualTo(4);
        assertThat(u8(fadt, 92)).as("GPE0_BLK_LEN").isZero();
    }

    @Test
    void extendedAddressesMatchTheLegacyBlocks() {
        assertGas(148, 1, 32, 0x600); // X_PM1a_EVT_BLK
        assertGas(172, 1, 16, 0x604); // X_PM1a_CNT_BLK
        assertGas(208, 1, 32, 0x608); // X_PM_TMR_BLK
        assertGas(160, 0, 0, 0); // X_PM1b_EVT_BLK
        assertGas(220, 0, 0, 0); // X_GPE0_BLK
    }

    @Test
    void flags() {
        long flags = u32(fadt, 112);
        assertThat(flags & 1).as("WBINVD").isEqualTo(1);
        assertThat(flags & (1 << 2)).as("PROC_C1").isNotZero();
        assertThat(flags & (1 << 4)).as("PWR_BUTTON clear: fixed-feature power button").isZero();
        assertThat(flags & (1 << 5)).as("SLP_BUTTON: no sleep button").isNotZero();
        assertThat(flags & (1 << 8)).as("TMR_VAL_EXT clear: 24-bit timer").isZero();
        assertThat(flags & (1 << 10)).as("RESET_REG_SUP").isNotZero();
        assertThat(flags & (1 << 20)).as("not HW_REDUCED_ACPI").isZero();
        assertThat(flags).isEqualTo(0x425);
    }

    @Test
    void bootArchitectureHasLegacyDevicesAnd8042() {
        assertThat(u16(fadt, 109)).isEqualTo(0b11);
    }

    @Test
    void resetRegisterIsPortCf9Value6() {
        assertGas(116, 1, 8, 0xCF9);
        assertThat(u8(fadt, 116 + 3)).as("byte access").isEqualTo(1);
        assertThat(u8(fadt, 128)).as("RESET_VALUE").isEqualTo(6);
    }

    @Test
    void cStatesBeyondC1AreDisabled() {
        assertThat(u16(fadt, 96)).as("P_LVL2_LAT").isGreaterThan(100);
        assertThat(u16(fadt, 98)).as("P_LVL3_LAT").isGreaterThan(1000);
    }

    @Test
    void followsAnotherPmBaseAndSci() {
        AcpiConfig config = new AcpiConfig(1, 0xE0000, 0xB000, 10, 1, 0xFEC0_0000L, 0xFEE0_0000L, 0x92, 1);
        byte[] other = TableBytes.table(AcpiTables.build(config), "FACP");
        assertThat(u16(other, 46)).isEqualTo(10);
        assertThat(u32(other, 56)).isEqualTo(0xB000);
        assertThat(u32(other, 64)).isEqualTo(0xB004);
        assertThat(u32(other, 76)).isEqualTo(0xB008);
        assertThat(u64(other, 116 + 4)).isEqualTo(0x92);
        assertThat(u8(other, 128)).isEqualTo(1);
    }

    private void assertGas(int offset, int spaceId, int bitWidth, long address) {
        assertThat(u8(fadt, offset)).as("space id at %d", offset).isEqualTo(spaceId);
        assertThat(u8(fadt, offset + 1)).as("bit width at %d", offset).isEqualTo(bitWidth);
        assertThat(u8(fadt, offset + 2)).as("bit offset at %d", offset).isZero();
        assertThat(u64(fadt, offset + 4)).as("address at %d", offset).isEqualTo(address);
    }
}
