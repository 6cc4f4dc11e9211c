package org.jkvm.api.qmp;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;

import com.fasterxml.jackson.databind.node.ObjectNode;

import org.jkvm.vmm.VmEvent;

/**
 * jkvm's QMP monitor (QEMU's docs/interop/qmp-spec.rst) on any number of Unix or TCP sockets, each serving several
 * clients at once, or connected out to a listening client. Every client gets the greeting, negotiates capabilities,
 * then executes commands and receives the VM's events with QEMU's timestamps. Register it as a
 * {@link VmEvent.Listener}; {@link #close} sends what is queued and closes every connection.
 */
public final class QmpServer implements VmEvent.Listener, AutoCloseable {
    /** The longest JSON text a client may send. */
    public static final int MAX_REQUEST_BYTES = 1 << 20;
    /** Clients served at once per server; more are refused (closed at once). */
    public static final int MAX_CLIENTS = 64;

    private final CommandTable table;
    private final Set<QmpConnection> connections = ConcurrentHashMap.newKeySet();
    private final List<ServerSocketChannel> listeners = new ArrayList<>();
    private final List<Path> socketFiles = new ArrayList<>();
    private volatile boolean closed;

    public QmpServer(CommandTable table) {
        this.table = table;
    }

    CommandTable table() {
        return table;
    }

    /**
     * Opens {@code address}: binds and listens for a server address, connects for a client one. Returns a latch
     * that opens when the first client is connected (at once for a client address).
     *
     * @throws IOException when the socket cannot be bound or connected
     */
    public CountDownLatch open(QmpAddress address) throws IOException {
        CountDownLatch first = new CountDownLatch(1);
        if (!address.server()) {
            SocketChannel ch = SocketChannel.open(address.socket());
            accepted(ch);
            first.countDown();
            return first;
        }
        ServerSocketChannel ssc;
        if (address.socket() instanceof UnixDomainSocketAddress u) {
            removeStaleSocket(u.getPath());
            ssc = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            ssc.bind(u);
            socketFiles.add(u.getPath());
        } else {
            ssc = ServerSocketChannel.open();
            ssc.bind(address.socket());
        }
        listeners.add(ssc);
        Thread.ofPlatform().name("qmp-accept").daemon(true).start(() -> acceptLoop(ssc, first));
        return first;
    }

    /** As QEMU does, a socket file left by an earlier run is replaced; any other file is not. */
    private static void removeStaleSocket(Path p) throws IOException {
        if (Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class,
                    java.nio.file.LinkOption.NOFOLLOW_LINKS);
            if (!a.isOther()) {
                throw new IOException(p + " exists and is not a socket");
            }
            Files.delete(p);
        }
    }

    private void acceptLoop(ServerSocketChannel ssc, CountDownLatch first) {
        while (!closed) {
            try {
                SocketChannel ch = ssc.accept();
                if (connections.size() >= MAX_CLIENTS) {
                    ch.close();
                    continue;
                }
                accepted(ch);
                first.countDown();
            } catch (IOException e) {
                if (closed || !ssc.isOpen()) {
                    return;
                }
            }
        }
    }

    private void accepted(SocketChannel ch) {
        QmpConnection c = new QmpConnection(ch, table, this);
        connections.add(c);
        c.start();
    }

    void removed(QmpConnection c) {
        connections.remove(c);
    }

    /** Number of clients connected now. */
    public int clients() {
        return connections.size();
    }

    @Override
    public void onEvent(VmEvent event) {
        java.time.Instant now = java.time.Instant.now();
        ObjectNode e = eventJson(event, now.getEpochSecond() * 1_000_000 + now.getNano() / 1000);
        for (QmpConnection c : connections) {
            c.event(e);
        }
    }

    /** {"event": NAME, "data": {...}, "timestamp": {"seconds", "microseconds"}}; no "data" for events without. */
    static ObjectNode eventJson(VmEvent event, long epochMicros) {
        ObjectNode e = Json.MAPPER.createObjectNode();
        e.put("event", event.name());
        switch (event) {
            case VmEvent.Shutdown s -> e.putObject("data").put("guest", s.guest()).put("reason", s.reason().qapiName());
            case VmEvent.Reset r -> e.putObject("data").put("guest", r.guest()).put("reason", r.reason().qapiName());
            case VmEvent.GuestPanicked p -> e.putObject("data").put("action", p.action());
            case VmEvent.NicRxFilterChanged n -> e.putObject("data").put("name", n.nic()).put("path", n.path());
            default -> { }
        }
        e.putObject("timestamp").put("seconds", epochMicros / 1_000_000).put("microseconds", epochMicros % 1_000_000);
        return e;
    }

    /** Stops listening, lets each client get what is queued for it (bounded), closes everything. */
    @Override
    public void close() {
        closed = true;
        for (ServerSocketChannel ssc : listeners) {
            try {
                ssc.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
        for (QmpConnection c : List.copyOf(connections)) {
            try {
                c.finish(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                c.close();
            }
        }
        for (Path p : socketFiles) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException e) {
                // best effort
            }
        }
    }
}
