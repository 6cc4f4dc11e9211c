package org.jkvm.acpi.aml;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A small AML builder (ACPI 6.5 §20.2, "AML Grammar Definition"): the ASL constructs jkvm's DSDT needs, each a static
 * method named after its ASL keyword that returns an encoded {@link AmlTerm}. Nested terms are encoded first, so
 * every PkgLength is exact. Resource descriptors are in {@link AmlResources}.
 *
 * <pre>{@code
 * Aml.scope("\\_SB", Aml.device("COM1",
 *         Aml.name("_HID", Aml.eisaId("PNP0501")),
 *         Aml.name("_CRS", AmlResources.template(AmlResources.io16(0x3F8, 0x3F8, 1, 8), AmlResources.irqNoFlags(4)))))
 * }</pre>
 */
public final class Aml {
    // Opcodes, ACPI 6.5 §20.2.3 (data objects) and §20.2.5 (term objects).
    static final int ZERO_OP = 0x00;
    static final int ONE_OP = 0x01;
    static final int NAME_OP = 0x08;
    static final int BYTE_PREFIX = 0x0A;
    static final int WORD_PREFIX = 0x0B;
    static final int DWORD_PREFIX = 0x0C;
    static final int STRING_PREFIX = 0x0D;
    static final int QWORD_PREFIX = 0x0E;
    static final int SCOPE_OP = 0x10;
    static final int BUFFER_OP = 0x11;
    static final int PACKAGE_OP = 0x12;
    static final int METHOD_OP = 0x14;
    static final int EXT_OP_PREFIX = 0x5B;
    static final int DEVICE_OP = 0x82; // after EXT_OP_PREFIX
    static final int RETURN_OP = 0xA4;
    static final int ONES_OP = 0xFF;

    /** The largest value a PkgLength can encode (28 bits). */
    static final int MAX_PKG_LENGTH = (1 << 28) - 1;

    private Aml() {
    }

    /**
     * An integer constant in its shortest encoding: ZeroOp, OneOp, OnesOp (for -1, all bits set), or Byte, Word,
     * DWord or QWord prefixed constant (§20.2.3). Negative values other than -1 are encoded as 64-bit two's complement.
     */
    public static AmlTerm integer(long value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (value == 0) {
            out.write(ZERO_OP);
        } else if (value == 1) {
            out.write(ONE_OP);
        } else if (value == -1) {
            out.write(ONES_OP);
        } else if (value > 0 && value <= 0xFF) {
            out.write(BYTE_PREFIX);
            writeLe(out, value, 1);
        } else if (value > 0 && value <= 0xFFFF) {
            out.write(WORD_PREFIX);
            writeLe(out, value, 2);
        } else if (value > 0 && value <= 0xFFFF_FFFFL) {
            out.write(DWORD_PREFIX);
            writeLe(out, value, 4);
        } else {
            out.write(QWORD_PREFIX);
            writeLe(out, value, 8);
        }
        return AmlTerm.owning(out.toByteArray());
    }

