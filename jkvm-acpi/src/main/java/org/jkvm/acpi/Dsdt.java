package org.jkvm.acpi;

import java.util.ArrayList;
import java.util.List;
import org.jkvm.acpi.aml.Aml;
import org.jkvm.acpi.aml.AmlResources;
import org.jkvm.acpi.aml.AmlTerm;

/**
 * The Differentiated System Description Table (ACPI 6.5 §5.2.11.1): a header and an AML definition block. jkvm's
 * holds the {@code \_S5_} soft-off package (§7.4.2, sleep type 5, what jkvm's PM device treats as soft-off) and, in
 * {@code \_SB}, the legacy ISA devices (COM1, the CMOS RTC, the i8042 keyboard controller, the pvpanic port) with
 * their resources,
 * and one processor device (ACPI0007, §8.4) per vCPU whose {@code _UID} matches the MADT's processor UID.
 */
final class Dsdt {
    static final String SIGNATURE = "DSDT";
    /** Revision 2 and above: AML integers are 64-bit (§5.2.11.1). */
    static final int REVISION = 2;
    /** SLP_TYPa/SLP_TYPb for S5, what the PM1 control register's SLP_TYP field receives on poweroff. */
    static final int S5_SLEEP_TYPE = 5;

    static final int COM1_PORT = 0x3F8;
    static final int COM1_PORT_COUNT = 8;
    static final int COM1_IRQ = 4;
    static final int RTC_PORT = 0x70;
    static final int RTC_PORT_COUNT = 2;
    static final int RTC_IRQ = 8;
    static final int I8042_DATA_PORT = 0x60;
    static final int I8042_COMMAND_PORT = 0x64;
    static final int I8042_IRQ = 1;
    /** QEMU's pvpanic ISA port (docs/specs/pvpanic.rst). */
    static final int PVPANIC_PORT = 0x505;
    /** ISA IRQs the DSDT's devices use; the SCI must not share them (it is level-triggered, they are edge). */
    static final List<Integer> LEGACY_DEVICE_IRQS = List.of(I8042_IRQ, COM1_IRQ, RTC_IRQ);
    /** Processor devices are named C000..CFFF, so at most 4096 fit in the name space jkvm uses. */
    static final int MAX_PROCESSOR_DEVICES = 0x1000;

    private Dsdt() {
    }

    static byte[] build(AcpiConfig config, PciHostConfig pci) {
        ByteBuilder out = Sdt.begin(SIGNATURE, REVISION);
        out.bytes(definitionBlock(config, pci));
        return Sdt.finish(out);
    }

    /** The AML after the header. */
    static byte[] definitionBlock(AcpiConfig config) {
        return definitionBlock(config, null);
    }

    /** The AML after the header, with the PCI root bridge when {@code pci} is not null. */
    static byte[] definitionBlock(AcpiConfig config, PciHostConfig pci) {
        AmlTerm s5 = Aml.name("_S5_", Aml.pkg(Aml.integer(S5_SLEEP_TYPE), Aml.integer(S5_SLEEP_TYPE),
                Aml.integer(0), Aml.integer(0)));

        List<AmlTerm> systemBus = new ArrayList<>();
        systemBus.add(Aml.device("COM1",
                Aml.name("_HID", Aml.eisaId("PNP0501")),
                Aml.name("_UID", Aml.integer(1)),
                Aml.name("_CRS", AmlResources.template(
                        AmlResources.io16(COM1_PORT, COM1_PORT, 1, COM1_PORT_COUNT),
                        AmlResources.irqNoFlags(COM1_IRQ)))));
        systemBus.add(Aml.device("RTC",
                Aml.name("_HID", Aml.eisaId("PNP0B00")),
                Aml.name("_CRS", AmlResources.template(
                        AmlResources.io16(RTC_PORT, RTC_PORT, 1, RTC_PORT_COUNT),
                        AmlResources.irqNoFlags(RTC_IRQ)))));
        systemBus.add(Aml.device("KBD",
                Aml.name("_HID", Aml.eisaId("PNP0303")),
                Aml.name("_CRS", AmlResources.template(
                        AmlResources.io16(I8042_DATA_PORT, I8042_DATA_PORT, 1, 1),
                        AmlResources.io16(I8042_COMMAND_PORT, I8042_COMMAND_PORT, 1, 1),
                        AmlResources.irqNoFlags(I8042_IRQ)))));
        // QEMU's pvpanic device, as QEMU describes it, so Linux's pvpanic driver (pvpanic-mmio) binds to it.
        systemBus.add(Aml.device("PEVT",
                Aml.name("_HID", Aml.string("QEMU0001")),
                Aml.name("_STA", Aml.integer(0xF)),
                Aml.name("_CRS", AmlResources.template(
                        AmlResources.io16(PVPANIC_PORT, PVPANIC_PORT, 1, 1)))));
        for (int cpu = 0; cpu < config.cpuCount(); cpu++) {
            systemBus.add(Aml.device(processorDeviceName(cpu),
                    Aml.name("_HID", Aml.string("ACPI0007")),
                    Aml.name("_UID", Aml.integer(cpu))));
        }
        if (pci != null) {
            systemBus.add(pciRoot(pci));
            systemBus.add(Aml.device("MCRS",
                    Aml.name("_HID", Aml.eisaId("PNP0C02")),
                    Aml.name("_UID", Aml.integer(1)),
                    Aml.name("_CRS", AmlResources.template(
                            AmlResources.memory32Fixed(false, pci.ecamGpa(), PciHostConfig.ECAM_BYTES)))));
        }
        AmlTerm sb = Aml.scope("\\_SB", systemBus.toArray(AmlTerm[]::new));
        return AmlTerm.concat(s5, sb);
    }

