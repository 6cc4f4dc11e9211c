package org.jkvm.devices.timer;

/**
 * The HPET ({@link Hpet}): general configuration and interrupt status, the main counter's value, and per timer
 * its configuration, comparator and period (periodic mode).
 */
public record HpetState(long config, int status, long counter, long[] timerConfig, long[] comparator,
                        long[] period) {
    public HpetState {
        if (timerConfig == null || comparator == null || period == null || timerConfig.length != Hpet.TIMERS
                || comparator.length != Hpet.TIMERS || period.length != Hpet.TIMERS) {
            throw new IllegalArgumentException("the HPET has " + Hpet.TIMERS + " timers");
        }
        timerConfig = timerConfig.clone();
        comparator = comparator.clone();
        period = period.clone();
    }

    @Override
    public long[] timerConfig() {
        return timerConfig.clone();
    }

    @Override
    public long[] comparator() {
        return comparator.clone();
    }

    @Override
    public long[] period() {
        return period.clone();
    }
}
