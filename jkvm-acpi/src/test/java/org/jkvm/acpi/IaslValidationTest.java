package org.jkvm.acpi;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Validates the tables with ACPICA, the reference implementation Linux embeds: {@code iasl -d} must decode every
 * table cleanly, the DSDT's disassembly must recompile to the same AML, and {@code acpiexec} must load the tables
 * and evaluate {@code \_S5} and the {@code _CRS} objects. (iasl cannot load an RSDP from a file, ACPICA
 * acfileio.c "Loading an RSDP is not supported", so the RSDP is checked in {@link AcpiTablesTest}.)
 */
class IaslValidationTest {
    @TempDir
    Path dir;

    private String disassemble(AcpiImage image, String signature) throws Exception {
        AcpicaTool iasl = AcpicaTool.require("iasl");
        String base = signature.toLowerCase();
        Files.write(dir.resolve(base + ".dat"), TableBytes.table(image, signature));
        String output = iasl.runClean(dir, "-d", base + ".dat");
        assertThat(output).contains("[" + signature + "]");
        return Files.readString(dir.resolve(base + ".dsl"));
    }

    private static int count(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 4, 64, 300})
    void madtDecodesWithOneProcessorEntryPerVcpu(int cpuCount) throws Exception {
        String dsl = disassemble(AcpiTables.build(AcpiConfig.pc(cpuCount)), "APIC");
        int xapic = Math.min(cpuCount, 255);
        assertThat(count(dsl, "Subtable Type : 00 \\[Processor Local APIC\\]")).isEqualTo(xapic);
        assertThat(count(dsl, "Subtable Type : 09 \\[Processor Local x2APIC\\]")).isEqualTo(cpuCount - xapic);
        assertThat(count(dsl, "Processor Enabled : 1")).isEqualTo(cpuCount);
        assertThat(count(dsl, "Subtable Type : 01 \\[I/O APIC\\]")).isEqualTo(1);
        assertThat(count(dsl, "Subtable Type : 02 \\[Interrupt Source Override\\]")).isEqualTo(2);
        assertThat(count(dsl, "Subtable Type : 04 \\[Local APIC NMI\\]")).isEqualTo(1);
        assertThat(dsl).contains("Local Apic Address : FEE00000").contains("Address : FEC00000")
                .contains("PC-AT Compatibility : 1");
        assertThat(dsl).containsPattern("Local Apic ID : " + String.format("%02X", xapic - 1));
        if (cpuCount > 255) {
            assertThat(dsl).containsPattern("Processor x2Apic ID : " + String.format("%08X", cpuCount - 1));
        }
    }

    @Test
    void fadtDecodesWithJkvmsPmRegisters() throws Exception {
        String dsl = disassemble(AcpiTables.build(AcpiConfig.pc(4)), "FACP");
        assertThat(dsl).containsPattern("Revision : 06")
                .containsPattern("SCI Interrupt : 0009")
                .containsPattern("SMI Command Port : 00000000")
                .containsPattern("PM1A Event Block Address : 00000600")
                .containsPattern("PM1A Control Block Address : 00000604")
                .containsPattern("PM Timer Block Address : 00000608")
                .containsPattern("Legacy Devices Supported \\(V2\\) : 1")
                .containsPattern("8042 Present on ports 60/64 \\(V2\\) : 1")
                .containsPattern("WBINVD instruction is operational \\(V1\\) : 1")
                .containsPattern("Control Method Power Button \\(V1\\) : 0")
                .containsPattern("Control Method Sleep Button \\(V1\\) : 1")
                .containsPattern("32-bit PM Timer \\(V1\\) : 0")
                .containsPattern("Reset Register Supported \\(V2\\) : 1")
                .containsPattern("Hardware Reduced \\(V5\\) : 0")
                .containsPattern("Address : 0000000000000CF9")
                .containsPattern("Value to cause reset : 06");
    }

    @Test
    void facsAndRootTablesDecode() throws Exception {
        AcpiImage image = AcpiTables.build(AcpiConfig.pc(4));
        assertThat(disassemble(image, "FACS")).containsPattern("Length : 00000040").containsPattern("Version : 02");
        String fadtAt = String.format("%08X", image.tableGpa("FACP"));
        String madtAt = String.format("%08X", image.tableGpa("APIC"));
        assertThat(disassemble(image, "RSDT")).contains("ACPI Table Address   0 : " + fadtAt)
                .contains("ACPI Table Address   1 : " + madtAt);
        assertThat(disassemble(image, "XSDT")).contains("ACPI Table Address   0 : 00000000" + fadtAt)
                .contains("ACPI Table Address   1 : 00000000" + madtAt);
    }

    @Test
    void hpetTableDecodesAndIsListedOnlyWhenTheMachineHasOne() throws Exception {
        AcpiImage image = AcpiTables.build(AcpiConfig.pc(2).withHpet(AcpiConfig.PC_HPET_GPA));
        assertThat(disassemble(image, "HPET")).containsPattern("Length : 00000038")
                .containsPattern("Hardware Block ID : 8086A201")
                .containsPattern("Address : 00000000FED00000")
                .containsPattern("Minimum Clock Ticks : 0080");
        String hpetAt = String.format("%08X", image.tableGpa("HPET"));
        assertThat(disassemble(image, "XSDT")).contains("ACPI Table Address   2 : 00000000" + hpetAt);
        assertThat(disassemble(image, "RSDT")).contains("ACPI Table Address   2 : " + hpetAt);
        AcpiImage without = AcpiTables.build(AcpiConfig.pc(2));
        assertThat(without.tableGpas()).doesNotContainKey("HPET");
        assertThat(disassemble(without, "XSDT")).doesNotContain("ACPI Table Address   2");
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 300})
    void dsdtDisassemblesAndRecompilesToTheSameAml(int cpuCount) throws Exception {
        byte[] dsdt = TableBytes.table(AcpiTables.build(AcpiConfig.pc(cpuCount)), "DSDT");
        String dsl = disassemble(AcpiTables.build(AcpiConfig.pc(cpuCount)), "DSDT");
        assertThat(dsl).contains("Name (_S5, Package (0x04)")
                .contains("EisaId (\"PNP0501\")").contains("EisaId (\"PNP0B00\")").contains("EisaId (\"PNP0303\")")
                .contains("Scope (\\_SB)").contains("Device (COM1)").contains("Device (RTC)").contains("Device (KBD)")
                .contains("Device (PEVT)").contains("Name (_HID, \"QEMU0001\")");
        assertThat(dsl).containsPattern("IO \\(Decode16,\\s+0x03F8,\\s+// Range Minimum\\s+0x03F8,\\s+// Range Maximum"
                + "\\s+0x01,\\s+// Alignment\\s+0x08,");
        assertThat(dsl).containsPattern("IRQNoFlags \\(\\)\\s+\\{4\\}").containsPattern("IRQNoFlags \\(\\)\\s+\\{8\\}")
                .containsPattern("IRQNoFlags \\(\\)\\s+\\{1\\}");
        assertThat(count(dsl, "\"ACPI0007\"")).isEqualTo(cpuCount);

        // Recompile with optimizations off: the body must be byte-identical to what jkvm's AML builder wrote.
        assertThat(AcpicaTool.require("iasl").runClean(dir, "-oa", "-p", "recompiled", "dsdt.dsl"))
                .contains("0 Errors, 0 Warnings, 0 Remarks");
        byte[] recompiled = Files.readAllBytes(dir.resolve("recompiled.aml"));
        assertThat(Arrays.copyOfRange(recompiled, 36, recompiled.length))
                .isEqualTo(Arrays.copyOfRange(dsdt, 36, dsdt.length));
    }

    @Test
    void acpiexecLoadsTheTablesAndEvaluatesS5AndResources() throws Exception {
        AcpicaTool acpiexec = AcpicaTool.require("acpiexec");
        AcpiImage image = AcpiTables.build(AcpiConfig.pc(4));
        for (String signature : new String[] {"FACP", "DSDT", "APIC"}) {
            Files.write(dir.resolve(signature.toLowerCase() + ".dat"), TableBytes.table(image, signature));
        }
        AcpicaTool.Result result = acpiexec.run(dir, "-b",
                "evaluate \\_S5; evaluate \\_SB.COM1._CRS; evaluate \\_SB.RTC._CRS; evaluate \\_SB.C003._UID; "
                        + "evaluate \\_SB.PEVT._CRS",
                "facp.dat", "dsdt.dat", "apic.dat");
        String out = result.output();
        assertThat(result.exitCode()).as(out).isZero();
        assertThat(out).doesNotContain("ACPI Error").doesNotContain("ACPI Warning").doesNotContain("failed with status");
        assertThat(out).containsPattern("Evaluation of \\\\_S5 returned object[^\\n]*\\n\\s+\\[Package\\] Contains 4 "
                + "Elements:\\s+\\[Integer\\] = 0000000000000005\\s+\\[Integer\\] = 0000000000000005\\s+"
                + "\\[Integer\\] = 0000000000000000\\s+\\[Integer\\] = 0000000000000000");
        assertThat(out).contains("47 01 F8 03 F8 03 01 08 22 10 00 79 00");
        assertThat(out).contains("47 01 70 00 70 00 01 02 22 00 01 79 00");
        assertThat(out).contains("47 01 05 05 05 05 01 01 79 00"); // pvpanic: IO 0x505, one port
        assertThat(out).containsPattern("C003._UID returned object[^\\n]*\\n\\s+\\[Integer\\] = 0000000000000003");
    }

    static final PciHostConfig PCI = new PciHostConfig(0xE000_0000L, 0xC000_0000L, 0x2000_0000L,
            0x1_0000_0000L, 0x4_0000_0000L, 16);

    @Test
    void mcfgDecodesWithTheEcamWindow() throws Exception {
        AcpiImage image = AcpiTables.build(AcpiConfig.pc(2), PCI);
        assertThat(disassemble(image, "MCFG")).containsPattern("Base Address : 00000000E0000000")
                .containsPattern("Segment Group Number : 0000").containsPattern("Start Bus Number : 00")
                .containsPattern("End Bus Number : 00");
        String mcfgAt = String.format("%08X", image.tableGpa("MCFG"));
        assertThat(disassemble(image, "XSDT")).contains("ACPI Table Address   2 : 00000000" + mcfgAt);
    }

    @Test
    void pciRootBridgeRecompilesToTheSameAml() throws Exception {
        AcpiImage image = AcpiTables.build(AcpiConfig.pc(2), PCI);
        byte[] dsdt = TableBytes.table(image, "DSDT");
        String dsl = disassemble(image, "DSDT");
        assertThat(dsl).contains("Device (PCI0)").contains("EisaId (\"PNP0A08\")").contains("EisaId (\"PNP0A03\")")
                .contains("Name (_PRT, Package (0x7C)").contains("EisaId (\"PNP0C02\")");
        assertThat(dsl).containsPattern("WordBusNumber \\(ResourceProducer, MinFixed, MaxFixed, PosDecode,")
                .containsPattern("DWordMemory \\(ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, "
                        + "ReadWrite,\\s+0x00000000,\\s+// Granularity\\s+0xC0000000,\\s+// Range Minimum\\s+"
                        + "0xDFFFFFFF,")
                .containsPattern("QWordMemory \\(ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, "
                        + "ReadWrite,\\s+0x0000000000000000,\\s+// Granularity\\s+0x0000000100000000,");
        // slot 1 INTA -> GSI 17, slot 3 INTB -> GSI 16
        assertThat(dsl).containsPattern("Package \\(0x04\\)\\s+\\{\\s+0x0001FFFF,\\s+Zero,\\s+Zero,\\s+0x11\\s+\\}")
                .containsPattern("Package \\(0x04\\)\\s+\\{\\s+0x0003FFFF,\\s+One,\\s+Zero,\\s+0x10\\s+\\}");
        assertThat(AcpicaTool.require("iasl").runClean(dir, "-oa", "-p", "recompiled", "dsdt.dsl"))
                .contains("0 Errors, 0 Warnings, 0 Remarks");
        byte[] recompiled = Files.readAllBytes(dir.resolve("recompiled.aml"));
        assertThat(Arrays.copyOfRange(recompiled, 36, recompiled.length))
                .isEqualTo(Arrays.copyOfRange(dsdt, 36, dsdt.length));
    }

    @Test
    void acpiexecEvaluatesThePciRoot() throws Exception {
        AcpicaTool acpiexec = AcpicaTool.require("acpiexec");
        AcpiImage image = AcpiTables.build(AcpiConfig.pc(2), PCI);
        for (String signature : new String[] {"FACP", "DSDT", "APIC"}) {
            Files.write(dir.resolve(signature.toLowerCase() + ".dat"), TableBytes.table(image, signature));
        }
        AcpicaTool.Result result = acpiexec.run(dir, "-b",
                "evaluate \\_SB.PCI0._CRS; evaluate \\_SB.PCI0._PRT; evaluate \\_SB.MCRS._CRS",
                "facp.dat", "dsdt.dat", "apic.dat");
        String out = result.output();
        assertThat(result.exitCode()).as(out).isZero();
        assertThat(out).doesNotContain("ACPI Error").doesNotContain("ACPI Warning").doesNotContain("failed with status");
        assertThat(out).contains("PCI0._PRT returned object").contains("Contains 124 Elements");
    }
}
