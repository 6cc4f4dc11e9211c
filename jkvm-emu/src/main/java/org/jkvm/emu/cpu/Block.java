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
    static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;

    final long pa;
    final int mode;
    final Insn[] insns;
    final int count;
    /** The block's bytes as little-endian words; the last word is masked by {@link #lastMask}. */
    final long[] words;
    final long lastMask;
    final int byteLen;
    /** Where the bytes live: the RAM region's host segment and the offset in it (null for an uncached block). */
    final MemorySegment seg;
    final long off;

    /**
     * Chaining: up to two successors seen after this block, each with the RIP it was entered at and the
     * {@link Cpu#codeGen} of the time; a link is used only while the generation is unchanged (no TLB flush, no
     * CS/CR0/EFER change since), and the successor's bytes are still checked on every entry.
     */
    long succRip0 = -1, succRip1 = -1;
    long succGen0, succGen1;
    Block succ0, succ1;
    /** Entries through the interpreter, counted towards translation ({@link Translator}). */
    int hits;
    /** The block translated to JVM bytecode, or null. */
    CompiledBlock compiled;
    /** The offset of the end of each instruction from the block start (for retired counts after a fault). */
    final int[] ends;

    Block(long pa, int mode, Insn[] insns, int count, byte[] bytes, int byteLen, MemorySegment seg, long off) {
        this.pa = pa;
        this.seg = seg;
        this.off = off;
        this.ends = new int[count];
        int e = 0;
        for (int i = 0; i < count; i++) {
            e += insns[i].len;
            ends[i] = e;
        }
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

    /** The successor linked for entry at {@code rip} under generation {@code gen}, or null. */
    Block successor(long rip, long gen) {
        if (rip == succRip0 && gen == succGen0) {
            return succ0;
        }
        if (rip == succRip1 && gen == succGen1) {
            return succ1;
        }
        return null;
    }

    /** Links {@code next} as the successor at {@code rip}, replacing a stale link or the older one. */
    void link(long rip, long gen, Block next) {
        if (succGen0 != gen || succRip0 == rip || succ0 == null) {
            succRip0 = rip;
            succGen0 = gen;
            succ0 = next;
        } else {
            succRip1 = succRip0;
            succGen1 = succGen0;
            succ1 = succ0;
            succRip0 = rip;
            succGen0 = gen;
            succ0 = next;
        }
    }

    /** True if guest memory still holds this block's bytes. */
    boolean valid() {
        return matches(seg, off);
    }

    /** How many instructions completed before the one at {@code rip} (the block was entered at {@code rip0}). */
    int completedBefore(long rip0, long rip) {
        long d = rip - rip0;
        int k = 0;
        while (k < count && (k == 0 ? 0 : ends[k - 1]) < d) {
            k++;
        }
        return k;
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
