package org.jkvm.sys;

/** The kernel's ioctl request encoding (include/uapi/asm-generic/ioctl.h): {@code _IO}, {@code _IOR}, ... */
public final class Ioctl {
    private static final int NRBITS = 8;
    private static final int TYPEBITS = 8;
    private static final int SIZEBITS = 14;
    private static final int NRSHIFT = 0;
    private static final int TYPESHIFT = NRSHIFT + NRBITS;
    private static final int SIZESHIFT = TYPESHIFT + TYPEBITS;
    private static final int DIRSHIFT = SIZESHIFT + SIZEBITS;
    public static final int NONE = 0;
    public static final int WRITE = 1;
    public static final int READ = 2;

    private Ioctl() {}

    public static long ioc(int dir, int type, int nr, long size) {
        if (size < 0 || size >= (1 << SIZEBITS)) {
            throw new IllegalArgumentException("ioctl size out of range: " + size);
        }
        return ((long) dir << DIRSHIFT) | ((long) type << TYPESHIFT) | ((long) nr << NRSHIFT) | (size << SIZESHIFT);
    }

    public static long io(int type, int nr) {
        return ioc(NONE, type, nr, 0);
    }

    public static long ior(int type, int nr, long size) {
        return ioc(READ, type, nr, size);
    }

    public static long iow(int type, int nr, long size) {
        return ioc(WRITE, type, nr, size);
    }

    public static long iowr(int type, int nr, long size) {
        return ioc(READ | WRITE, type, nr, size);
    }
}