    /** PCI configuration mechanism #1 ports (0xCF8-0xCFF), which the root bridge consumes. */
    static final int PCI_CONFIG_PORT = 0xCF8;

    /**
     * The PCI root bridge (PCI Firmware Specification 3.0 section 4.1.5; ACPI 6.5 §6.2.13 for {@code _PRT}):
     * {@code \_SB.PCI0}, a PCI Express root (PNP0A08) compatible with PCI (PNP0A03), segment 0, bus 0, whose
     * {@code _CRS} lists bus 0 (what MCFG covers), the config ports, the I/O space around them and the MMIO windows, and whose
     * {@code _PRT} wires each slot's INTA-INTD straight to I/O APIC inputs (GSIs, no link devices).
     */
    static AmlTerm pciRoot(PciHostConfig pci) {
        List<byte[]> crs = new ArrayList<>();
        crs.add(AmlResources.wordBusNumber(0, 0)); // the bus MCFG covers
        crs.add(AmlResources.io16(PCI_CONFIG_PORT, PCI_CONFIG_PORT, 1, 8));
        crs.add(AmlResources.wordIo(0x0000, PCI_CONFIG_PORT - 1));
        crs.add(AmlResources.wordIo(0x0D00, 0xFFFF));
        crs.add(AmlResources.dwordMemory(pci.mmio32Gpa(), pci.mmio32Bytes()));
        if (pci.mmio64Bytes() > 0) {
            crs.add(AmlResources.qwordMemory(pci.mmio64Gpa(), pci.mmio64Bytes()));
        }
        List<AmlTerm> routes = new ArrayList<>();
        for (int slot = 1; slot < PciHostConfig.SLOTS; slot++) {
            for (int pin = 0; pin < 4; pin++) {
                routes.add(Aml.pkg(Aml.integer(((long) slot << 16) | 0xFFFF), Aml.integer(pin), Aml.integer(0),
                        Aml.integer(pci.intxGsi(slot, pin))));
            }
        }
        return Aml.device("PCI0",
                Aml.name("_HID", Aml.eisaId("PNP0A08")),
                Aml.name("_CID", Aml.eisaId("PNP0A03")),
                Aml.name("_SEG", Aml.integer(0)),
                Aml.name("_BBN", Aml.integer(0)),
                Aml.name("_UID", Aml.integer(0)),
                Aml.name("_CRS", AmlResources.template(crs.toArray(byte[][]::new))),
                Aml.name("_PRT", Aml.pkg(routes.toArray(AmlTerm[]::new))));
    }

    /** {@code C000}, {@code C001}, ... {@code CFFF}: the processor device of vCPU {@code cpu}. */
    static String processorDeviceName(int cpu) {
        if (cpu < 0 || cpu >= MAX_PROCESSOR_DEVICES) {
            throw new IllegalArgumentException("no processor device name for vCPU " + cpu);
        }
        return String.format("C%03X", cpu);
    }
}