    /**
     * A string constant (§20.2.3 String := StringPrefix AsciiCharList NullChar).
     *
     * @throws IllegalArgumentException if {@code text} has a character outside 0x01-0x7F
     */
    public static AmlTerm string(String text) {
        if (!text.chars().allMatch(c -> c >= 0x01 && c <= 0x7F)) {
            throw new IllegalArgumentException("AML string \"" + text + "\" must be ASCII 0x01-0x7F");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(STRING_PREFIX);
        out.writeBytes(text.getBytes(StandardCharsets.US_ASCII));
        out.write(0);
        return AmlTerm.owning(out.toByteArray());
    }

    /**
     * ASL {@code EisaId("PNP0501")}: a compressed EISA ID as a DWord constant. Three upper-case letters (5 bits each)
     * and four hex digits, stored so that the bytes in memory read in the order of the ID (§19.6.35 EISAID).
     *
     * @throws IllegalArgumentException if {@code id} is not three letters A-Z followed by four hex digits
     */
    public static AmlTerm eisaId(String id) {
        if (id.length() != 7 || !id.substring(0, 3).chars().allMatch(c -> c >= 'A' && c <= 'Z')
                || !id.substring(3).chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
            throw new IllegalArgumentException("EISA ID \"" + id + "\" must be 3 letters A-Z and 4 hex digits");
        }
        long bigEndian = ((long) (id.charAt(0) - 0x40) << 26) | ((long) (id.charAt(1) - 0x40) << 21)
                | ((long) (id.charAt(2) - 0x40) << 16) | Long.parseLong(id.substring(3), 16);
        long swapped = Integer.toUnsignedLong(Integer.reverseBytes((int) bigEndian));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(DWORD_PREFIX);
        writeLe(out, swapped, 4);
        return AmlTerm.owning(out.toByteArray());
    }

    /** A reference to a named object, e.g. as a package element or a return value: just its NameString. */
    public static AmlTerm reference(String name) {
        return AmlTerm.owning(AmlNames.encode(name));
    }

    /** ASL {@code Name(name, value)} (§20.2.5.1 DefName := NameOp NameString DataRefObject). */
    public static AmlTerm name(String name, AmlTerm value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(NAME_OP);
        out.writeBytes(AmlNames.encode(name));
        value.writeTo(out);
        return AmlTerm.owning(out.toByteArray());
    }

    /** ASL {@code Scope(name) { terms }} (§20.2.5.1 DefScope := ScopeOp PkgLength NameString TermList). */
    public static AmlTerm scope(String name, AmlTerm... terms) {
        return withPkgLength(new int[] {SCOPE_OP}, concat(AmlNames.encode(name), AmlTerm.concat(terms)));
    }

    /** ASL {@code Device(name) { terms }} (§20.2.5.2 DefDevice := DeviceOp PkgLength NameString TermList). */
    public static AmlTerm device(String name, AmlTerm... terms) {
        return withPkgLength(new int[] {EXT_OP_PREFIX, DEVICE_OP}, concat(AmlNames.encode(name), AmlTerm.concat(terms)));
    }

    /**
     * ASL {@code Package(n) { elements }} with n = the number of elements (§20.2.5.4 DefPackage := PackageOp PkgLength
     * NumElements PackageElementList).
     *
     * @throws IllegalArgumentException for more than 255 elements (VarPackage is not supported)
     */
    public static AmlTerm pkg(AmlTerm... elements) {
        if (elements.length > 255) {
            throw new IllegalArgumentException("Package has " + elements.length + " elements; at most 255 supported");
        }
        return withPkgLength(new int[] {PACKAGE_OP}, concat(new byte[] {(byte) elements.length}, AmlTerm.concat(elements)));
    }

    /** ASL {@code Buffer() { bytes }} (§20.2.5.4 DefBuffer := BufferOp PkgLength BufferSize ByteList). */
    public static AmlTerm buffer(byte[] bytes) {
        return withPkgLength(new int[] {BUFFER_OP}, concat(integer(bytes.length).toBytes(), bytes));
    }

    /**
     * ASL {@code Method(name, argCount, Serialized|NotSerialized) { body }} with sync level 0 (§20.2.5.2 DefMethod :=
     * MethodOp PkgLength NameString MethodFlags TermList).
     *
     * @throws IllegalArgumentException if {@code argCount} is outside 0-7
     */
    public static AmlTerm method(String name, int argCount, boolean serialized, AmlTerm... body) {
        if (argCount < 0 || argCount > 7) {
            throw new IllegalArgumentException("Method " + name + " argCount " + argCount + " is outside 0-7");
        }
        int flags = argCount | (serialized ? 0x08 : 0);
        return withPkgLength(new int[] {METHOD_OP},
                concat(AmlNames.encode(name), new byte[] {(byte) flags}, AmlTerm.concat(body)));
    }

    /** ASL {@code Return(value)} (§20.2.5.3 DefReturn := ReturnOp ArgObject). */
    public static AmlTerm ret(AmlTerm value) {
        return AmlTerm.owning(concat(new byte[] {(byte) RETURN_OP}, value.toBytes()));
    }

    /**
     * The PkgLength encoding (§20.2.4) for a package whose contents after the PkgLength are {@code payloadBytes}
     * long; the encoded length counts the PkgLength bytes themselves.
     */
    static byte[] pkgLength(int payloadBytes) {
        if (payloadBytes < 0) {
            throw new IllegalArgumentException("negative AML payload length " + payloadBytes);
        }
        if (payloadBytes + 1 <= 0x3F) {
            return new byte[] {(byte) (payloadBytes + 1)};
        }
        for (int extra = 1; extra <= 3; extra++) {
            long total = (long) payloadBytes + 1 + extra;
            if (total < (1L << (4 + 8 * extra))) {
                byte[] out = new byte[1 + extra];
                out[0] = (byte) ((extra << 6) | (total & 0x0F));
                for (int k = 1; k <= extra; k++) {
                    out[k] = (byte) (total >>> (4 + 8 * (k - 1)));
                }
                return out;
            }
        }
        throw new IllegalArgumentException(
                "AML package of " + payloadBytes + " bytes exceeds the PkgLength maximum of " + MAX_PKG_LENGTH);
    }

    private static AmlTerm withPkgLength(int[] opcode, byte[] payload) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int op : opcode) {
            out.write(op);
        }
        out.writeBytes(pkgLength(payload.length));
        out.writeBytes(payload);
        return AmlTerm.owning(out.toByteArray());
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    static void writeLe(ByteArrayOutputStream out, long value, int widthBytes) {
        for (int i = 0; i < widthBytes; i++) {
            out.write((int) (value >>> (8 * i)));
        }
    }
}
