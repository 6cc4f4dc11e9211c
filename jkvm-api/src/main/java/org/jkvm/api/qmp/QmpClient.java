package org.jkvm.api.qmp;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A QMP client for {@code jkvm qmp} and the tests: connects, reads the greeting, and sends commands one at a time,
 * collecting the events that arrive before each reply. Works with QEMU as well as jkvm. Not thread-safe.
 */
public final class QmpClient implements AutoCloseable {
    private final SocketChannel channel;
    private final BufferedReader in;
    private final JsonNode greeting;
    private final List<JsonNode> events = new ArrayList<>();

    private QmpClient(SocketChannel channel) throws IOException {
        this.channel = channel;
        this.in = new BufferedReader(new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8));
        this.greeting = readMessage();
        if (greeting == null || !greeting.has("QMP")) {
            throw new IOException("not a QMP server: " + greeting);
        }
    }

    /** Connects to a Unix socket path, or a {@code unix:PATH} / {@code tcp:HOST:PORT} address. */
    public static QmpClient connect(String address) throws IOException {
        return connect(QmpAddress.clientAddress(address));
    }

    public static QmpClient connect(SocketAddress address) throws IOException {
        SocketChannel ch = address instanceof UnixDomainSocketAddress
                ? SocketChannel.open(java.net.StandardProtocolFamily.UNIX) : SocketChannel.open();
        try {
            ch.connect(address);
            return new QmpClient(ch);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    public JsonNode greeting() {
        return greeting;
    }

    /** qmp_capabilities; throws when it fails. */
    public QmpClient negotiate() throws IOException {
        JsonNode r = execute("qmp_capabilities", null);
        if (!r.has("return")) {
            throw new IOException("capabilities negotiation failed: " + r);
        }
        return this;
    }

    /** Sends one command and returns its whole reply ({"return": ...} or {"error": ...}). */
    public JsonNode execute(String command, JsonNode arguments) throws IOException {
        ObjectNode req = Json.MAPPER.createObjectNode().put("execute", command);
        if (arguments != null) {
            req.set("arguments", arguments);
        }
        return sendRaw(Json.MAPPER.writeValueAsString(req) + "\n");
    }

    /** Sends raw text and returns the next reply (not an event). */
    public JsonNode sendRaw(String text) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        while (b.hasRemaining()) {
            channel.write(b);
        }
        return nextReply();
    }

    /** Reads until a reply, keeping the events on the way. */
    public JsonNode nextReply() throws IOException {
        while (true) {
            JsonNode m = readMessage();
            if (m == null) {
                throw new IOException("connection closed");
            }
            if (m.has("event")) {
                events.add(m);
            } else {
                return m;
            }
        }
    }

    /** Reads one message (reply or event), or null at end of stream. */
    public JsonNode readMessage() throws IOException {
        String line;
        do {
            line = in.readLine();
            if (line == null) {
                return null;
            }
        } while (line.isBlank());
        return Json.MAPPER.readTree(line);
    }

    /** Events received so far (and then forgotten). */
    public List<JsonNode> takeEvents() {
        List<JsonNode> e = List.copyOf(events);
        events.clear();
        return e;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
