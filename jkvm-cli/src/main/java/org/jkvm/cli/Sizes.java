package org.jkvm.cli;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses sizes as QEMU's -m does: a plain number is MiB; suffixes K, M, G, T (optionally "iB" or "B") are binary. */
final class Sizes {
    private static final Pattern SIZE = Pattern.compile("(\\d+)(?:([KMGT])(?:I?B)?|B)?");

    private Sizes() {}

    static long parseMemory(String text) {
        Matcher m = SIZE.matcher(text.trim().toUpperCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException("invalid size '" + text + "' (examples: 512M, 4G, 1024)");
        }
        long n;
        try {
            n = Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("size '" + text + "' is too large");
        }
        String unit = m.group(2);
        int shift;
        if (unit == null) {
            shift = text.toUpperCase(Locale.ROOT).endsWith("B") ? 0 : 20;
        } else {
            shift = switch (unit) {
                case "K" -> 10;
                case "M" -> 20;
                case "G" -> 30;
                default -> 40;
            };
        }
        if (n > (Long.MAX_VALUE >>> shift)) {
            throw new IllegalArgumentException("size '" + text + "' is too large");
        }
        return n << shift;
    }

    static String human(long bytes) {
        if (bytes % (1L << 30) == 0) {
            return (bytes >> 30) + " GiB";
        }
        if (bytes % (1L << 20) == 0) {
            return (bytes >> 20) + " MiB";
        }
        return bytes + " bytes";
    }
}
