package org.jkvm.acpi;

/**
 * What the tables say about the PCI host bridge: the ECAM window (MCFG, PCI Firmware Specification 3.0 section
 * 4.1.2), the MMIO windows the root bridge forwards (its {@code _CRS}), and how INTx reaches the I/O APIC (its
 * {@code _PRT}: slot {@code s}, pin {@code p} (0 = INTA) on GSI {@code intxGsiBase + ((s + p) mod 4)}, level-triggered
 * active-low as PCI interrupts are).
 *
 * @param ecamGpa     base of the ECAM window (bus 0 at its start), 1 MiB aligned, below 4 GiB
 * @param mmio32Gpa   the 32-bit MMIO window for BARs
 * @param mmio32Bytes its size
 * @param mmio64Gpa   the 64-bit MMIO window, above 4 GiB (0 with {@code mmio64Bytes} 0: none)
 * @param mmio64Bytes its size
 * @param intxGsiBase first of the four GSIs INTA-INTD are swizzled onto
 */
public record PciHostConfig(long ecamGpa, long mmio32Gpa, long mmio32Bytes, long mmio64Gpa, long mmio64Bytes,
                            int intxGsiBase) {
    /** ECAM for bus 0 only: 32 devices x 8 functions x 4 KiB. */
    public static final long ECAM_BYTES = 1L << 20;
    public static final int SLOTS = 32;

    public PciHostConfig {
        if (ecamGpa <= 0 || ecamGpa % ECAM_BYTES != 0 || ecamGpa + ECAM_BYTES > 0x1_0000_0000L) {
            throw new IllegalArgumentException(String.format("ECAM base 0x%X: 1 MiB aligned below 4 GiB", ecamGpa));
        }
        if (mmio32Gpa <= 0 || mmio32Bytes <= 0 || mmio32Gpa + mmio32Bytes > 0x1_0000_0000L) {
            throw new IllegalArgumentException(String.format("32-bit PCI window 0x%X+0x%X", mmio32Gpa, mmio32Bytes));
        }
        if (mmio64Bytes < 0 || (mmio64Bytes > 0 && mmio64Gpa < 0x1_0000_0000L)) {
            throw new IllegalArgumentException(String.format("64-bit PCI window 0x%X+0x%X", mmio64Gpa, mmio64Bytes));
        }
        if (intxGsiBase < 16 || intxGsiBase + 4 > 24) {
            throw new IllegalArgumentException("INTx GSIs " + intxGsiBase + "-" + (intxGsiBase + 3)
                    + " must be I/O APIC inputs 16-23");
        }
    }

    /** The GSI of INTx pin {@code pin} (0 = INTA) of the device in {@code slot}. */
    public int intxGsi(int slot, int pin) {
        return intxGsiBase + ((slot + pin) & 3);
    }
}
