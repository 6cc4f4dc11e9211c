package org.jkvm.emu.cpu;

/**
 * Keeps the TSCs of one VM's vCPUs in step, as KVM's {@code kvm_synchronize_tsc} does: every vCPU's TSC is host
 * {@link System#nanoTime} plus an offset, and a write that matches the VM's last unsynchronised write (its value
 * advanced by the time since, within one second) takes that write's offset instead of its own. So the VMM writing 0
 * to each vCPU in turn at boot, or a snapshot's values at restore, leaves all TSCs equal; Linux's
 * {@code check_tsc_sync_source} would otherwise see the milliseconds between those writes as a warp and give up the
 * TSC as a clocksource. A write far from the expected value (a guest setting its own TSC) stands on its own and
 * starts a new generation.
 */
public final class TscSync {
    private static final long MATCH_WINDOW_NS = 1_000_000_000L;

    private boolean written;
    private long lastValue;
    private long lastNanos;
    private long lastOffset;

    /** The offset (TSC minus {@link System#nanoTime}) for a write of {@code value} to a vCPU's TSC now. */
    public synchronized long offsetForWrite(long value) {
        long now = System.nanoTime();
        if (written) {
            long expected = lastValue + (now - lastNanos);
            if (Math.abs(value - expected) < MATCH_WINDOW_NS) {
                return lastOffset;
            }
        }
        written = true;
        lastValue = value;
        lastNanos = now;
        lastOffset = value - now;
        return lastOffset;
    }
}
