package org.jkvm.rng;

import java.lang.foreign.MemorySegment;

/** Where the entropy device's bytes come from: the host kernel's CSPRNG in jkvm, something fixed in tests. */
@FunctionalInterface
public interface EntropySource {
    /**
     * Fills all of {@code dst} (a slice of guest RAM) with random bytes.
     *
     * @throws RuntimeException the host could not supply them; the request completes with no bytes
     */
    void fill(MemorySegment dst);

    /** The host's getrandom(2) (flags 0: the urandom pool, which never blocks once initialized). */
    static EntropySource host() {
        return dst -> {
            long done = 0;
            long len = dst.byteSize();
            while (done < len) {
                done += org.jkvm.sys.Libc.getrandom(dst.asSlice(done), len - done);
            }
        };
    }
}
