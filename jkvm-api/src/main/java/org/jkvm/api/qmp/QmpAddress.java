package org.jkvm.api.qmp;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;

/**
 * A {@code --qmp} address in QEMU's character device syntax: {@code unix:PATH} or {@code tcp:HOST:PORT}, then
 * options {@code server[=on|off]}, {@code wait=on|off} (or {@code nowait}). As in QEMU, without {@code server} jkvm
 * connects to a listening client; a server waits for its first client before the VM starts unless
 * {@code wait=off}. Unlike QEMU, an empty TCP host ({@code tcp::4444}) means loopback, not every interface: a
 * monitor controls the VM, so it is reachable from elsewhere only when a host is given explicitly.
 */
public record QmpAddress(String spec, SocketAddress socket, boolean server, boolean waitForClient) {
    public static QmpAddress parse(String spec) {
        String[] parts = spec.split(",");
        String where = parts[0];
        boolean server = false;
        Boolean wait = null;
        for (int i = 1; i < parts.length; i++) {
            String o = parts[i];
            switch (o) {
                case "server", "server=on" -> server = true;
                case "server=off" -> server = false;
                case "wait", "wait=on" -> wait = true;
                case "nowait", "wait=off" -> wait = false;
                default -> throw new IllegalArgumentException("unknown option '" + o + "' (expected server=on|off,"
                        + " wait=on|off)");
            }
        }
        SocketAddress socket;
        if (where.startsWith("unix:")) {
            String path = where.substring("unix:".length());
            if (path.isEmpty()) {
                throw new IllegalArgumentException("unix: needs a path");
            }
            socket = UnixDomainSocketAddress.of(Path.of(path));
        } else if (where.startsWith("tcp:")) {
            String hostPort = where.substring("tcp:".length());
            int colon = hostPort.lastIndexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("tcp: needs HOST:PORT");
            }
            String host = hostPort.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            int port;
            try {
                port = Integer.parseInt(hostPort.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad port '" + hostPort.substring(colon + 1) + "'");
            }
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port " + port + " is out of range");
            }
            try {
                socket = new InetSocketAddress(host.isEmpty() ? InetAddress.getLoopbackAddress()
                        : InetAddress.getByName(host), port);
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException("unknown host '" + host + "'");
            }
        } else {
            throw new IllegalArgumentException("expected unix:PATH or tcp:HOST:PORT");
        }
        if (wait != null && !server) {
            throw new IllegalArgumentException("'wait' is only for server sockets");
        }
        return new QmpAddress(spec, socket, server, server && (wait == null || wait));
    }

    /** The client side of a QEMU-style address, or a bare path (a Unix socket), for {@code jkvm qmp}. */
    public static SocketAddress clientAddress(String s) {
        if (s.startsWith("unix:") || s.startsWith("tcp:")) {
            return parse(s.split(",")[0]).socket();
        }
        return UnixDomainSocketAddress.of(Path.of(s));
    }

    /** What query-chardev says, as QEMU does: "unix:/path,server=on", "tcp:127.0.0.1:4444,server=on". */
    public String filename() {
        String where = switch (socket) {
            case UnixDomainSocketAddress u -> "unix:" + u.getPath();
            case InetSocketAddress in -> "tcp:" + in.getAddress().getHostAddress() + ":" + in.getPort();
            default -> socket.toString();
        };
        return server ? where + ",server=on" : where;
    }
}
