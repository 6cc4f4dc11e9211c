package org.jkvm.acpi;

/**
 * The Fixed ACPI Description Table, signature "FACP" (ACPI 6.5 §5.2.9), in its full 276-byte revision 6 form
 * (Linux include/acpi/actbl.h, struct acpi_table_fadt). jkvm's is a classic PC FADT, not hardware-reduced: PM1a
 * event and control blocks, a 24-bit PM timer, a fixed-feature power button, the reset register, and no SMI command
 * port (ACPI mode is always on).
 */
final class Fadt {
    static final String SIGNATURE = "FACP";
    static final int REVISION = 6;
    static final int MINOR_REVISION = 5; // ACPI 6.5
    static final int SIZE_BYTES = 276;

    // Byte offsets of the fields jkvm sets (ACPI 6.5 Table 5.9).
    static final int FIRMWARE_CTRL_OFFSET = 36;
    static final int DSDT_OFFSET = 40;
    static final int PREFERRED_PM_PROFILE_OFFSET = 45;
    static final int SCI_INT_OFFSET = 46;
    static final int SMI_CMD_OFFSET = 48;
    static final int PM1A_EVT_BLK_OFFSET = 56;
    static final int PM1A_CNT_BLK_OFFSET = 64;
    static final int PM_TMR_BLK_OFFSET = 76;
    static final int PM1_EVT_LEN_OFFSET = 88;
    static final int PM1_CNT_LEN_OFFSET = 89;
    static final int PM_TMR_LEN_OFFSET = 91;
    static final int P_LVL2_LAT_OFFSET = 96;
    static final int P_LVL3_LAT_OFFSET = 98;
    static final int IAPC_BOOT_ARCH_OFFSET = 109;
    static final int FLAGS_OFFSET = 112;
    static final int RESET_REG_OFFSET = 116;
    static final int RESET_VALUE_OFFSET = 128;
    static final int MINOR_REVISION_OFFSET = 131;
    static final int X_FIRMWARE_CTRL_OFFSET = 132;
    static final int X_DSDT_OFFSET = 140;
    static final int X_PM1A_EVT_BLK_OFFSET = 148;
    static final int X_PM1A_CNT_BLK_OFFSET = 172;
    static final int X_PM_TMR_BLK_OFFSET = 208;
    static final int HYPERVISOR_VENDOR_OFFSET = 268;

    /** Offsets from the PM base port of the three register blocks, and their lengths. */
    static final int PM1_EVT_OFFSET_FROM_BASE = 0;
    static final int PM1_EVT_LEN = 4;
    static final int PM1_CNT_OFFSET_FROM_BASE = 4;
    static final int PM1_CNT_LEN = 2;
    static final int PM_TMR_OFFSET_FROM_BASE = 8;
    static final int PM_TMR_LEN = 4;
    /** Ports the PM register blocks span from the PM base. */
    static final int PM_BLOCK_SPAN_BYTES = 12;

    // Fixed Feature Flags (ACPI 6.5 Table 5.10).
    static final int FLAG_WBINVD = 1 << 0;
    static final int FLAG_PROC_C1 = 1 << 2;
    static final int FLAG_PWR_BUTTON = 1 << 4; // set: power button is NOT a fixed feature
    static final int FLAG_SLP_BUTTON = 1 << 5; // set: sleep button is NOT a fixed feature
    static final int FLAG_TMR_VAL_EXT = 1 << 8;
    static final int FLAG_RESET_REG_SUP = 1 << 10;
    static final int FLAG_HW_REDUCED_ACPI = 1 << 20;
    /** jkvm's flags: WBINVD, C1, no sleep button, reset register; fixed power button; 24-bit timer. */
    static final int FLAGS = FLAG_WBINVD | FLAG_PROC_C1 | FLAG_SLP_BUTTON | FLAG_RESET_REG_SUP;

    // IA-PC Boot Architecture Flags (ACPI 6.5 Table 5.11).
    static final int BOOT_ARCH_LEGACY_DEVICES = 1 << 0;
    static final int BOOT_ARCH_8042 = 1 << 1;
    static final int IAPC_BOOT_ARCH = BOOT_ARCH_LEGACY_DEVICES | BOOT_ARCH_8042;

    /** P_LVL2_LAT above 100 and P_LVL3_LAT above 1000 mean "C2/C3 not supported". */
    static final int C_STATE_UNSUPPORTED_LATENCY = 0x0FFF;

