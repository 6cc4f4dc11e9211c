package org.jkvm.acpi;

import java.util.Arrays;
import java.util.Map;

/**
 * The ACPI tables laid out as one contiguous image, to be copied into guest RAM at {@code baseGpa} (ACPI 6.5 §5.2:
 * the tables point at each other by guest-physical address, so the image is only valid there).
 *
 * @param baseGpa   guest-physical address of {@code bytes[0]}
 * @param bytes     the image; a copy is kept and each call to {@link #bytes()} returns a fresh copy
 * @param rsdpGpa   where the RSDP is: for Linux's {@code boot_params.acpi_rsdp_addr}
 * @param tableGpas each structure's guest-physical address by signature: "RSD PTR ", "RSDT", "XSDT", "FACP",
 *                  "FACS", "DSDT", "APIC"
 */
public record AcpiImage(long baseGpa, byte[] bytes, long rsdpGpa, Map<String, Long> tableGpas) {
    public AcpiImage {
        bytes = bytes.clone();
        tableGpas = Map.copyOf(tableGpas);
        if (rsdpGpa < baseGpa || rsdpGpa >= baseGpa + bytes.length) {
            throw new IllegalArgumentException(String.format(
                    "RSDP at 0x%X lies outside the image 0x%X+0x%X", rsdpGpa, baseGpa, bytes.length));
        }
    }

    @Override
    public byte[] bytes() {
        return bytes.clone();
    }

    public int sizeBytes() {
        return bytes.length;
    }

    /** One past the last byte of the image. */
    public long endGpa() {
        return baseGpa + bytes.length;
    }

    /**
     * The guest-physical address of the table with {@code signature}.
     *
     * @throws IllegalArgumentException if the image has no such table
     */
    public long tableGpa(String signature) {
        Long gpa = tableGpas.get(signature);
        if (gpa == null) {
            throw new IllegalArgumentException("no ACPI table \"" + signature + "\"; have " + tableGpas.keySet());
        }
        return gpa;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof AcpiImage that && baseGpa == that.baseGpa && rsdpGpa == that.rsdpGpa
                && Arrays.equals(bytes, that.bytes) && tableGpas.equals(that.tableGpas);
    }

    @Override
    public int hashCode() {
        return 31 * Long.hashCode(baseGpa) + Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        return String.format("AcpiImage[baseGpa=0x%X, sizeBytes=%d, rsdpGpa=0x%X, tableGpas=%s]",
                baseGpa, bytes.length, rsdpGpa, tableGpas);
    }
}
