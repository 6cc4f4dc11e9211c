package org.jkvm.it;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Builds tiny multiboot guests (a.out kludge, loaded and entered at 1 MiB + 32 in 32-bit protected mode) from raw
 * machine code, for the lifecycle checks that need a guest to do one precise thing.
 */
final class TinyGuest {
    private static final int LOAD = 0x100000;
    private static final int HEADER = 32;

    private TinyGuest() {}

    static Path write(Path dir, String name, int... code) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(HEADER + code.length).order(ByteOrder.LITTLE_ENDIAN);
        int magic = 0x1BADB002;
        int flags = 0x00010000;
        b.putInt(magic).putInt(flags).putInt(-(magic + flags));
        b.putInt(LOAD).putInt(LOAD).putInt(0).putInt(0).putInt(LOAD + HEADER);
        for (int c : code) {
            b.put((byte) c);
        }
        Path p = dir.resolve(name);
        Files.write(p, b.array());
        return p;
    }

    /** mov dx, port; mov ax, value; out dx, ax */
    static int[] outw(int port, int value) {
        return new int[] {0x66, 0xba, port & 0xff, port >> 8, 0x66, 0xb8, value & 0xff, value >> 8, 0x66, 0xef};
    }

    /** mov dx, port; mov al, value; out dx, al */
    static int[] outb(int port, int value) {
        return new int[] {0x66, 0xba, port & 0xff, port >> 8, 0xb0, value & 0xff, 0xee};
    }

    static int[] concat(int[]... parts) {
        int n = 0;
        for (int[] p : parts) {
            n += p.length;
        }
        int[] all = new int[n];
        int i = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, all, i, p.length);
            i += p.length;
        }
        return all;
    }

    static final int[] SPIN = {0xeb, 0xfe};
    static final int[] UD2 = {0x0f, 0x0b};
}
