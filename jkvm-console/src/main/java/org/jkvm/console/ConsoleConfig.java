package org.jkvm.console;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code --console-dev socket=PATH[,cols=N,rows=N]} or {@code --console-dev file=PATH[,cols=N,rows=N]}: where the
 * guest's virtio console (hvc0) goes. A socket is a Unix stream socket jkvm listens on (one client at a time; the
 * guest's output is discarded while none is connected, what a client sends is the guest's input); a file receives
 * the output (appended) and gives no input. {@code cols} and {@code rows} (1 to 65535, both or neither) give the
 * console a size: the device then offers VIRTIO_CONSOLE_F_SIZE and the guest's hvc0 reports that window size
 * (TIOCGWINSZ, {@code stty size}). A comma inside the path is written {@code ,,}, as in QEMU.
 *
 * @param cols columns, 0 when no size is given
 * @param rows rows, 0 when no size is given
 */
public record ConsoleConfig(Kind kind, Path path, int cols, int rows) {
    public enum Kind { SOCKET, FILE }

    public ConsoleConfig {
        if (path.toString().isEmpty()) {
            throw new IllegalArgumentException("empty path");
        }
        if ((cols == 0) != (rows == 0)) {
            throw new IllegalArgumentException("cols and rows go together");
        }
        if (cols < 0 || cols > 0xffff || rows < 0 || rows > 0xffff) {
            throw new IllegalArgumentException("cols and rows must be 1 to 65535");
        }
    }

    public ConsoleConfig(Kind kind, Path path) {
        this(kind, path, 0, 0);
    }

    /** Whether a size was given (the device offers VIRTIO_CONSOLE_F_SIZE). */
    public boolean hasSize() {
        return cols != 0;
    }

    /**
     * Parses {@code socket=PATH} or {@code file=PATH}, then optional {@code cols=N} and {@code rows=N}; the message
     * of the exception says what is wrong.
     */
    public static ConsoleConfig parse(String spec) {
        List<String> parts = split(spec);
        Kind kind = null;
        Path path = null;
        Integer cols = null, rows = null;
        for (int i = 0; i < parts.size(); i++) {
            String part = parts.get(i);
            int eq = part.indexOf('=');
            if (eq < 0) {
                throw new IllegalArgumentException(i == 0 ? "expected socket=PATH or file=PATH"
                        : "expected key=value, not '" + part + "'");
            }
            String key = part.substring(0, eq);
            String value = part.substring(eq + 1);
            if (i == 0) {
                kind = switch (key) {
                    case "socket" -> Kind.SOCKET;
                    case "file" -> Kind.FILE;
                    default -> throw new IllegalArgumentException(
                            "unknown backend '" + key + "' (socket=PATH or file=PATH)");
                };
                if (value.isEmpty()) {
                    throw new IllegalArgumentException(key + "= needs a path");
                }
                path = Path.of(value);
                continue;
            }
            switch (key) {
                case "cols" -> {
                    if (cols != null) {
                        throw new IllegalArgumentException("cols given twice");
                    }
                    cols = size(key, value);
                }
                case "rows" -> {
                    if (rows != null) {
                        throw new IllegalArgumentException("rows given twice");
                    }
                    rows = size(key, value);
                }
                default -> throw new IllegalArgumentException("unknown option '" + key + "' (cols=N, rows=N)");
            }
        }
        if ((cols == null) != (rows == null)) {
            throw new IllegalArgumentException("cols and rows go together");
        }
        return new ConsoleConfig(kind, path, cols == null ? 0 : cols, rows == null ? 0 : rows);
    }

    private static int size(String key, String value) {
        int v;
        try {
            v = Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " must be a number, not '" + value + "'");
        }
        if (v < 1 || v > 0xffff) {
            throw new IllegalArgumentException(key + " must be 1 to 65535, not " + v);
        }
        return v;
    }

    /** Splits at single commas; ",," is a literal comma. */
    private static List<String> split(String spec) {
        List<String> parts = new ArrayList<>();
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
