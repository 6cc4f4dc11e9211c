package org.jkvm.console;

import java.nio.file.Path;

/**
 * {@code --console-dev socket=PATH} or {@code --console-dev file=PATH}: where the guest's virtio console (hvc0)
 * goes. A socket is a Unix stream socket jkvm listens on (one client at a time; the guest's output is discarded while
 * none is connected, what a client sends is the guest's input); a file receives the output (appended) and gives no
 * input.
 */
public record ConsoleConfig(Kind kind, Path path) {
    public enum Kind { SOCKET, FILE }

    public ConsoleConfig {
        if (path.toString().isEmpty()) {
            throw new IllegalArgumentException("empty path");
        }
    }

    /** Parses {@code socket=PATH} or {@code file=PATH}; the message of the exception says what is wrong. */
    public static ConsoleConfig parse(String spec) {
        int eq = spec.indexOf('=');
        if (eq < 0) {
            throw new IllegalArgumentException("expected socket=PATH or file=PATH");
        }
        String key = spec.substring(0, eq);
        String value = spec.substring(eq + 1);
        if (value.isEmpty()) {
            throw new IllegalArgumentException(key + "= needs a path");
        }
        return switch (key) {
            case "socket" -> new ConsoleConfig(Kind.SOCKET, Path.of(value));
            case "file" -> new ConsoleConfig(Kind.FILE, Path.of(value));
            default -> throw new IllegalArgumentException("unknown backend '" + key + "' (socket=PATH or file=PATH)");
        };
    }
}
