package org.jkvm.acpi;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds jkvm's ACPI tables (ACPI 6.5 §5.2, "ACPI System Description Tables") as one image: RSDP, FACS, DSDT, FADT,
 * MADT, HPET (when the machine has one), RSDT, XSDT, in that order from {@link AcpiConfig#baseGpa()}, each aligned as the spec asks (RSDP 16 bytes,
 * FACS 64 bytes, the rest 8 bytes).
 *
 * <p>The image must fit the legacy BIOS table area's size, {@value #MAX_IMAGE_SIZE_BYTES} bytes (0xE0000-0xFFFFF on
 * a PC), must lie below 4 GiB (the RSDT, FADT and MADT hold 32-bit addresses), and must not run past 1 MiB when it
 * starts below it (RAM above 1 MiB belongs to the kernel).
 */
public final class AcpiTables {
    /** 128 KiB: the size of the PC's 0xE0000-0xFFFFF area. */
    public static final int MAX_IMAGE_SIZE_BYTES = 128 * 1024;
    static final long ONE_MIB = 1L << 20;
    static final long FOUR_GIB = 1L << 32;
    static final int TABLE_ALIGNMENT_BYTES = 8;

    public static final String RSDP = RootTables.RSDP_SIGNATURE;
    public static final String RSDT = RootTables.RSDT_SIGNATURE;
    public static final String XSDT = RootTables.XSDT_SIGNATURE;
    public static final String FADT = Fadt.SIGNATURE;
    public static final String FACS = "FACS";
    public static final String DSDT = Dsdt.SIGNATURE;
    public static final String MADT = Madt.SIGNATURE;
    public static final String HPET = Hpet.SIGNATURE;
    public static final String MCFG = Mcfg.SIGNATURE;

    private AcpiTables() {
    }

    /**
     * Lays out and encodes every table for {@code config}.
     *
     * @throws IllegalArgumentException if the tables do not fit (naming the size and the limit they break)
     */
    public static AcpiImage build(AcpiConfig config) {
        return build(config, null);
    }

