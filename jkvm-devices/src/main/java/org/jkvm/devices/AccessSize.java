package org.jkvm.devices;

/** Helpers for guest access sizes in bytes: any {@code int} is accepted, nothing here throws. */
public final class AccessSize {

    private AccessSize() {
    }

    /**
     * The mask of the low {@code size} bytes: {@code 0xFF} for 1, {@code 0xFFFF} for 2, all 64 bits for 8 or more,
     * and 0 for a size of 0 or less.
     */
    public static long mask(int size) {
        if (size <= 0) {
            return 0;
        }
        if (size >= 8) {
            return -1L;
        }
        return (1L << (size * 8)) - 1;
    }
}
