package org.jkvm.acpi;

/**
 * The System Description Table Header every ACPI table but the RSDP and FACS begins with (ACPI 6.5 §5.2.6), and the
 * OEM identity jkvm writes into it.
 */
final class Sdt {
    static final int HEADER_SIZE_BYTES = 36;
    static final int LENGTH_OFFSET = 4;
    static final int REVISION_OFFSET = 8;
    static final int CHECKSUM_OFFSET = 9;
    static final String OEM_ID = "JKVM  ";
    static final String OEM_TABLE_ID = "JKVMVM  ";
    static final int OEM_REVISION = 1;
    static final String CREATOR_ID = "JKVM";
    static final int CREATOR_REVISION = 1;

    private Sdt() {
    }

    /** Starts a table: writes its header with length and checksum still zero. */
    static ByteBuilder begin(String signature, int revision) {
        ByteBuilder out = new ByteBuilder();
        out.ascii(signature, 4).u32(0).u8(revision).u8(0).ascii(OEM_ID, 6).ascii(OEM_TABLE_ID, 8)
                .u32(OEM_REVISION).ascii(CREATOR_ID, 4).u32(CREATOR_REVISION);
        return out;
    }

    /** Ends a table: patches its length and checksum and returns its bytes. */
    static byte[] finish(ByteBuilder out) {
        out.patchU32(LENGTH_OFFSET, out.sizeBytes());
        out.fixChecksum(0, out.sizeBytes(), CHECKSUM_OFFSET);
        return out.toByteArray();
    }
}
