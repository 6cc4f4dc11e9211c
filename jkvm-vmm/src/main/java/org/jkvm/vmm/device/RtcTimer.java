package org.jkvm.vmm.device;

import org.jkvm.devices.legacy.CmosRtc;
import org.jkvm.devices.timer.TimerDevice;

/**
 * The CMOS RTC's interrupts (periodic, alarm, update-ended) on the VMM's timer thread: the RTC computes its flags
 * from the clock when asked ({@link CmosRtc#service}), and this asks again when the next enabled interrupt falls
 * due. The RTC's reschedule callback wakes the thread when the guest enables or reprograms an interrupt.
 */
final class RtcTimer implements TimerDevice {
    private final CmosRtc rtc;
    private long next = NO_EVENT;

    RtcTimer(CmosRtc rtc) {
        this.rtc = rtc;
    }

    @Override
    public long nextEventNanos() {
        long delay = rtc.service();
        next = delay == Long.MAX_VALUE ? NO_EVENT : System.nanoTime() + Math.max(delay, 0);
        return next;
    }

    @Override
    public void service(long nowNanos) {
        rtc.service();
    }
}
