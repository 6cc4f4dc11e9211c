package org.jkvm.acpi;

/**
 * The Multiple APIC Description Table, signature "APIC" (ACPI 6.5 §5.2.12; Linux include/acpi/actbl2.h): the local
 * APIC address, one enabled Processor Local APIC entry per vCPU (Processor Local x2APIC for APIC IDs of 255 and up,
 * §5.2.12.12), the I/O APIC, the ISA interrupt source overrides and the LINT1 NMI wiring.
 */
final class Madt {
    static final String SIGNATURE = "APIC";
    static final int REVISION = 5; // ACPI 6.3+: the Online Capable flag is defined (jkvm sets Enabled instead)
    static final int LOCAL_APIC_ADDRESS_OFFSET = 36;
    static final int FLAGS_OFFSET = 40;
    static final int FIRST_ENTRY_OFFSET = 44;
    static final int FLAG_PCAT_COMPAT = 1;

    // Interrupt Controller Structure types (ACPI 6.5 Table 5.21) and their lengths.
    static final int TYPE_LOCAL_APIC = 0;
    static final int LOCAL_APIC_SIZE_BYTES = 8;
    static final int TYPE_IO_APIC = 1;
    static final int IO_APIC_SIZE_BYTES = 12;
    static final int TYPE_INTERRUPT_OVERRIDE = 2;
    static final int INTERRUPT_OVERRIDE_SIZE_BYTES = 10;
    static final int TYPE_LOCAL_APIC_NMI = 4;
    static final int LOCAL_APIC_NMI_SIZE_BYTES = 6;
    static final int TYPE_LOCAL_X2APIC = 9;
    static final int LOCAL_X2APIC_SIZE_BYTES = 16;
    static final int TYPE_LOCAL_X2APIC_NMI = 10;
    static final int LOCAL_X2APIC_NMI_SIZE_BYTES = 12;

    /** Local APIC Flags bit 0 (Table 5.23). */
    static final int LAPIC_ENABLED = 1;
    /** xAPIC IDs stop at 254; 255 is the broadcast ID, so x2APIC entries take over from there (§5.2.12.12). */
    static final int FIRST_X2APIC_ID = 255;
    /** "All processors" in the Local APIC NMI / Local x2APIC NMI structures. */
    static final int ALL_PROCESSORS_UID = 0xFF;
    static final long ALL_PROCESSORS_X2APIC_UID = 0xFFFF_FFFFL;
    static final int NMI_LINT = 1;

    // MPS INTI flags (Table 5.26): polarity bits 1:0, trigger mode bits 3:2.
    static final int POLARITY_ACTIVE_HIGH = 0b01;
    static final int TRIGGER_EDGE = 0b01 << 2;
    static final int TRIGGER_LEVEL = 0b11 << 2;
    static final int ISA_BUS = 0;
    /** The PIT's IRQ 0 arrives on I/O APIC pin 2 on a PC. */
    static final int PIT_IRQ = 0;
    static final int PIT_GSI = 2;

    private Madt() {
    }

    static byte[] build(AcpiConfig config) {
        ByteBuilder out = Sdt.begin(SIGNATURE, REVISION);
        out.u32(config.localApicGpa()).u32(FLAG_PCAT_COMPAT);
        for (int cpu = 0; cpu < config.cpuCount(); cpu++) {
            int apicId = cpu; // APIC ID of vCPU i is i; so is its ACPI processor UID
            if (apicId < FIRST_X2APIC_ID) {
                out.u8(TYPE_LOCAL_APIC).u8(LOCAL_APIC_SIZE_BYTES).u8(cpu).u8(apicId).u32(LAPIC_ENABLED);
            } else {
                out.u8(TYPE_LOCAL_X2APIC).u8(LOCAL_X2APIC_SIZE_BYTES).u16(0).u32(apicId).u32(LAPIC_ENABLED).u32(cpu);
            }
        }
        out.u8(TYPE_IO_APIC).u8(IO_APIC_SIZE_BYTES).u8(config.ioApicId()).u8(0).u32(config.ioApicGpa())
                .u32(0); // GSI base
        interruptOverride(out, PIT_IRQ, PIT_GSI, POLARITY_ACTIVE_HIGH | TRIGGER_EDGE);
        interruptOverride(out, config.sciIrq(), config.sciIrq(), POLARITY_ACTIVE_HIGH | TRIGGER_LEVEL);
        out.u8(TYPE_LOCAL_APIC_NMI).u8(LOCAL_APIC_NMI_SIZE_BYTES).u8(ALL_PROCESSORS_UID)
                .u16(POLARITY_ACTIVE_HIGH | TRIGGER_EDGE).u8(NMI_LINT);
        if (config.cpuCount() > FIRST_X2APIC_ID) {
            // Processors declared by x2APIC entries take their NMI wiring from x2APIC NMI entries (§5.2.12.13).
            out.u8(TYPE_LOCAL_X2APIC_NMI).u8(LOCAL_X2APIC_NMI_SIZE_BYTES).u16(POLARITY_ACTIVE_HIGH | TRIGGER_EDGE)
                    .u32(ALL_PROCESSORS_X2APIC_UID).u8(NMI_LINT).zeros(3);
        }
        return Sdt.finish(out);
    }

    private static void interruptOverride(ByteBuilder out, int isaIrq, int gsi, int flags) {
        out.u8(TYPE_INTERRUPT_OVERRIDE).u8(INTERRUPT_OVERRIDE_SIZE_BYTES).u8(ISA_BUS).u8(isaIrq).u32(gsi).u16(flags);
    }
}
