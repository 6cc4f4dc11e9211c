package org.jkvm.api.qmp;

import java.io.ByteArrayOutputStream;
import java.util.function.Consumer;

/**
 * Splits a QMP byte stream into top-level JSON texts, as QEMU's JSON streamer does: no newline is needed between
 * requests, and one read may carry several or part of one. It tracks only strings (with escapes) and bracket depth;
 * each complete text is handed on to be parsed. A text longer than {@code maxBytes} or nested deeper than
 * {@link #MAX_NESTING} is an overflow: the connection cannot be resynchronised and should be closed.
 *
 * <p>A top-level scalar (a number, {@code true}, {@code abc}) ends at whitespace or at the next bracket; a closing
 * bracket at depth 0 is a text of its own (the parser then reports it). Not thread-safe: one per connection.
 */
public final class JsonFramer {
    /** QEMU's MAX_NESTING. */
    public static final int MAX_NESTING = 1024;

    /** Thrown by {@link #feed} when the current text exceeds the limits. */
    public static final class OverflowException extends Exception {
        private static final long serialVersionUID = 1L;

        OverflowException(String message) {
            super(message, null, false, false);
        }
    }

    private final int maxBytes;
    private final ByteArrayOutputStream text = new ByteArrayOutputStream();
    private int depth;
    private boolean inString;
    private boolean escape;
    private boolean scalar;

    public JsonFramer(int maxBytes) {
        this.maxBytes = maxBytes;
    }

    /** Feeds {@code n} bytes; each complete text goes to {@code out}. */
    public void feed(byte[] buf, int n, Consumer<byte[]> out) throws OverflowException {
        for (int i = 0; i < n; i++) {
            byte b = buf[i];
            if (inString) {
                append(b);
                if (escape) {
                    escape = false;
                } else if (b == '\\') {
                    escape = true;
                } else if (b == '"') {
                    inString = false;
                    if (depth == 0) {
                        emit(out); // a top-level string
                    }
                }
                continue;
            }
            boolean space = b == ' ' || b == '\t' || b == '\n' || b == '\r';
            if (scalar && (space || b == '{' || b == '[' || b == '}' || b == ']' || b == '"')) {
                scalar = false;
                emit(out);
            }
            if (space) {
                if (depth > 0) {
                    append(b);
                }
                continue;
            }
            append(b);
            switch (b) {
                case '"' -> inString = true;
                case '{', '[' -> {
                    if (++depth > MAX_NESTING) {
                        throw new OverflowException("JSON nesting deeper than " + MAX_NESTING);
                    }
                }
                case '}', ']' -> {
                    if (depth > 0) {
                        depth--;
                    }
                    if (depth == 0) {
                        emit(out);
                    }
                }
                default -> {
                    if (depth == 0) {
                        scalar = true;
                    }
                }
            }
        }
    }

    private void append(byte b) throws OverflowException {
        if (text.size() >= maxBytes) {
            throw new OverflowException("JSON text longer than " + maxBytes + " bytes");
        }
        text.write(b);
    }

    private void emit(Consumer<byte[]> out) {
        byte[] t = text.toByteArray();
        text.reset();
        depth = 0;
        if (t.length > 0) {
            out.accept(t);
        }
    }
}
