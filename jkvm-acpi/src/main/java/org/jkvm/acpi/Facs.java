package org.jkvm.acpi;

/**
 * The Firmware ACPI Control Structure (ACPI 6.5 §5.2.10): required with a non-hardware-reduced FADT, 64-byte
 * aligned, no checksum. jkvm has no S4BIOS, no firmware waking vector and no global lock users, so it is all zero
 * apart from signature, length and version.
 */
final class Facs {
    static final int SIZE_BYTES = 64;
    static final int ALIGNMENT_BYTES = 64;
    static final int VERSION = 2;

    private Facs() {
    }

    static byte[] build() {
        ByteBuilder out = new ByteBuilder();
        out.ascii("FACS", 4).u32(SIZE_BYTES)
                .u32(0) // hardware signature
                .u32(0) // firmware waking vector
                .u32(0) // global lock
                .u32(0) // flags: no S4BIOS, no 64-bit wake
                .u64(0) // X firmware waking vector
                .u8(VERSION).zeros(3)
                .u32(0) // OSPM flags
                .zeros(24);
        return out.toByteArray();
    }
}