    private Fadt() {
    }

    static byte[] build(AcpiConfig config, long facsGpa, long dsdtGpa) {
        int pm1aEvt = config.pmBasePort() + PM1_EVT_OFFSET_FROM_BASE;
        int pm1aCnt = config.pmBasePort() + PM1_CNT_OFFSET_FROM_BASE;
        int pmTmr = config.pmBasePort() + PM_TMR_OFFSET_FROM_BASE;

        ByteBuilder out = Sdt.begin(SIGNATURE, REVISION);
        out.u32(facsGpa) // FIRMWARE_CTRL
                .u32(dsdtGpa) // DSDT
                .u8(0) // reserved (was INT_MODEL)
                .u8(0) // Preferred_PM_Profile: unspecified
                .u16(config.sciIrq()) // SCI_INT
                .u32(0) // SMI_CMD: none, ACPI mode is always enabled
                .u8(0).u8(0) // ACPI_ENABLE, ACPI_DISABLE
                .u8(0).u8(0) // S4BIOS_REQ, PSTATE_CNT
                .u32(pm1aEvt).u32(0) // PM1a_EVT_BLK, PM1b_EVT_BLK
                .u32(pm1aCnt).u32(0) // PM1a_CNT_BLK, PM1b_CNT_BLK
                .u32(0) // PM2_CNT_BLK
                .u32(pmTmr) // PM_TMR_BLK
                .u32(0).u32(0) // GPE0_BLK, GPE1_BLK
                .u8(PM1_EVT_LEN).u8(PM1_CNT_LEN).u8(0).u8(PM_TMR_LEN) // PM1_EVT_LEN, PM1_CNT_LEN, PM2, PM_TMR
                .u8(0).u8(0).u8(0) // GPE0_BLK_LEN, GPE1_BLK_LEN, GPE1_BASE
                .u8(0) // CST_CNT
                .u16(C_STATE_UNSUPPORTED_LATENCY).u16(C_STATE_UNSUPPORTED_LATENCY) // P_LVL2_LAT, P_LVL3_LAT
                .u16(0).u16(0) // FLUSH_SIZE, FLUSH_STRIDE (WBINVD works)
                .u8(0).u8(0) // DUTY_OFFSET, DUTY_WIDTH
                .u8(0).u8(0).u8(0) // DAY_ALRM, MON_ALRM, CENTURY: RTC alarm/century registers not advertised
                .u16(IAPC_BOOT_ARCH)
                .u8(0) // reserved
                .u32(FLAGS);
        GenericAddress.systemIo(config.resetPort(), 8, GenericAddress.ACCESS_BYTE).writeTo(out);
        out.u8(config.resetValue())
                .u16(0) // ARM_BOOT_ARCH
                .u8(MINOR_REVISION)
                .u64(facsGpa) // X_FIRMWARE_CTRL
                .u64(dsdtGpa); // X_DSDT
        GenericAddress.systemIo(pm1aEvt, PM1_EVT_LEN * 8, GenericAddress.ACCESS_UNDEFINED).writeTo(out);
        GenericAddress.NONE.writeTo(out); // X_PM1b_EVT_BLK
        GenericAddress.systemIo(pm1aCnt, PM1_CNT_LEN * 8, GenericAddress.ACCESS_UNDEFINED).writeTo(out);
        GenericAddress.NONE.writeTo(out); // X_PM1b_CNT_BLK
        GenericAddress.NONE.writeTo(out); // X_PM2_CNT_BLK
        GenericAddress.systemIo(pmTmr, PM_TMR_LEN * 8, GenericAddress.ACCESS_UNDEFINED).writeTo(out);
        GenericAddress.NONE.writeTo(out); // X_GPE0_BLK
        GenericAddress.NONE.writeTo(out); // X_GPE1_BLK
        GenericAddress.NONE.writeTo(out); // SLEEP_CONTROL_REG (hardware-reduced only)
        GenericAddress.NONE.writeTo(out); // SLEEP_STATUS_REG
        out.ascii("JKVM    ", 8); // Hypervisor Vendor Identity
        if (out.sizeBytes() != SIZE_BYTES) {
            throw new IllegalStateException("FADT is " + out.sizeBytes() + " bytes, expected " + SIZE_BYTES);
        }
        return Sdt.finish(out);
    }
}
