package org.jkvm.block;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One disk as the user gives it: {@code path=FILE[,readonly=on|off][,serial=S][,cache=none|writeback][,id=ID]}
 * (a comma inside a value is written {@code ,,}, as in QEMU).
 *
 * <ul>
 * <li>{@code path}: a raw image file (required).
 * <li>{@code readonly}: the guest sees a read-only disk (VIRTIO_BLK_F_RO); the file is opened read-only and
 * locked shared.
 * <li>{@code serial}: what VIRTIO_BLK_T_GET_ID returns: up to 20 printable ASCII characters.
 * <li>{@code cache}: {@code writeback} (default) goes through the host page cache; {@code none} opens the file
 * with O_DIRECT where its filesystem supports it (see {@link RawDisk}).
 * <li>{@code id}: a name for the disk (letters, digits, '-', '_', '.'; starting with a letter).
 * </ul>
 */
public record DiskConfig(Path path, boolean readOnly, Optional<String> serial, CacheMode cache, Optional<String> id) {
    /** Host caching of the image. */
    public enum CacheMode {
        WRITEBACK, NONE
    }

    private static final Pattern ID = Pattern.compile("[A-Za-z][A-Za-z0-9_.-]{0,63}");

    public DiskConfig {
        if (path == null) {
            throw new IllegalArgumentException("disk: path=FILE is required");
        }
        serial.ifPresent(DiskConfig::checkSerial);
        id.ifPresent(v -> {
            if (!ID.matcher(v).matches()) {
                throw new IllegalArgumentException("disk: id '" + v
                        + "' must start with a letter and hold only letters, digits, '-', '_', '.' (at most 64)");
            }
        });
    }

    private static void checkSerial(String s) {
        if (s.getBytes(StandardCharsets.US_ASCII).length > VirtioBlk.ID_BYTES || s.length() > VirtioBlk.ID_BYTES) {
            throw new IllegalArgumentException("disk: serial '" + s + "' is longer than 20 characters");
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c > 0x7e) {
                throw new IllegalArgumentException("disk: serial must be printable ASCII");
            }
        }
    }

    /** The serial as GET_ID returns it: the ASCII bytes, NUL-padded to 20. */
    public byte[] idBytes() {
        byte[] b = new byte[VirtioBlk.ID_BYTES];
        serial.ifPresent(s -> {
            byte[] a = s.getBytes(StandardCharsets.US_ASCII);
            System.arraycopy(a, 0, b, 0, a.length);
        });
        return b;
    }

    /**
     * Parses {@code path=F[,readonly=on][,serial=S][,cache=none|writeback][,id=ID]}.
     *
     * @throws IllegalArgumentException with a message naming the bad part
     */
    public static DiskConfig parse(String spec) {
        if (spec == null || spec.isBlank()) {
            throw new IllegalArgumentException("disk: empty specification (expected path=FILE[,readonly=on]...)");
        }
        Path path = null;
        boolean readOnly = false;
        String serial = null;
        CacheMode cache = CacheMode.WRITEBACK;
        String id = null;
        Set<String> seen = new HashSet<>();
        for (String part : split(spec)) {
            int eq = part.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("disk: '" + part + "' is not key=value");
            }
            String key = part.substring(0, eq);
            String value = part.substring(eq + 1);
            if (!seen.add(key)) {
                throw new IllegalArgumentException("disk: " + key + " given twice");
            }
            switch (key) {
                case "path" -> {
                    if (value.isEmpty()) {
                        throw new IllegalArgumentException("disk: path is empty");
                    }
                    path = Path.of(value);
                }
                case "readonly" -> readOnly = onOff(key, value);
                case "serial" -> serial = value;
                case "cache" -> cache = switch (value) {
                    case "none" -> CacheMode.NONE;
                    case "writeback" -> CacheMode.WRITEBACK;
                    default -> throw new IllegalArgumentException(
                            "disk: cache must be none or writeback, not '" + value + "'");
                };
                case "id" -> id = value;
                default -> throw new IllegalArgumentException("disk: unknown option '" + key
                        + "' (known: path, readonly, serial, cache, id)");
            }
        }
        if (path == null) {
            throw new IllegalArgumentException("disk: path=FILE is required");
        }
        return new DiskConfig(path, readOnly, Optional.ofNullable(serial), cache, Optional.ofNullable(id));
    }

    private static boolean onOff(String key, String value) {
        return switch (value) {
            case "on", "true", "yes" -> true;
            case "off", "false", "no" -> false;
            default -> throw new IllegalArgumentException("disk: " + key + " must be on or off, not '" + value + "'");
        };
    }

    /** Splits at single commas; ",," is a literal comma. */
    private static java.util.List<String> split(String spec) {
        java.util.List<String> parts = new java.util.ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (int i = 0; i < spec.length(); i++) {
            char c = spec.charAt(i);
            if (c == ',') {
                if (i + 1 < spec.length() && spec.charAt(i + 1) == ',') {
                    cur.append(',');
                    i++;
                } else {
                    parts.add(cur.toString());
                    cur.setLength(0);
                }
            } else {
                cur.append(c);
            }
        }
        parts.add(cur.toString());
        return parts;
    }
}
