package org.jkvm.acpi;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A growable little-endian byte buffer for ACPI tables (ACPI 6.5 §5.2: all multi-byte fields are little-endian),
 * with in-place patching for length and checksum fields written after the body.
 */
final class ByteBuilder {
    private byte[] bytes = new byte[256];
    private int sizeBytes;

    int sizeBytes() {
        return sizeBytes;
    }

    ByteBuilder u8(int value) {
        ensure(1);
        bytes[sizeBytes++] = (byte) value;
        return this;
    }

    ByteBuilder u16(int value) {
        return u8(value).u8(value >>> 8);
    }

    ByteBuilder u32(long value) {
        return u16((int) value).u16((int) (value >>> 16));
    }

    ByteBuilder u64(long value) {
        return u32(value).u32(value >>> 32);
    }

    ByteBuilder bytes(byte[] data) {
        ensure(data.length);
        System.arraycopy(data, 0, bytes, sizeBytes, data.length);
        sizeBytes += data.length;
        return this;
    }

    ByteBuilder zeros(int count) {
        ensure(count);
        sizeBytes += count; // the backing array is zero-filled beyond sizeBytes
        return this;
    }

    /**
     * Writes {@code text} as exactly {@code widthBytes} ASCII bytes.
     *
     * @throws IllegalArgumentException if the text is not printable ASCII of exactly that width
     */
    ByteBuilder ascii(String text, int widthBytes) {
        byte[] data = text.getBytes(StandardCharsets.US_ASCII);
        if (data.length != widthBytes || !text.chars().allMatch(c -> c >= 0x20 && c < 0x7F)) {
            throw new IllegalArgumentException(
                    "expected " + widthBytes + " printable ASCII characters, got \"" + text + "\"");
        }
        return bytes(data);
    }

    void patchU8(int offset, int value) {
        checkPatch(offset, 1);
        bytes[offset] = (byte) value;
    }

    void patchU32(int offset, long value) {
        checkPatch(offset, 4);
        for (int i = 0; i < 4; i++) {
            bytes[offset + i] = (byte) (value >>> (8 * i));
        }
    }

    /** Sets the byte at {@code checksumOffset} so that bytes [start, start+length) sum to zero modulo 256. */
    void fixChecksum(int start, int length, int checksumOffset) {
        checkPatch(start, length);
        bytes[checksumOffset] = 0;
        int sum = 0;
        for (int i = start; i < start + length; i++) {
            sum += bytes[i];
        }
        bytes[checksumOffset] = (byte) -sum;
    }

    byte[] toByteArray() {
        return Arrays.copyOf(bytes, sizeBytes);
    }

    private void checkPatch(int offset, int length) {
        if (offset < 0 || length < 0 || offset + length > sizeBytes) {
            throw new IndexOutOfBoundsException(
                    "patch of " + length + " bytes at " + offset + " outside " + sizeBytes + " written bytes");
        }
    }

    private void ensure(int more) {
        if (more < 0) {
            throw new IllegalArgumentException("negative byte count " + more);
        }
        if (sizeBytes + more > bytes.length) {
            bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, sizeBytes + more));
        }
    }
}
