package org.jkvm.acpi.aml;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * One encoded piece of AML (ACPI 6.5 §20, "ACPI Machine Language Specification"): a term, a data object or a name
 * string, ready to be appended to a definition block or nested in another term. Immutable.
 */
public final class AmlTerm {
    private final byte[] encoding;

    private AmlTerm(byte[] encoding) {
        this.encoding = encoding;
    }

    /** Wraps already-encoded AML; the array is copied. */
    public static AmlTerm ofEncoded(byte[] encoding) {
        return new AmlTerm(encoding.clone());
    }

    static AmlTerm owning(byte[] encoding) {
        return new AmlTerm(encoding);
    }

    /** Concatenates the encodings of {@code terms}, in order (a TermList). */
    public static byte[] concat(AmlTerm... terms) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (AmlTerm term : terms) {
            out.writeBytes(term.encoding);
        }
        return out.toByteArray();
    }

    /** A copy of the encoded bytes. */
    public byte[] toBytes() {
        return encoding.clone();
    }

    public int sizeBytes() {
        return encoding.length;
    }

    void writeTo(ByteArrayOutputStream out) {
        out.writeBytes(encoding);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof AmlTerm that && Arrays.equals(encoding, that.encoding);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(encoding);
    }

    @Override
    public String toString() {
        return "AmlTerm[" + HexFormat.ofDelimiter(" ").formatHex(encoding) + "]";
    }
}
