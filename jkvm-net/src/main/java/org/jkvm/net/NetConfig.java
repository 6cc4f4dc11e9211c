package org.jkvm.net;

import java.util.Optional;

/**
 * {@code --net tap[,ifname=NAME][,mac=MAC][,vhost=on|off][,queues=N][,id=ID]}: one virtio-net PCI device on a TAP
 * device that jkvm creates, or attaches to when one of that name exists. Without {@code mac} the NIC gets QEMU's
 * default scheme, 52:54:00:12:34:56 plus its index. {@code queues} is the number of queue pairs (and TAP queues,
 * IFF_MULTI_QUEUE when above 1), 1 to {@value #MAX_QUEUES}.
 */
public record NetConfig(String ifname, Optional<Long> mac, boolean vhost, int queues, Optional<String> id) {
    public static final int MAX_QUEUES = 16;
    /** QEMU's first default MAC address. */
    public static final long DEFAULT_MAC_BASE = 0x5254_0012_3456L;

    public NetConfig {
        if (queues < 1 || queues > MAX_QUEUES) {
            throw new IllegalArgumentException("queues must be 1 to " + MAX_QUEUES);
        }
        if (mac.isPresent() && MacAddress.isMulticast(mac.get())) {
            throw new IllegalArgumentException("mac " + MacAddress.format(mac.get())
                    + " is a multicast address");
        }
    }

    /** The NIC's address: {@code mac}, or the default for the {@code index}-th NIC. */
    public long macOr(int index) {
        return mac.orElse(DEFAULT_MAC_BASE + index);
    }

    /** Parses the option's value; the exception's message says what is wrong. */
    public static NetConfig parse(String spec) {
        String[] parts = spec.split(",", -1);
        if (!parts[0].equals("tap")) {
            throw new IllegalArgumentException("unknown network backend '" + parts[0] + "' (only tap)");
        }
        String ifname = "";
        Optional<Long> mac = Optional.empty();
        boolean vhost = false;
        int queues = 1;
        Optional<String> id = Optional.empty();
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (int i = 1; i < parts.length; i++) {
            String p = parts[i];
            int eq = p.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("expected key=value, got '" + p + "'");
            }
            String key = p.substring(0, eq);
            String value = p.substring(eq + 1);
            if (!seen.add(key)) {
                throw new IllegalArgumentException(key + " given twice");
            }
            switch (key) {
                case "ifname" -> {
                    if (value.isEmpty() || value.length() > 15 || value.contains("/") || value.equals(".")
                            || value.equals("..") || !value.chars().allMatch(c -> c > 32 && c < 127)) {
                        throw new IllegalArgumentException("ifname '" + value
                                + "': 1 to 15 printable characters, no '/' or spaces");
                    }
                    ifname = value;
                }
                case "mac" -> mac = Optional.of(MacAddress.parse(value));
                case "vhost" -> vhost = switch (value) {
                    case "on" -> true;
                    case "off" -> false;
                    default -> throw new IllegalArgumentException("vhost must be on or off");
                };
                case "queues" -> {
                    try {
                        queues = Integer.parseInt(value);
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("queues '" + value + "' is not a number");
                    }
                }
                case "id" -> {
                    if (value.isEmpty() || !value.chars().allMatch(c -> Character.isLetterOrDigit(c) || c == '-'
                            || c == '_' || c == '.') || !Character.isLetter(value.charAt(0))) {
                        throw new IllegalArgumentException("id '" + value
                                + "': a letter, then letters, digits, '-', '_', '.'");
                    }
                    id = Optional.of(value);
                }
                default -> throw new IllegalArgumentException("unknown option '" + key
                        + "' (ifname, mac, vhost, queues, id)");
            }
        }
        return new NetConfig(ifname, mac, vhost, queues, id);
    }
}
