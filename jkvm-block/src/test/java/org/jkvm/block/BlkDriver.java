package org.jkvm.block;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.jkvm.memory.GuestMemory;
import org.jkvm.virtio.MockDriver;
import org.jkvm.virtio.MockDriver.Buf;

/** A virtio-blk driver over {@link MockDriver}: builds requests the way Linux's virtio_blk does (or worse). */
final class BlkDriver {
    final MockDriver ring;
    final GuestMemory memory;

    BlkDriver(MockDriver ring) {
        this.ring = ring;
        this.memory = ring.memory();
    }

    /** A 16-byte request header in guest memory. */
    long header(int type, long sector) {
        long h = ring.alloc(16, 16);
        byte[] b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putInt(type).putInt(0).putLong(sector)
                .array();
        memory.write(h, b);
        return h;
    }

    /** A status byte, preset to 0xff so a test sees whether the device wrote it. */
    long status() {
        long s = ring.alloc(1, 1);
        memory.writeByte(s, (byte) 0xff);
        return s;
    }

    long data(byte[] bytes, long align) {
        long d = ring.alloc(bytes.length, align);
        memory.write(d, bytes);
        return d;
    }

    long buffer(int len, long align) {
        long d = ring.alloc(len, align);
        memory.fill(d, len, (byte) 0xee);
        return d;
    }

    /** header | data (device-readable) | status. */
    int write(long sector, long data, int len, long status) {
        return ring.add(Buf.in(header(VirtioBlk.T_OUT, sector), 16), Buf.in(data, len), Buf.out(status, 1));
    }

    /** header | data (device-writable) | status. */
    int read(long sector, long data, int len, long status) {
        return ring.add(Buf.in(header(VirtioBlk.T_IN, sector), 16), Buf.out(data, len), Buf.out(status, 1));
    }

    /** A discard / write-zeroes request with {@code segments} (sector, count, flags) triples. */
    int ranges(int type, long status, long... segments) {
        ByteBuffer b = ByteBuffer.allocate(16 * (segments.length / 3)).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < segments.length; i += 3) {
            b.putLong(segments[i]).putInt((int) segments[i + 1]).putInt((int) segments[i + 2]);
        }
        long seg = data(b.array(), 16);
        return ring.add(Buf.in(header(type, 0), 16), Buf.in(seg, b.capacity()), Buf.out(status, 1));
    }

    byte statusOf(long status) {
        return memory.readByte(status);
    }

    byte[] bytes(long gpa, int len) {
        byte[] b = new byte[len];
        memory.read(gpa, b, 0, len);
        return b;
    }
}
