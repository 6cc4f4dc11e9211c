package org.jkvm.vmm.console;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import org.jkvm.sys.Libc;

/**
 * Puts a terminal in raw mode for the guest console (every key goes to the guest, Ctrl-C included) while keeping
 * output post-processing, as QEMU's stdio character device does, and restores the saved mode.
 */
public final class TerminalMode implements AutoCloseable {
    private static final long C_OFLAG = 4;
    private static final int OPOST = 1;
    private final int fd;
    private final byte[] saved;
    private boolean restored;

    private TerminalMode(int fd, byte[] saved) {
        this.fd = fd;
        this.saved = saved;
    }

    /** Raw mode on {@code fd} if it is a terminal; otherwise null. */
    public static TerminalMode rawIfTerminal(int fd) {
        if (!Libc.isatty(fd)) {
            return null;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment t = arena.allocate(Libc.TERMIOS_SIZE, 4);
            Libc.tcgetattr(fd, t);
            byte[] saved = t.toArray(ValueLayout.JAVA_BYTE);
            Libc.cfmakeraw(t);
            t.set(ValueLayout.JAVA_INT, C_OFLAG, t.get(ValueLayout.JAVA_INT, C_OFLAG) | OPOST);
            Libc.tcsetattr(fd, Libc.TCSANOW, t);
            TerminalMode mode = new TerminalMode(fd, saved);
            Runtime.getRuntime().addShutdownHook(new Thread(mode::close));
            return mode;
        }
    }

    @Override
    public synchronized void close() {
        if (restored) {
            return;
        }
        restored = true;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment t = arena.allocate(Libc.TERMIOS_SIZE, 4);
            MemorySegment.copy(saved, 0, t, ValueLayout.JAVA_BYTE, 0, saved.length);
            Libc.tcsetattr(fd, Libc.TCSANOW, t);
        }
    }
}
