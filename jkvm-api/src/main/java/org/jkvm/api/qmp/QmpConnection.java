package org.jkvm.api.qmp;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;

/**
 * One QMP client: a reader thread that frames, parses and executes requests one at a time, and a writer thread
 * that sends replies and events from a bounded queue, so neither a slow nor a vanished client ever blocks the VM
 * or other clients. A client whose queue overflows ({@value #QUEUE_LIMIT} messages unread) is disconnected.
 * Input beyond {@link QmpServer#MAX_REQUEST_BYTES} in one JSON text gets an error reply, then the connection closes.
 */
final class QmpConnection {
    static final int QUEUE_LIMIT = 1024;
    private static final String CLOSE = new String("close"); // identity-compared poison pill

    private final SocketChannel channel;
    private final QmpSession session;
    private final QmpServer server;
    private final BlockingQueue<String> out = new ArrayBlockingQueue<>(QUEUE_LIMIT);
    private final Object busyLock = new Object();
    private boolean busy;
    private volatile boolean closed;
    private Thread writer;

    QmpConnection(SocketChannel channel, CommandTable table, QmpServer server) {
        this.channel = channel;
        this.session = new QmpSession(table);
        this.server = server;
    }

    void start() {
        send(server.table().greeting());
        writer = Thread.ofVirtual().name("qmp-writer").start(this::writeLoop);
        Thread.ofVirtual().name("qmp-reader").start(this::readLoop);
    }

    /** Queues a message; disconnects the client when it is too far behind. */
    void send(JsonNode message) {
        String text;
        try {
            text = Json.MAPPER.writeValueAsString(message) + "\r\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        if (!closed && !out.offer(text)) {
            close();
        }
    }

    /** Events go only to clients past capabilities negotiation. */
    void event(JsonNode event) {
        if (session.negotiated()) {
            send(event);
        }
    }

    private void readLoop() {
        JsonFramer framer = new JsonFramer(QmpServer.MAX_REQUEST_BYTES);
        ByteBuffer buf = ByteBuffer.allocate(8192);
        try {
            while (true) { // until end of input or an error: a reply being written is never cut off here
                buf.clear();
                int n = channel.read(buf);
                if (n < 0) {
                    break;
                }
                framer.feed(buf.array(), n, this::execute);
            }
        } catch (JsonFramer.OverflowException e) {
            send(QmpSession.error(null, QmpError.generic("JSON parse error, " + e.getMessage())));
            drainThenClose();
            return;
        } catch (IOException | RuntimeException e) {
            // the client went away, or the request could not be executed: drop the connection
        }
        close();
    }

    private void execute(byte[] text) {
        synchronized (busyLock) {
            busy = true;
        }
        try {
            send(session.handle(text));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            // a failing command is the command's error, not the connection's
            send(QmpSession.error(null, QmpError.generic("internal error: " + e)));
        } finally {
            synchronized (busyLock) {
                busy = false;
                busyLock.notifyAll();
            }
        }
    }

    /**
     * Writes until told to close. When the client stops reading (it went away), what follows is discarded but the
     * connection stays open for reading: requests it sent before going are still carried out, and the reader
     * closes the connection at the end of its input.
     */
    private void writeLoop() {
        boolean writable = true;
        try {
            while (true) {
                String m = out.take();
                if (m == CLOSE) {
                    break;
                }
                if (!writable) {
                    continue;
                }
                ByteBuffer b = ByteBuffer.wrap(m.getBytes(StandardCharsets.UTF_8));
                try {
                    while (b.hasRemaining()) {
                        channel.write(b);
                    }
                } catch (IOException e) {
                    writable = false;
                }
            }
        } catch (InterruptedException e) {
            // closed
        }
        closeChannel();
    }

    /** Lets the writer send what is queued (bounded), then closes. */
    void drainThenClose() {
        closed = true;
        if (!out.offer(CLOSE)) {
            closeChannel();
        }
    }

    /**
     * For the end of jkvm: waits (bounded) for a command in progress to queue its reply (quit's reply is sent after
     * the VM has ended), then sends everything queued and closes.
     */
    void finish(long timeoutMs) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        synchronized (busyLock) {
            while (busy && System.nanoTime() < end) {
                busyLock.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime())));
            }
        }
        closed = true;
        if (!out.offer(CLOSE)) {
            closeChannel();
        }
        Thread w = writer;
        if (w != null && !w.join(java.time.Duration.ofMillis(Math.max(1,
                TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime()))))) {
            closeChannel();
        }
    }

    void close() {
        closed = true;
        closeChannel();
    }

    private void closeChannel() {
        closed = true;
        try {
            channel.close();
        } catch (IOException e) {
            // already gone
        }
        if (writer != null) {
            writer.interrupt();
        }
        server.removed(this);
    }
}
