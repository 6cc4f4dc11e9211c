package org.jkvm.net;

import java.util.Locale;

/** A 48-bit Ethernet address held in the low bits of a long (first octet most significant). */
public final class MacAddress {
    private MacAddress() {}

    /** Parses {@code aa:bb:cc:dd:ee:ff} (hex, either case); the message names what is wrong. */
    public static long parse(String text) {
        String[] parts = text.split(":", -1);
        if (parts.length != 6) {
            throw new IllegalArgumentException("MAC address '" + text + "': expected six hex octets aa:bb:cc:dd:ee:ff");
        }
        long v = 0;
        for (String p : parts) {
            if (p.length() != 2 || Character.digit(p.charAt(0), 16) < 0 || Character.digit(p.charAt(1), 16) < 0) {
                throw new IllegalArgumentException("MAC address '" + text + "': bad octet '" + p + "'");
            }
            v = (v << 8) | Integer.parseInt(p, 16);
        }
        return v;
    }

    public static String format(long mac) {
        StringBuilder b = new StringBuilder(17);
        for (int i = 5; i >= 0; i--) {
            b.append(String.format(Locale.ROOT, "%02x", (mac >>> (8 * i)) & 0xff));
            if (i > 0) {
                b.append(':');
            }
        }
        return b.toString();
    }

    /** True for a group (multicast or broadcast) address: the least significant bit of the first octet. */
    public static boolean isMulticast(long mac) {
        return ((mac >>> 40) & 1) != 0;
    }

    public static final long BROADCAST = 0xffff_ffff_ffffL;

    /** The octets, first to last. */
    public static byte[] bytes(long mac) {
        byte[] b = new byte[6];
        for (int i = 0; i < 6; i++) {
            b[i] = (byte) (mac >>> (8 * (5 - i)));
        }
        return b;
    }
}