    /**
     * Lays out and encodes every table for {@code config}, with a PCI host bridge (MCFG, and {@code \_SB.PCI0} in
     * the DSDT) when {@code pci} is not null.
     *
     * @throws IllegalArgumentException if the tables do not fit (naming the size and the limit they break)
     */
    public static AcpiImage build(AcpiConfig config, PciHostConfig pci) {
        if (config.cpuCount() > Dsdt.MAX_PROCESSOR_DEVICES) {
            throw new IllegalArgumentException("cpuCount " + config.cpuCount() + " exceeds the "
                    + Dsdt.MAX_PROCESSOR_DEVICES + " processor devices the DSDT can name");
        }
        byte[] facs = Facs.build();
        byte[] dsdt = Dsdt.build(config, pci);
        byte[] madt = Madt.build(config);
        boolean hpet = config.hpetGpa() != AcpiConfig.NO_HPET;
        byte[] mcfg = pci == null ? null : Mcfg.build(pci);
        List<String> rootEntries = new java.util.ArrayList<>(List.of(FADT, MADT));
        if (hpet) {
            rootEntries.add(HPET);
        }
        if (mcfg != null) {
            rootEntries.add(MCFG);
        }

        Layout layout = new Layout(config.baseGpa());
        long rsdpGpa = layout.place(RootTables.RSDP_SIZE_BYTES, RootTables.RSDP_ALIGNMENT_BYTES);
        long facsGpa = layout.place(facs.length, Facs.ALIGNMENT_BYTES);
        long dsdtGpa = layout.place(dsdt.length, TABLE_ALIGNMENT_BYTES);
        long fadtGpa = layout.place(Fadt.SIZE_BYTES, TABLE_ALIGNMENT_BYTES);
        long madtGpa = layout.place(madt.length, TABLE_ALIGNMENT_BYTES);
        long hpetGpa = hpet ? layout.place(Hpet.SIZE_BYTES, TABLE_ALIGNMENT_BYTES) : 0;
        long mcfgGpa = mcfg == null ? 0 : layout.place(mcfg.length, TABLE_ALIGNMENT_BYTES);
        long rsdtGpa = layout.place(RootTables.rsdtSizeBytes(rootEntries.size()), TABLE_ALIGNMENT_BYTES);
        long xsdtGpa = layout.place(RootTables.xsdtSizeBytes(rootEntries.size()), TABLE_ALIGNMENT_BYTES);
        checkFits(config.baseGpa(), layout.sizeBytes(), config.cpuCount());

        List<Long> rootGpas = new java.util.ArrayList<>(List.of(fadtGpa, madtGpa));
        if (hpet) {
            rootGpas.add(hpetGpa);
        }
        if (mcfg != null) {
            rootGpas.add(mcfgGpa);
        }
        byte[] image = new byte[Math.toIntExact(layout.sizeBytes())];
        Map<String, Long> gpas = new LinkedHashMap<>();
        copy(image, config.baseGpa(), rsdpGpa, RootTables.rsdp(rsdtGpa, xsdtGpa), RSDP, gpas);
        copy(image, config.baseGpa(), facsGpa, facs, FACS, gpas);
        copy(image, config.baseGpa(), dsdtGpa, dsdt, DSDT, gpas);
        copy(image, config.baseGpa(), fadtGpa, Fadt.build(config, facsGpa, dsdtGpa), FADT, gpas);
        copy(image, config.baseGpa(), madtGpa, madt, MADT, gpas);
        if (hpet) {
            copy(image, config.baseGpa(), hpetGpa, Hpet.build(config.hpetGpa()), HPET, gpas);
        }
        if (mcfg != null) {
            copy(image, config.baseGpa(), mcfgGpa, mcfg, MCFG, gpas);
        }
        copy(image, config.baseGpa(), rsdtGpa, RootTables.rsdt(rootGpas), RSDT, gpas);
        copy(image, config.baseGpa(), xsdtGpa, RootTables.xsdt(rootGpas), XSDT, gpas);
        return new AcpiImage(config.baseGpa(), image, rsdpGpa, gpas);
    }

    private static void checkFits(long baseGpa, long sizeBytes, int cpuCount) {
        long endGpa = baseGpa + sizeBytes;
        String what = String.format("ACPI tables for %d vCPUs (%d bytes at 0x%X-0x%X)",
                cpuCount, sizeBytes, baseGpa, endGpa - 1);
        if (sizeBytes > MAX_IMAGE_SIZE_BYTES) {
            throw new IllegalArgumentException(what + " exceed the " + MAX_IMAGE_SIZE_BYTES
                    + "-byte table area (0xE0000-0xFFFFF on a PC)");
        }
        if (endGpa > FOUR_GIB) {
            throw new IllegalArgumentException(what + " must lie below 4 GiB: the RSDT, FADT and MADT hold 32-bit "
                    + "addresses");
        }
        if (baseGpa < ONE_MIB && endGpa > ONE_MIB) {
            throw new IllegalArgumentException(what + " run past 1 MiB (0x100000), out of the legacy BIOS area");
        }
    }

    private static void copy(byte[] image, long baseGpa, long gpa, byte[] table, String signature,
                             Map<String, Long> gpas) {
        System.arraycopy(table, 0, image, (int) (gpa - baseGpa), table.length);
        gpas.put(signature, gpa);
    }

    /** Assigns ascending, aligned guest-physical addresses from a base. */
    private static final class Layout {
        private final long baseGpa;
        private long nextGpa;

        Layout(long baseGpa) {
            this.baseGpa = baseGpa;
            this.nextGpa = baseGpa;
        }

        long place(int sizeBytes, int alignmentBytes) {
            long gpa = (nextGpa + alignmentBytes - 1) & -alignmentBytes;
            nextGpa = gpa + sizeBytes;
            return gpa;
        }

        long sizeBytes() {
            return nextGpa - baseGpa;
        }
    }
}
