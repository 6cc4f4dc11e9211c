package org.jkvm.vmm.console;

import java.io.IOException;
import java.io.OutputStream;
import java.util.function.IntConsumer;

/**
 * The guest's serial output to a host stream. Bytes are buffered and written at each newline, when the buffer
 * fills, or at most {@value #FLUSH_DELAY_MS} ms after the last byte (a shell prompt has no newline), so a chatty
 * guest costs one write per line rather than one per byte.
 */
public final class ConsoleOutput implements IntConsumer, AutoCloseable {
    static final int FLUSH_DELAY_MS = 10;
    private final OutputStream out;
    private final byte[] buf = new byte[8192];
    private int len;
    private boolean closed;
    private final Thread flusher;

    public ConsoleOutput(OutputStream out) {
        this.out = out;
        this.flusher = Thread.ofPlatform().name("console-flush").daemon(true).start(this::flushLoop);
    }

    @Override
    public synchronized void accept(int b) {
        if (closed) {
            return;
        }
        buf[len++] = (byte) b;
        if (b == '\n' || len == buf.length) {
            flush();
        } else if (len == 1) {
            notifyAll();
        }
    }

    /** Writes what is buffered. */
    public synchronized void flush() {
        if (len == 0) {
            return;
        }
        try {
            out.write(buf, 0, len);
            out.flush();
        } catch (IOException e) {
            closed = true; // the reader went away: drop output, keep the VM running
        }
        len = 0;
    }

    private synchronized void flushLoop() {
        try {
            while (!closed) {
                while (len == 0 && !closed) {
                    wait();
                }
                wait(FLUSH_DELAY_MS);
                flush();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public synchronized void close() {
        flush();
        closed = true;
        notifyAll();
    }
}
