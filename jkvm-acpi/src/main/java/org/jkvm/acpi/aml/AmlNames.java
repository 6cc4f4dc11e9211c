package org.jkvm.acpi.aml;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Encodes ASL-style names ({@code "_SB"}, {@code "\\_SB.COM1"}, {@code "^^FOO"}) as AML NameStrings
 * (ACPI 6.5 §20.2.2, "Name Objects Encoding"): a NameSeg is four characters, the first {@code A-Z} or {@code _},
 * the rest {@code A-Z}, {@code 0-9} or {@code _}, padded with {@code _}.
 */
public final class AmlNames {
    static final int ROOT_CHAR = 0x5C;
    static final int PARENT_PREFIX_CHAR = 0x5E;
    static final int DUAL_NAME_PREFIX = 0x2E;
    static final int MULTI_NAME_PREFIX = 0x2F;
    static final int NULL_NAME = 0x00;

    private AmlNames() {
    }

    /**
     * The NameString encoding of {@code name}.
     *
     * @throws IllegalArgumentException if a segment is empty, longer than 4 characters or has a bad character
     */
    public static byte[] encode(String name) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("AML name must not be empty");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int i = 0;
        if (name.charAt(0) == '\\') {
            out.write(ROOT_CHAR);
            i = 1;
        } else {
            while (i < name.length() && name.charAt(i) == '^') {
                out.write(PARENT_PREFIX_CHAR);
                i++;
            }
        }
        String path = name.substring(i);
        if (path.isEmpty()) {
            if (i == 0) {
                throw new IllegalArgumentException("AML name \"" + name + "\" has no segment");
            }
            out.write(NULL_NAME);
            return out.toByteArray();
        }
        String[] segments = path.split("\\.", -1);
        if (segments.length > 255) {
            throw new IllegalArgumentException("AML name \"" + name + "\" has more than 255 segments");
        }
        if (segments.length == 2) {
            out.write(DUAL_NAME_PREFIX);
        } else if (segments.length > 2) {
            out.write(MULTI_NAME_PREFIX);
            out.write(segments.length);
        }
        for (String segment : segments) {
            out.writeBytes(nameSeg(segment, name));
        }
        return out.toByteArray();
    }

    /** The 4-byte NameSeg for {@code segment}, padded with {@code _}. */
    static byte[] nameSeg(String segment, String fullName) {
        if (segment.isEmpty() || segment.length() > 4) {
            throw new IllegalArgumentException(
                    "AML name segment \"" + segment + "\" in \"" + fullName + "\" must have 1 to 4 characters");
        }
        for (int k = 0; k < segment.length(); k++) {
            char c = segment.charAt(k);
            boolean lead = (c >= 'A' && c <= 'Z') || c == '_';
            boolean ok = lead || (k > 0 && c >= '0' && c <= '9');
            if (!ok) {
                throw new IllegalArgumentException("AML name segment \"" + segment + "\" in \"" + fullName
                        + "\" has bad character '" + c + "' (allowed: A-Z, _, and 0-9 after the first)");
            }
        }
        return (segment + "___".substring(0, 4 - segment.length())).getBytes(StandardCharsets.US_ASCII);
    }
}
