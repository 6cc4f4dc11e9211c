package org.jkvm.console;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;

/**
 * The host side of a virtio console: it takes the guest's output and supplies its input. Called on the device's I/O
 * thread; {@link #write} never blocks it.
 */
public interface ConsoleBackend extends AutoCloseable {
    /** Takes the guest's output (all of {@code data}, or it is dropped and counted in {@link #dropped}). */
    void write(ByteBuffer data);

    /** Moves pending input into {@code dst}; returns how many bytes (0 when there is none). Never blocks. */
    int read(ByteBuffer dst);

    /** Output bytes dropped: no one to take them, or a client that does not read. */
    long dropped();

    /** Called when input becomes available (from the backend's own thread): the device then fills its rx queue. */
    default void onInput(Runnable inputReady) {
    }

    @Override
    void close();

    /** The backend {@code config} names, opened (a socket bound and listening, a file opened for appending). */
    static ConsoleBackend open(ConsoleConfig config) throws IOException {
        return switch (config.kind()) {
            case SOCKET -> SocketConsole.listen(config.path());
            case FILE -> new FileConsole(FileChannel.open(config.path(), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE, StandardOpenOption.APPEND));
        };
    }

    /** Output appended to a file; no input. */
    final class FileConsole implements ConsoleBackend {
        private final FileChannel file;
        private long dropped;

        FileConsole(FileChannel file) {
            this.file = file;
        }

        @Override
        public void write(ByteBuffer data) {
            try {
                while (data.hasRemaining()) {
                    file.write(data);
                }
            } catch (IOException e) {
                dropped += data.remaining();
                data.position(data.limit());
            }
        }

        @Override
        public int read(ByteBuffer dst) {
            return 0;
        }

        @Override
        public long dropped() {
            return dropped;
        }

        @Override
        public void close() {
            try {
                file.close();
            } catch (IOException e) {
                // nothing left to do with it
            }
        }
    }
}
