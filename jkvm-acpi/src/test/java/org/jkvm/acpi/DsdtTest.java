package org.jkvm.acpi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jkvm.acpi.TableBytes.u8;

import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class DsdtTest {
    private static final HexFormat HEX = HexFormat.of();

    private static String hex(byte[] b) {
        return HEX.formatHex(b);
    }

    @Test
    void startsWithTheS5PackageAfterTheHeader() {
        byte[] dsdt = TableBytes.table(AcpiTables.build(AcpiConfig.pc(1)), "DSDT");
        assertThat(u8(dsdt, 8)).as("revision 2: 64-bit integers").isEqualTo(2);
        // Name(_S5_, Package(4) {5, 5, 0, 0}), byte by byte from ACPI 6.5 §20.2.
        assertThat(hex(Arrays.copyOfRange(dsdt, 36, 36 + 14))).isEqualTo("085f53355f" + "1208" + "04" + "0a05" + "0a05" + "0000");
    }

    @Test
    void describesTheLegacyDevicesByEisaId() {
        String aml = hex(TableBytes.table(AcpiTables.build(AcpiConfig.pc(1)), "DSDT"));
        assertThat(aml).contains("0c41d00501"); // EisaId("PNP0501"), COM1
        assertThat(aml).contains("0c41d00b00"); // EisaId("PNP0B00"), RTC
        assertThat(aml).contains("0c41d00303"); // EisaId("PNP0303"), i8042
        assertThat(aml).contains("4701f803f803010822100079"); // IO(0x3F8, len 8), IRQNoFlags {4}, end tag
        assertThat(aml).contains("470170007000010222000179"); // IO(0x70, len 2), IRQNoFlags {8}, end tag
    }

    @Test
    void oneProcessorDevicePerVcpu() {
        for (int cpus : new int[] {1, 4, 300}) {
            String aml = new String(TableBytes.table(AcpiTables.build(AcpiConfig.pc(cpus)), "DSDT"),
                    java.nio.charset.StandardCharsets.ISO_8859_1);
            assertThat(countOf(aml, "ACPI0007")).isEqualTo(cpus);
            assertThat(aml).contains(Dsdt.processorDeviceName(cpus - 1));
        }
        assertThat(Dsdt.processorDeviceName(0)).isEqualTo("C000");
        assertThat(Dsdt.processorDeviceName(299)).isEqualTo("C12B");
    }

    private static int countOf(String text, String needle) {
        int count = 0;
        for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) {
            count++;
        }
        return count;
    }
}
