package org.jkvm.sys;

import java.lang.foreign.MemorySegment;

/**
 * Interrupts a thread blocked in a system call (a vCPU in {@code ioctl(KVM_RUN)}) by sending it a real-time signal
 * whose handler does nothing: the call returns EINTR. The handler is a single {@code ret} instruction on an
 * executable page of its own, so no Java code ever runs in signal context.
 */
public final class VcpuKicker {
    private static final Object LOCK = new Object();
    private static int signal = -1;

    private VcpuKicker() {}

    /** The kick signal, installing its no-op handler on first use. */
    public static int signal() {
        synchronized (LOCK) {
            if (signal < 0) {
                long page = Libc.mmap(0, 4096, Libc.PROT_READ | Libc.PROT_WRITE,
                        Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS, -1, 0);
                MemorySegment code = Libc.segment(page, 4096);
                code.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 0, (byte) 0xc3); // ret
                Libc.mprotect(page, 4096, Libc.PROT_READ | Libc.PROT_EXEC);
                int sig = Libc.sigrtmin() + 4;
                Libc.sigaction(sig, page, 0);
                signal = sig;
            }
            return signal;
        }
    }

    /** Sends the kick signal to {@code pthread}; a thread that has already exited is ignored. */
    public static void kick(long pthread) {
        Libc.pthreadKill(pthread, signal());
    }
}
