package org.jkvm.hypervisor;

/** A segment register's hidden and visible parts: struct kvm_segment. */
public record Segment(long base, int limit, int selector, int type, boolean present, int dpl, boolean db,
                      boolean s, boolean l, boolean g, boolean avl, boolean unusable) {

    /** A flat 4 GiB segment for protected or long mode. */
    public static Segment flat(int selector, int type, boolean code64, boolean db) {
        return new Segment(0, 0xffffffff, selector, type, true, 0, db, true, code64, true, false, false);
    }

    /** A real-mode segment: base = selector * 16, 64 KiB limit, accessed data or code type. */
    public static Segment real(int selector, int type) {
        return new Segment((long) selector << 4, 0xffff, selector, type, true, 0, false, true, false, false, false, false);
    }

    /** The access-rights bits as in a GDT descriptor's bytes 5-6 (type, S, DPL, P, AVL, L, D/B, G). */
    public int accessRights() {
        return type | (s ? 1 << 4 : 0) | (dpl << 5) | (present ? 1 << 7 : 0) | (avl ? 1 << 12 : 0)
                | (l ? 1 << 13 : 0) | (db ? 1 << 14 : 0) | (g ? 1 << 15 : 0);
    }

    /** The 8-byte GDT descriptor for this segment (base and limit truncated to 32 bits, limit in granule units). */
    public long gdtDescriptor() {
        long lim = g ? (Integer.toUnsignedLong(limit) >>> 12) : Integer.toUnsignedLong(limit);
        long b = base & 0xffffffffL;
        int ar = accessRights();
        return (lim & 0xffffL) | ((b & 0xffffffL) << 16) | ((long) (ar & 0xff) << 40)
                | (((lim >>> 16) & 0xfL) << 48) | ((long) ((ar >>> 12) & 0xf) << 52) | (((b >>> 24) & 0xffL) << 56);
    }
}
