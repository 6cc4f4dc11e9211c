package org.jkvm.loader;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/** Little-endian reads and writes in byte arrays (x86 boot structures and ELF headers are little-endian). */
final class Le {
    private static final VarHandle U16 = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle U32 = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle U64 = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private Le() {
    }

    static int u8(byte[] b, int off) {
        return b[off] & 0xff;
    }

    static int u16(byte[] b, int off) {
        return (short) U16.get(b, off) & 0xffff;
    }

    static long u32(byte[] b, int off) {
        return Integer.toUnsignedLong((int) U32.get(b, off));
    }

    static long u64(byte[] b, int off) {
        return (long) U64.get(b, off);
    }

    static void put8(byte[] b, int off, int v) {
        b[off] = (byte) v;
    }

    static void put16(byte[] b, int off, int v) {
        U16.set(b, off, (short) v);
    }

    static void put32(byte[] b, int off, long v) {
        U32.set(b, off, (int) v);
    }

    static void put64(byte[] b, int off, long v) {
        U64.set(b, off, v);
    }

    static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }
}
