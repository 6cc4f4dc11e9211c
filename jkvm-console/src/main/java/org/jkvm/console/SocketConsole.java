package org.jkvm.console;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A Unix stream socket jkvm listens on, one client at a time (as QEMU's {@code -chardev socket,server=on}). What the
 * client sends is the guest's input: a reader thread takes it into a 64 KiB buffer and stops reading while that is full
 * (the client then blocks: nothing is lost). The guest's output goes to a writer thread through a bounded queue; with
 * no client, or a client that does not read and lets 256 chunks pile up, it is dropped and counted, so a stalled client
 * never stalls the VM. A client that goes away is replaced by the next one to connect.
 */
final class SocketConsole implements ConsoleBackend {
    static final int INPUT_BYTES = 64 * 1024;
    static final int OUTPUT_CHUNKS = 256;

    private final Path path;
    private final ServerSocketChannel server;
    private final Thread reader;
    private final Thread writer;
    private final BlockingQueue<byte[]> output = new ArrayBlockingQueue<>(OUTPUT_CHUNKS);
    private final ByteBuffer input = ByteBuffer.allocate(INPUT_BYTES); // write mode; guarded by this
    private volatile SocketChannel client;
    private volatile Runnable inputReady = () -> { };
    private volatile boolean closed;
    private final java.util.concurrent.atomic.AtomicLong dropped = new java.util.concurrent.atomic.AtomicLong();

    private SocketConsole(Path path, ServerSocketChannel server) {
        this.path = path;
        this.server = server;
        this.reader = Thread.ofPlatform().daemon().name("console-socket-reader").unstarted(this::acceptAndRead);
        this.writer = Thread.ofPlatform().daemon().name("console-socket-writer").unstarted(this::writeOut);
    }

    static SocketConsole listen(Path path) throws IOException {
        if (Files.exists(path) && !Files.isDirectory(path)) {
            Files.delete(path); // a stale socket from an earlier run, as QEMU unlinks it
        }
        ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            s.bind(UnixDomainSocketAddress.of(path));
        } catch (IOException e) {
            s.close();
            throw e;
        }
        SocketConsole c = new SocketConsole(path, s);
        c.reader.start();
        c.writer.start();
        return c;
    }

    private void acceptAndRead() {
        byte[] chunk = new byte[4096];
        ByteBuffer buf = ByteBuffer.wrap(chunk);
        while (!closed) {
            try (SocketChannel c = server.accept()) {
                client = c;
                while (!closed) {
                    buf.clear();
                    int n = c.read(buf);
                    if (n < 0) {
                        break;
                    }
                    buf.flip();
                    while (buf.hasRemaining() && !closed) {
                        synchronized (this) {
                            while (!input.hasRemaining() && !closed) {
                                wait(); // the guest has not taken the last 64 KiB yet
                            }
                            int k = Math.min(buf.remaining(), input.remaining());
                            input.put(input.position(), chunk, buf.position(), k);
                            input.position(input.position() + k);
                            buf.position(buf.position() + k);
                        }
                        inputReady.run();
                    }
                }
            } catch (IOException | InterruptedException e) {
                // client gone (or the socket closed): wait for the next one
            } finally {
                client = null;
            }
        }
    }

    private void writeOut() {
        while (!closed) {
            try {
                byte[] b = output.poll(200, TimeUnit.MILLISECONDS);
                if (b == null) {
                    continue;
                }
                SocketChannel c = client;
                if (c == null) {
                    dropped.addAndGet(b.length);
                    continue;
                }
                ByteBuffer bb = ByteBuffer.wrap(b);
                while (bb.hasRemaining()) {
                    c.write(bb);
                }
            } catch (IOException e) {
                // the reader notices the broken client and accepts the next one
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    @Override
    public void write(ByteBuffer data) {
        int n = data.remaining();
        if (client == null) {
            dropped.addAndGet(n);
            data.position(data.limit());
            return;
        }
        byte[] b = new byte[n];
        data.get(b);
        if (!output.offer(b)) {
            dropped.addAndGet(n);
        }
    }

    @Override
    public synchronized int read(ByteBuffer dst) {
        input.flip();
        int k = Math.min(input.remaining(), dst.remaining());
        dst.put(dst.position(), input, input.position(), k);
        dst.position(dst.position() + k);
        input.position(input.position() + k);
        input.compact();
        if (k > 0) {
            notifyAll();
        }
        return k;
    }

    @Override
    public long dropped() {
        return dropped.get();
    }

    @Override
    public void onInput(Runnable ready) {
        this.inputReady = ready;
    }

    @Override
    public void close() {
        closed = true;
        synchronized (this) {
            notifyAll();
        }
        try {
            server.close();
            SocketChannel c = client;
            if (c != null) {
                c.close();
            }
            Files.deleteIfExists(path);
        } catch (IOException e) {
            // closing anyway
        }
        reader.interrupt();
        writer.interrupt();
    }
}
