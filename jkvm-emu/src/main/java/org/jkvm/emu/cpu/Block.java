package org.jkvm.emu.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A basic block: the instructions decoded from one run of guest-physical bytes up to a control transfer, a system
 * instruction or the page end, in one decode mode. A block keeps a copy of its bytes and is reused only while guest
 * memory still holds them ({@link #matches}), which catches every way code can change (guest stores, DMA by devices,
 * the loader) at the cost of comparing a few words per block entry.
 */
public final class Block {
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;

    final long pa;
    final int mode;
    final Insn[] insns;
    final int count;
    /** The block's bytes as little-endian words; the last word is masked by {@link #lastMask}. */
    private final long[] words;
    private final long lastMask;
    final int byteLen;

    Block(long pa, int mode, Insn[] insns, int count, byte[] bytes, int byteLen) {
        this.pa = pa;
        this.mode = mode;
        this.insns = insns;
        this.count = count;
        this.byteLen = byteLen;
        int nw = (byteLen + 7) >>> 3;
        words = new long[nw];
        for (int i = 0; i < byteLen; i++) {
            words[i >>> 3] |= (bytes[i] & 0xffL) << (8 * (i & 7));
        }
        int rem = byteLen & 7;
        lastMask = rem == 0 ? -1L : (1L << (8 * rem)) - 1;
    }

    /** True if the segment still holds this block's bytes at {@code off} (the region is at least byteLen long). */
    boolean matches(MemorySegment seg, long off) {
        int nw = words.length;
        for (int i = 0; i < nw - 1; i++) {
            if (seg.get(LONG, off + 8L * i) != words[i]) {
                return false;
            }
        }
        long last = 8L * (nw - 1);
        long v;
        if (off + last + 8 <= seg.byteSize()) {
            v = seg.get(LONG, off + last);
        } else {
            v = 0;
            for (int k = 0; k < byteLen - last; k++) {
                v |= (seg.get(ValueLayout.JAVA_BYTE, off + last + k) & 0xffL) << (8 * k);
            }
        }
        return (v & lastMask) == words[nw - 1];
    }
}
