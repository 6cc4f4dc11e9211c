package org.jkvm.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * One queue of a Linux TAP device ({@code /dev/net/tun}, Documentation/networking/tuntap.rst): an Ethernet frame per
 * read or write, each preceded by a 12-byte virtio-net header ({@code IFF_VNET_HDR} with {@code TUNSETVNETHDRSZ} 12,
 * the header of a VIRTIO_F_VERSION_1 device), no packet information ({@code IFF_NO_PI}). The descriptor is
 * non-blocking: a read with no frame waiting returns {@code -EAGAIN}.
 *
 * <p>{@link #open} creates the device, or attaches to an existing one of that name (a persistent TAP made with
 * {@code ip tuntap add}); a device jkvm created disappears when its last queue is closed. Creating needs
 * CAP_NET_ADMIN in the network namespace of the calling thread; without it the {@link TapException} says so in one
 * line.
 */
public final class Tap implements AutoCloseable {
    // linux/if_tun.h
    static final long TUNSETIFF = Ioctl.iow('T', 202, 4);
    static final long TUNGETIFF = Ioctl.ior('T', 210, 4);
    static final long TUNSETOFFLOAD = Ioctl.iow('T', 208, 4);
    static final long TUNSETVNETHDRSZ = Ioctl.iow('T', 216, 4);
    static final long TUNSETQUEUE = Ioctl.iow('T', 217, 4);
    public static final int IFF_ATTACH_QUEUE = 0x0200;
    public static final int IFF_DETACH_QUEUE = 0x0400;
    public static final int IFF_TAP = 0x0002;
    public static final int IFF_MULTI_QUEUE = 0x0100;
    public static final int IFF_NO_PI = 0x1000;
    public static final int IFF_VNET_HDR = 0x4000;
    public static final int IFF_TUN_EXCL = 0x8000;
    /** TUNSETOFFLOAD bits: what the reader of the TAP (the guest) accepts. */
    public static final int TUN_F_CSUM = 0x01, TUN_F_TSO4 = 0x02, TUN_F_TSO6 = 0x04, TUN_F_TSO_ECN = 0x08,
            TUN_F_UFO = 0x10;
    /** struct virtio_net_hdr_v1: flags, gso_type, hdr_len, gso_size, csum_start, csum_offset, num_buffers. */
    public static final int VNET_HDR_BYTES = 12;
    /** IFNAMSIZ, with the terminating NUL. */
    public static final int IFNAMSIZ = 16;
    /** sizeof(struct ifreq) on x86_64. */
    private static final int IFREQ_BYTES = 40;
    private static final int IFR_FLAGS = 16;

    private final int fd;
    private final String name;
    private final boolean created;
    private volatile boolean closed;

    private Tap(int fd, String name, boolean created) {
        this.fd = fd;
        this.name = name;
        this.created = created;
    }

    /** A TAP failure meant for the user: one line saying what and why. */
    public static final class TapException extends java.io.IOException {
        private static final long serialVersionUID = 1L;
        private final int errno;

        TapException(String message, int errno) {
            super(message);
            this.errno = errno;
        }

        public int errno() {
            return errno;
        }
    }

