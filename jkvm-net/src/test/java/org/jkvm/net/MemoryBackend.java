package org.jkvm.net;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;

import org.jkvm.sys.Errno;
import org.jkvm.sys.Libc;

/** A backend in memory for tests: frames to hand the guest, frames the guest sent, the offloads last set. */
final class MemoryBackend implements NetBackend {
    final Deque<byte[]> inbound = new ArrayDeque<>();
    final List<byte[]> sent = new ArrayList<>();
    final Boolean[] enabled;
    final int supported;
    int offload = -1;
    int writeErrno;

    MemoryBackend(int queues, int supported) {
        this.enabled = new Boolean[queues];
        Arrays.fill(enabled, true);
        this.supported = supported;
    }

    @Override
    public int queues() {
        return enabled.length;
    }

    @Override
    public int fd(int q) {
        return -1;
    }

    @Override
    public long read(int q, MemorySegment buf, long len) {
        byte[] f = inbound.poll();
        if (f == null) {
            return -Errno.EAGAIN;
        }
        int n = (int) Math.min(len, f.length);
        MemorySegment.copy(f, 0, buf, ValueLayout.JAVA_BYTE, 0, n);
        return n;
    }

    @Override
    public long writev(int q, MemorySegment iov, int iovcnt) {
        if (writeErrno != 0) {
            return -writeErrno;
        }
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < iovcnt; i++) {
            long base = iov.get(ValueLayout.JAVA_LONG, i * Libc.IOVEC_SIZE);
            long len = iov.get(ValueLayout.JAVA_LONG, i * Libc.IOVEC_SIZE + 8);
            out.writeBytes(MemorySegment.ofAddress(base).reinterpret(len).toArray(ValueLayout.JAVA_BYTE));
        }
        sent.add(out.toByteArray());
        return out.size();
    }

    @Override
    public int setOffload(int tunFlags) {
        offload = tunFlags & supported;
        return 0;
    }

    @Override
    public int supportedOffloads() {
        return supported;
    }

    @Override
    public int setQueueEnabled(int q, boolean on) {
        enabled[q] = on;
        return 0;
    }

    @Override
    public String name() {
        return "mem0";
    }

    @Override
    public void close() {
    }
}
