package org.jkvm.devices.legacy;

/**
 * The CMOS RTC ({@link CmosRtc}): the 128 bytes of CMOS (time registers are computed, not stored), the index
 * register and NMI mask, and the guest clock's offset from the host's wall clock in milliseconds (so the guest's
 * RTC goes on telling the same time zone and any time the guest set, across a restore).
 */
public record RtcState(byte[] cmos, int index, boolean nmiMasked, long offsetMillis) {
    public RtcState {
        if (cmos == null || cmos.length != 128 || index < 0 || index > 0x7f) {
            throw new IllegalArgumentException("CMOS is 128 bytes, index 0..127");
        }
        cmos = cmos.clone();
    }

    @Override
    public byte[] cmos() {
        return cmos.clone();
    }
}
