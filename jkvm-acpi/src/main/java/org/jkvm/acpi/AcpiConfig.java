package org.jkvm.acpi;

/**
 * What jkvm's ACPI tables describe: the vCPUs, where the tables go, the ACPI PM register block (PM1a event, PM1a
 * control, PM timer; ACPI 6.5 §4.8.1), the SCI, the interrupt controllers and the reset register (§4.8.3.6).
 *
 * @param cpuCount     vCPUs, APIC IDs and ACPI processor UIDs 0..cpuCount-1
 * @param baseGpa      guest-physical address of the image (the RSDP is its first byte), 16-byte aligned
 * @param pmBasePort   first I/O port of the PM registers: PM1a_EVT_BLK (4 bytes) at +0, PM1a_CNT_BLK (2) at +4,
 *                     PM_TMR_BLK (4) at +8
 * @param sciIrq       ISA IRQ (and GSI) of the System Control Interrupt, level-triggered active-high
 * @param ioApicId     the I/O APIC's ID in the MADT (8 bits)
 * @param ioApicGpa    the I/O APIC's MMIO base
 * @param localApicGpa the local APICs' MMIO base
 * @param resetPort    I/O port of the FADT reset register
 * @param resetValue   byte the OS writes to {@code resetPort} to reset the machine
 * @param hpetGpa      the HPET's MMIO base, described by an HPET table, or {@link #NO_HPET} for no table
 */
public record AcpiConfig(int cpuCount, long baseGpa, int pmBasePort, int sciIrq, int ioApicId, long ioApicGpa,
                         long localApicGpa, int resetPort, int resetValue, long hpetGpa) {
    /** The PC's ACPI table area, 0xE0000-0xFFFFF, which Linux scans for the RSDP. */
    public static final long PC_TABLE_AREA_GPA = 0xE0000L;
    public static final int PC_PM_BASE_PORT = 0x600;
    public static final int PC_SCI_IRQ = 9;
    public static final long PC_IO_APIC_GPA = 0xFEC0_0000L;
    public static final long PC_LOCAL_APIC_GPA = 0xFEE0_0000L;
    /** The PIIX/ICH reset control register and its "hard reset" value (system reset + reset CPU). */
    public static final int PC_RESET_PORT = 0xCF9;
    public static final int PC_RESET_VALUE = 0x06;
    /** The largest vCPU count jkvm describes (x2APIC IDs; the image size limit may refuse fewer). */
    public static final int MAX_CPU_COUNT = 4096;
    /** The highest I/O APIC ID: the MADT field is 8 bits and 0xFF is reserved as broadcast. */
    public static final int MAX_IO_APIC_ID = 0xFE;
    /** {@link #hpetGpa()} when the machine has no HPET. */
    public static final long NO_HPET = 0;
    /** Where PCs put the HPET. */
    public static final long PC_HPET_GPA = 0xFED0_0000L;

    public AcpiConfig {
        if (cpuCount < 1 || cpuCount > MAX_CPU_COUNT) {
            throw new IllegalArgumentException("cpuCount " + cpuCount + " is outside 1-" + MAX_CPU_COUNT);
        }
        if (baseGpa < 0 || baseGpa % RootTables.RSDP_ALIGNMENT_BYTES != 0) {
            throw new IllegalArgumentException(String.format(
                    "baseGpa 0x%X must be non-negative and 16-byte aligned (the RSDP is at the base)", baseGpa));
        }
        if (pmBasePort <= 0 || pmBasePort + Fadt.PM_BLOCK_SPAN_BYTES > 0x1_0000) {
            throw new IllegalArgumentException(String.format(
                    "pmBasePort 0x%X must be non-zero and leave room for %d ports below 0x10000",
                    pmBasePort, Fadt.PM_BLOCK_SPAN_BYTES));
        }
        if (sciIrq < 0 || sciIrq > 15 || sciIrq == Madt.PIT_IRQ || sciIrq == Madt.PIT_GSI
                || Dsdt.LEGACY_DEVICE_IRQS.contains(sciIrq)) {
            throw new IllegalArgumentException("sciIrq " + sciIrq + " must be an ISA IRQ 0-15 other than 0 (PIT), "
                    + "2 (cascade) and " + Dsdt.LEGACY_DEVICE_IRQS + " (the DSDT's edge-triggered devices)");
        }
        if (ioApicId < 0 || ioApicId > MAX_IO_APIC_ID) {
            throw new IllegalArgumentException("ioApicId " + ioApicId + " is outside 0-" + MAX_IO_APIC_ID);
        }
        checkMmio("ioApicGpa", ioApicGpa);
        checkMmio("localApicGpa", localApicGpa);
        if (hpetGpa != NO_HPET) {
            checkMmio("hpetGpa", hpetGpa);
        }
        if (resetPort < 0 || resetPort > 0xFFFF) {
            throw new IllegalArgumentException(String.format("resetPort 0x%X is outside 0-0xFFFF", resetPort));
        }
        if (resetValue < 0 || resetValue > 0xFF) {
            throw new IllegalArgumentException(String.format("resetValue 0x%X is outside 0-0xFF", resetValue));
        }
    }

    /** A configuration without an HPET. */
    public AcpiConfig(int cpuCount, long baseGpa, int pmBasePort, int sciIrq, int ioApicId, long ioApicGpa,
                      long localApicGpa, int resetPort, int resetValue) {
        this(cpuCount, baseGpa, pmBasePort, sciIrq, ioApicId, ioApicGpa, localApicGpa, resetPort, resetValue,
                NO_HPET);
    }

    /** This configuration with an HPET at {@code gpa} (or none, with {@link #NO_HPET}). */
    public AcpiConfig withHpet(long gpa) {
        return new AcpiConfig(cpuCount, baseGpa, pmBasePort, sciIrq, ioApicId, ioApicGpa, localApicGpa, resetPort,
                resetValue, gpa);
    }

    /**
     * jkvm's PC: tables at 0xE0000, PM registers at 0x600, SCI on IRQ 9, I/O APIC at 0xFEC00000, local APICs at
     * 0xFEE00000, reset by writing 0x06 to port 0xCF9, no HPET ({@link #withHpet} adds one). The I/O APIC ID is {@code cpuCount}, clear of every APIC ID,
     * while that fits in 8 bits; beyond 254 vCPUs no 8-bit ID is free and it is {@value #MAX_IO_APIC_ID} (x86-64
     * Linux keeps I/O APIC IDs apart from local APIC IDs, so the overlap is harmless there).
     *
     * @throws IllegalArgumentException if {@code cpuCount} is outside 1-{@value #MAX_CPU_COUNT}
     */
    public static AcpiConfig pc(int cpuCount) {
        return new AcpiConfig(cpuCount, PC_TABLE_AREA_GPA, PC_PM_BASE_PORT, PC_SCI_IRQ,
                Math.clamp(cpuCount, 0, MAX_IO_APIC_ID), PC_IO_APIC_GPA, PC_LOCAL_APIC_GPA, PC_RESET_PORT,
                PC_RESET_VALUE);
    }

    private static void checkMmio(String name, long gpa) {
        if (gpa < 0 || gpa > 0xFFFF_FFFFL || gpa % 4096 != 0) {
            throw new IllegalArgumentException(String.format(
                    "%s 0x%X must be 4 KiB aligned and below 4 GiB (the MADT field is 32 bits)", name, gpa));
        }
    }
}
