package org.jkvm.vmm.vstate;

import java.util.List;
import java.util.concurrent.TimeUnit;

import org.jkvm.hypervisor.Vcpu;

/**
 * Parks and releases the vCPU threads of one VM: the pause protocol (docs/architecture.md, "Pausing").
 *
 * <p>{@link #pause} raises a hold count and kicks every vCPU ({@link Vcpu#kick}: KVM_RUN returns EINTR, the software
 * CPU stops between blocks); each vCPU thread sees {@link #holding} before its next {@link Vcpu#run} and waits in
 * {@link #park} until the count is back to zero or the VM stops. {@code pause} returns once every vCPU thread is
 * parked (or waiting for the VM's end after a HLT with nothing to wake it, which is just as still), so a caller can
 * then read registers. Holds nest: a QMP {@code stop} and a brief pause for {@code info registers} overlap safely.
 * The vCPU's fast path reads one volatile field; nothing allocates.
 */
public final class VcpuGate {
    private final Object lock = new Object();
    private final List<Vcpu> vcpus;
    private volatile int holds;
    private volatile boolean stopping;
    private int still; // vCPU threads in park() or idle(), under lock
    private int live;  // vCPU threads started and not yet ended, under lock
    private boolean closed; // under lock: the vCPUs are closed (kvm_run unmapped), so never kick them again

    public VcpuGate(List<Vcpu> vcpus) {
        this.vcpus = vcpus;
    }

    /** The vCPU's check before each run: true while a pause is held. */
    public boolean holding() {
        return holds != 0;
    }

    public boolean stopping() {
        return stopping;
    }

    /** A vCPU thread starts or ends (its runner calls these first and last). */
    public void threadStarted() {
        synchronized (lock) {
            live++;
        }
    }

    public void threadEnded() {
        synchronized (lock) {
            live--;
            lock.notifyAll();
        }
    }

    /** Called by a vCPU thread that saw {@link #holding}: waits until the pause is released or the VM stops. */
    public void park() throws InterruptedException {
        synchronized (lock) {
            still++;
            lock.notifyAll();
            try {
                while (holds != 0 && !stopping) {
                    lock.wait();
                }
            } finally {
                still--;
            }
        }
    }

    /** Called by a vCPU that halted with nothing to wake it: waits for the VM's end; counts as parked. */
    public void idle() throws InterruptedException {
        synchronized (lock) {
            still++;
            lock.notifyAll();
            try {
                while (!stopping) {
                    lock.wait();
                }
            } finally {
                still--;
            }
        }
    }

    /**
     * Takes a pause hold and returns when every started vCPU thread is parked (or the VM stops, or the timeout
     * passes: then false). Each call must be matched by one {@link #release}.
     */
    public boolean pause(long timeout, TimeUnit unit) throws InterruptedException {
        synchronized (lock) {
            holds++;
        }
        long end = System.nanoTime() + unit.toNanos(timeout);
        synchronized (lock) {
            while (still < live && !stopping) {
                kickAllLocked(); // a kick is sticky: a vCPU between two runs returns at once from the next
                long left = end - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                lock.wait(Math.max(1, Math.min(TimeUnit.NANOSECONDS.toMillis(left), 20)));
            }
        }
        return true;
    }

    /** Drops one pause hold; the vCPUs run again when none is left. */
    public void release() {
        synchronized (lock) {
            if (holds > 0) {
                holds--;
            }
            lock.notifyAll();
        }
    }

    /** Kicks every vCPU unless they are closed; safe from any thread at any time. */
    public void kickAll() {
        synchronized (lock) {
            kickAllLocked();
        }
    }

    private void kickAllLocked() {
        if (!closed) {
            vcpus.forEach(Vcpu::kick);
        }
    }

    /** Called before the vCPUs are closed: from then on nothing kicks them (their kvm_run is unmapped). */
    public void close() {
        synchronized (lock) {
            closed = true;
            stopping = true;
            lock.notifyAll();
        }
    }

    /** The VM ends: every parked or idle vCPU thread returns. */
    public void stop() {
        synchronized (lock) {
            stopping = true;
            lock.notifyAll();
        }
    }
}