    /**
     * Opens a queue of TAP device {@code ifname} (empty: the kernel picks {@code tapN}), creating the device unless it
     * exists. {@code multiQueue} sets IFF_MULTI_QUEUE (each further {@code open} of the same name adds a queue; the
     * device and every queue must agree on it).
     */
    public static Tap open(String ifname, boolean multiQueue) throws TapException {
        byte[] nameBytes = ifname.getBytes(StandardCharsets.US_ASCII);
        if (nameBytes.length >= IFNAMSIZ || ifname.indexOf('/') >= 0 || ifname.indexOf('\0') >= 0
                || ifname.equals(".") || ifname.equals("..")) {
            throw new TapException("TAP name '" + ifname + "': at most " + (IFNAMSIZ - 1)
                    + " characters, no '/'", Errno.EINVAL);
        }
        int fd;
        try {
            fd = Libc.open("/dev/net/tun", Libc.O_RDWR | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
        } catch (NativeException e) {
            throw new TapException(switch (e.errno()) {
                case Errno.ENOENT, Errno.ENODEV, Errno.ENXIO -> "/dev/net/tun is missing (the tun module is not loaded)";
                case Errno.EACCES, Errno.EPERM -> "cannot open /dev/net/tun: " + Errno.name(e.errno())
                        + " (a TAP device needs root or CAP_NET_ADMIN)";
                default -> "cannot open /dev/net/tun: " + Errno.name(e.errno()) + " (" + Libc.strerror(e.errno()) + ")";
            }, e.errno());
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ifr = arena.allocate(IFREQ_BYTES, 8);
            MemorySegment.copy(nameBytes, 0, ifr, ValueLayout.JAVA_BYTE, 0, nameBytes.length);
            short flags = (short) (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (multiQueue ? IFF_MULTI_QUEUE : 0));
            ifr.set(ValueLayout.JAVA_SHORT, IFR_FLAGS, flags);
            // First with IFF_TUN_EXCL, which fails with EBUSY when the name exists: then attach to it.
            ifr.set(ValueLayout.JAVA_SHORT, IFR_FLAGS, (short) (flags | IFF_TUN_EXCL));
            int r = Libc.ioctlRaw(fd, TUNSETIFF, ifr.address());
            boolean existed = r == -Errno.EBUSY;
            if (existed) {
                ifr.set(ValueLayout.JAVA_SHORT, IFR_FLAGS, flags);
                r = Libc.ioctlRaw(fd, TUNSETIFF, ifr.address());
            }
            if (r < 0) {
                int errno = -r;
                String what = existed ? "attaching to TAP device '" + ifname + "'" : "creating TAP device"
                        + (ifname.isEmpty() ? "" : " '" + ifname + "'");
                throw new TapException(switch (errno) {
                    case Errno.EPERM, Errno.EACCES -> what + " needs root or CAP_NET_ADMIN (ioctl(TUNSETIFF): "
                            + Errno.name(errno) + ")";
                    case Errno.EBUSY -> what + ": the device is busy (in use by another process, or not a"
                            + (multiQueue ? " multi-queue" : " single-queue") + " TAP)";
                    case Errno.EINVAL -> what + ": refused (ioctl(TUNSETIFF): EINVAL: a TUN device of that name,"
                            + " or multi-queue mismatch)";
                    default -> what + ": ioctl(TUNSETIFF): " + Errno.name(errno) + " (" + Libc.strerror(errno) + ")";
                }, errno);
            }
            String actual = ifr.getString(0, StandardCharsets.US_ASCII);
            MemorySegment sz = arena.allocate(ValueLayout.JAVA_INT);
            sz.set(ValueLayout.JAVA_INT, 0, VNET_HDR_BYTES);
            r = Libc.ioctlRaw(fd, TUNSETVNETHDRSZ, sz.address());
            if (r < 0) {
                throw new TapException("TAP '" + actual + "': ioctl(TUNSETVNETHDRSZ): " + Errno.name(-r), -r);
            }
            Tap tap = new Tap(fd, actual, !existed);
            if (tap.setOffload(0) < 0) {
                throw new TapException("TAP '" + actual + "': ioctl(TUNSETOFFLOAD) refused", Errno.EINVAL);
            }
            fd = -1;
            return tap;
        } finally {
            if (fd >= 0) {
                Libc.close(fd);
            }
        }
    }

    /** The interface's name (what the kernel chose when {@code open} was given none). */
    public String name() {
        return name;
    }

    /** True if this open created the device (it had no interface of that name before). */
    public boolean created() {
        return created;
    }

    public int fd() {
        return fd;
    }

    /**
     * TUNSETOFFLOAD: which offloads the reader accepts in frames read from this TAP ({@code TUN_F_*}): checksum
     * left to the reader (CSUM), large TCP/UDP segments (TSO4/6, ECN, UFO). Returns 0 or {@code -errno} (EINVAL for
     * a bit this kernel does not know).
     */
    public int setOffload(int tunFlags) {
        return Libc.ioctlRaw(fd, TUNSETOFFLOAD, tunFlags);
    }

    /**
     * TUNSETQUEUE: attaches this queue of a multi-queue TAP to the device (the kernel steers frames to it) or
     * detaches it; 0 or {@code -errno}.
     */
    public int setQueueAttached(boolean attached) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ifr = arena.allocate(IFREQ_BYTES, 8);
            ifr.set(ValueLayout.JAVA_SHORT, IFR_FLAGS, (short) (attached ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE));
            return Libc.ioctlRaw(fd, TUNSETQUEUE, ifr.address());
        }
    }

    /** readv(2) of one frame (virtio-net header first); bytes read, or {@code -errno} (EAGAIN: none waiting). */
    public long readv(MemorySegment iov, int iovcnt) {
        return Libc.readvRaw(fd, iov, iovcnt);
    }

    /** read(2) of one frame into {@code buf}; bytes read, or {@code -errno} (EAGAIN: none waiting). */
    public long read(MemorySegment buf, long len) {
        return Libc.readRaw(fd, buf, len);
    }

    /** writev(2) of one frame (virtio-net header first); bytes written, or {@code -errno}. */
    public long writev(MemorySegment iov, int iovcnt) {
        return Libc.writevRaw(fd, iov, iovcnt);
    }

    /** write(2) of one frame; bytes written, or {@code -errno}. */
    public long write(MemorySegment buf, long len) {
        return Libc.writeRaw(fd, buf, len);
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            Libc.close(fd);
        }
    }
}
