package org.jkvm.acpi;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The root of the table tree: the RSDP (ACPI 6.5 §5.2.5, revision 2, 36 bytes, with both the ACPI 1.0 checksum over
 * its first 20 bytes and the extended checksum over all 36), the RSDT (§5.2.7, 32-bit pointers) and the XSDT
 * (§5.2.8, 64-bit pointers). Both root tables list the same tables; an OS that knows the XSDT uses it.
 */
final class RootTables {
    static final String RSDP_SIGNATURE = "RSD PTR ";
    static final int RSDP_REVISION = 2;
    static final int RSDP_SIZE_BYTES = 36;
    static final int RSDP_V1_SIZE_BYTES = 20;
    static final int RSDP_ALIGNMENT_BYTES = 16;
    static final int RSDP_CHECKSUM_OFFSET = 8;
    static final int RSDP_RSDT_ADDRESS_OFFSET = 16;
    static final int RSDP_LENGTH_OFFSET = 20;
    static final int RSDP_XSDT_ADDRESS_OFFSET = 24;
    static final int RSDP_EXTENDED_CHECKSUM_OFFSET = 32;
    static final String RSDT_SIGNATURE = "RSDT";
    static final int RSDT_REVISION = 1;
    static final String XSDT_SIGNATURE = "XSDT";
    static final int XSDT_REVISION = 1;

    private RootTables() {
    }

    static int rsdtSizeBytes(int entryCount) {
        return Sdt.HEADER_SIZE_BYTES + 4 * entryCount;
    }

    static int xsdtSizeBytes(int entryCount) {
        return Sdt.HEADER_SIZE_BYTES + 8 * entryCount;
    }

    static byte[] rsdt(List<Long> tableGpas) {
        ByteBuilder out = Sdt.begin(RSDT_SIGNATURE, RSDT_REVISION);
        for (long gpa : tableGpas) {
            out.u32(gpa);
        }
        return Sdt.finish(out);
    }

    static byte[] xsdt(List<Long> tableGpas) {
        ByteBuilder out = Sdt.begin(XSDT_SIGNATURE, XSDT_REVISION);
        for (long gpa : tableGpas) {
            out.u64(gpa);
        }
        return Sdt.finish(out);
    }

    static byte[] rsdp(long rsdtGpa, long xsdtGpa) {
        ByteBuilder out = new ByteBuilder();
        out.bytes(RSDP_SIGNATURE.getBytes(StandardCharsets.US_ASCII)).u8(0).ascii(Sdt.OEM_ID, 6).u8(RSDP_REVISION)
                .u32(rsdtGpa).u32(RSDP_SIZE_BYTES).u64(xsdtGpa).u8(0).zeros(3);
        out.fixChecksum(0, RSDP_V1_SIZE_BYTES, RSDP_CHECKSUM_OFFSET);
        out.fixChecksum(0, RSDP_SIZE_BYTES, RSDP_EXTENDED_CHECKSUM_OFFSET);
        return out.toByteArray();
    }
}
