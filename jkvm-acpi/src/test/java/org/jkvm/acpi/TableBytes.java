package org.jkvm.acpi;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** Test helper: little-endian reads and table slicing, written independently of the builders. */
final class TableBytes {
    private TableBytes() {
    }

    static int u8(byte[] b, int offset) {
        return b[offset] & 0xFF;
    }

    static int u16(byte[] b, int offset) {
        return u8(b, offset) | u8(b, offset + 1) << 8;
    }

    static long u32(byte[] b, int offset) {
        return (u16(b, offset) | (long) u16(b, offset + 2) << 16) & 0xFFFF_FFFFL;
    }

    static long u64(byte[] b, int offset) {
        return u32(b, offset) | u32(b, offset + 4) << 32;
    }

    static String ascii(byte[] b, int offset, int length) {
        return new String(b, offset, length, StandardCharsets.US_ASCII);
    }

    static int sum(byte[] b, int offset, int length) {
        int sum = 0;
        for (int i = offset; i < offset + length; i++) {
            sum += b[i];
        }
        return sum & 0xFF;
    }

    /** The bytes of the table at {@code gpa}, by the length field of its header (36 for the RSDP). */
    static byte[] tableAt(AcpiImage image, long gpa) {
        byte[] all = image.bytes();
        int offset = Math.toIntExact(gpa - image.baseGpa());
        int length = ascii(all, offset, 8).equals("RSD PTR ") ? (int) u32(all, offset + 20) : (int) u32(all, offset + 4);
        return Arrays.copyOfRange(all, offset, offset + length);
    }

    static byte[] table(AcpiImage image, String signature) {
        return tableAt(image, image.tableGpa(signature));
    }
}
