package org.jkvm.emu.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.List;

import org.jkvm.memory.MemoryRegion;

/**
 * Linear-to-physical translation and guest-physical access for one vCPU (SDM vol. 3A ch. 4 "Paging"): no paging,
 * 32-bit paging with 4 MiB pages, PAE paging and 4-level paging, with accessed/dirty bits, write protection (CR0.WP),
 * user/supervisor and execute-disable checks, #PF error codes and CR2.
 *
 * <p>A direct-mapped TLB of {@link #TLB_SIZE} entries caches translations. Each entry has three tags (read, write,
 * execute); a tag is the linear page address with bit 0 set for user-mode (CPL 3) accesses, so a permission is cached
 * only after a walk granted it, and a write tag only once the page's dirty bit is set. RAM pages hold the index of
 * their {@link MemoryRegion} and the page's offset in it, so a hit reads the region's host segment directly (still
 * bounds-checked by the segment: a guest can never reach host memory outside RAM). Addresses outside RAM go to the
 * vCPU's {@link org.jkvm.hypervisor.IoHandler} as MMIO.
 */
public final class Mmu {
    public static final int TLB_BITS = 10;
    public static final int TLB_SIZE = 1 << TLB_BITS;
    private static final int TLB_MASK = TLB_SIZE - 1;
    public static final int READ = 0, WRITE = 1, EXEC = 2;

    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final VarHandle INT_ATOMIC = ValueLayout.JAVA_INT.varHandle();
    private static final VarHandle LONG_ATOMIC = ValueLayout.JAVA_LONG.varHandle();

    private MemorySegment[] ram;
    private long[] ramGpa;
    private long[] ramSize;

    private final long[] tagR = new long[TLB_SIZE];
    private final long[] tagW = new long[TLB_SIZE];
    private final long[] tagX = new long[TLB_SIZE];
    private final int[] tlbRegion = new int[TLB_SIZE];
    /** RAM pages: offset of the page in its region's segment; MMIO pages: the physical page address. */
    private final long[] tlbOff = new long[TLB_SIZE];
    private final boolean[] tlbGlobal = new boolean[TLB_SIZE];

    private Cpu c;
    /** The local APIC, whose page is served before the IoHandler; null for none. */
    private InterruptController apic;

    public Mmu(List<MemoryRegion> regions) {
        setRegions(regions);
    }

    /** Makes {@code regions} this vCPU's RAM (Vm.setMemory) and flushes the TLB. */
    public void setRegions(List<MemoryRegion> regions) {
        int n = regions.size();
        ram = new MemorySegment[n];
        ramGpa = new long[n];
        ramSize = new long[n];
        for (int i = 0; i < n; i++) {
            MemoryRegion r = regions.get(i);
            ram[i] = r.host();
            ramGpa[i] = r.gpa();
            ramSize[i] = r.sizeBytes();
        }
        flushAll();
    }

    void attach(Cpu cpu) {
        this.c = cpu;
    }

    /** Routes the local APIC's page (IA32_APIC_BASE) to {@code controller} instead of the IoHandler. */
    public void setInterruptController(InterruptController controller) {
        this.apic = controller;
    }

    // ---- TLB maintenance (SDM vol. 3A 4.10.4) ----

    public void flushAll() {
        if (c != null) {
            c.codeGen++;
        }
        java.util.Arrays.fill(tagR, -1L);
        java.util.Arrays.fill(tagW, -1L);
        java.util.Arrays.fill(tagX, -1L);
    }

    /** A MOV to CR3: flushes all but global translations when CR4.PGE is set. */
    public void flushNonGlobal() {
        c.codeGen++;
        if ((c.cr4 & Cpu.CR4_PGE) == 0) {
            flushAll();
            return;
        }
        for (int i = 0; i < TLB_SIZE; i++) {
            if (!tlbGlobal[i]) {
                tagR[i] = -1;
                tagW[i] = -1;
                tagX[i] = -1;
            }
        }
    }

    /** INVLPG. */
    public void flushPage(long la) {
        c.codeGen++;
        int i = (int) (la >>> 12) & TLB_MASK;
        tagR[i] = -1;
        tagW[i] = -1;
        tagX[i] = -1;
    }

    private long tag(long la, boolean user) {
        return (la & ~0xfffL) | (user ? 1 : 0);
    }

    // ---- Virtual (linear) access ----

    /** Reads {@code size} (1, 2, 4 or 8) bytes at linear {@code la} with the current privilege. */
    public long read(long la, int size) {
        int i = (int) (la >>> 12) & TLB_MASK;
        int po = (int) la & 0xfff;
        if (tagR[i] == tag(la, c.cpl == 3) && po + size <= 0x1000) {
            int reg = tlbRegion[i];
            if (reg >= 0) {
                MemorySegment s = ram[reg];
                long off = tlbOff[i] + po;
                switch (size) {
                    case 1:
                        return s.get(ValueLayout.JAVA_BYTE, off) & 0xffL;
                    case 2:
                        return s.get(SHORT, off) & 0xffffL;
                    case 4:
                        return s.get(INT, off) & 0xffffffffL;
                    default:
                        return s.get(LONG, off);
                }
            }
        }
        return readSlow(la, size, c.cpl == 3, READ);
    }

    /** Writes the low {@code size} bytes of {@code v} at linear {@code la} with the current privilege. */
    public void write(long la, int size, long v) {
        int i = (int) (la >>> 12) & TLB_MASK;
        int po = (int) la & 0xfff;
        if (tagW[i] == tag(la, c.cpl == 3) && po + size <= 0x1000) {
            int reg = tlbRegion[i];
            if (reg >= 0) {
                MemorySegment s = ram[reg];
                long off = tlbOff[i] + po;
                switch (size) {
                    case 1 -> s.set(ValueLayout.JAVA_BYTE, off, (byte) v);
                    case 2 -> s.set(SHORT, off, (short) v);
                    case 4 -> s.set(INT, off, (int) v);
                    default -> s.set(LONG, off, v);
                }
                return;
            }
        }
        writeSlow(la, size, v, c.cpl == 3);
    }

    /** Fetches one instruction byte at linear {@code la} (execute permission). */
    public int fetchByte(long la, boolean user) {
        return (int) physRead(translate(la, EXEC, user), 1);
    }

    /** A supervisor-privilege read (descriptor tables, TSS, IDT: SDM vol. 3A 4.6.1 implicit accesses). */
    public long readSupervisor(long la, int size) {
        return readSlow(la, size, false, READ);
    }

    public void writeSupervisor(long la, int size, long v) {
        writeSlow(la, size, v, false);
    }

    /** Checks that {@code [la, la+size)} is writable now, so a multi-part instruction faults before changing state. */
    public void probeWrite(long la, int size) {
        translate(la, WRITE, c.cpl == 3);
        if (((la & 0xfff) + size) > 0x1000) {
            translate(la + size - 1, WRITE, c.cpl == 3);
        }
    }

    private long readSlow(long la, int size, boolean user, int access) {
        if (((la & 0xfff) + size) > 0x1000) {
            long v = 0;
            for (int k = 0; k < size; k++) {
                v |= readSlow(la + k, 1, user, access) << (8 * k);
            }
            return v;
        }
        long pa = translate(la, access, user);
        return physRead(pa, size);
    }

    private void writeSlow(long la, int size, long v, boolean user) {
        if (((la & 0xfff) + size) > 0x1000) {
            // Translate both pages first so a fault on the second leaves memory unchanged.
            translate(la, WRITE, user);
            translate(la + size - 1, WRITE, user);
            for (int k = 0; k < size; k++) {
                writeSlow(la + k, 1, v >>> (8 * k), user);
            }
            return;
        }
        long pa = translate(la, WRITE, user);
        physWrite(pa, size, v);
    }

    /**
     * Atomically replaces the {@code size}-byte value at {@code la} with {@code update} if it equals {@code expect}
     * (LOCK semantics across vCPU threads, SDM vol. 3A 9.1.2). Returns the value found.
     */
    public long compareAndExchange(long la, int size, long expect, long update) {
        long pa = translate(la, WRITE, c.cpl == 3);
        if (((la & 0xfff) + size) <= 0x1000) {
            int reg = region(pa);
            if (reg >= 0) {
                MemorySegment s = ram[reg];
                long off = pa - ramGpa[reg];
                long m = Flags.mask(size);
                if (size == 8 && (off & 7) == 0) {
                    return (long) LONG_ATOMIC.compareAndExchange(s, off, expect, update);
                }
                long wordOff = off & ~3L;
                if ((off & 3) + size <= 4) {
                    int shift = (int) (off & 3) * 8;
                    while (true) {
                        int cur = (int) INT_ATOMIC.getVolatile(s, wordOff);
                        long found = ((cur & 0xffffffffL) >>> shift) & m;
                        if (found != (expect & m)) {
                            return found;
                        }
                        int next = (int) ((cur & ~(m << shift)) | ((update & m) << shift));
                        if (INT_ATOMIC.compareAndSet(s, wordOff, cur, next)) {
                            return found;
                        }
                    }
                }
                wordOff = off & ~7L;
                if ((off & 7) + size <= 8) {
                    int shift = (int) (off & 7) * 8;
                    while (true) {
                        long cur = (long) LONG_ATOMIC.getVolatile(s, wordOff);
                        long found = (cur >>> shift) & m;
                        if (found != (expect & m)) {
                            return found;
                        }
                        long next = (cur & ~(m << shift)) | ((update & m) << shift);
                        if (LONG_ATOMIC.compareAndSet(s, wordOff, cur, next)) {
                            return found;
                        }
                    }
                }
            }
        }
        // Split or MMIO: serialize on the VM-wide monitor (a "split lock").
        synchronized (c.lockMonitor) {
            long found = read(la, size);
            if (found == (expect & Flags.mask(size))) {
                write(la, size, update);
            }
            return found;
        }
    }

    // ---- Translation (SDM vol. 3A 4.3, 4.4, 4.5) ----

    /**
     * Translates {@code la} for {@code access} at user or supervisor privilege, filling the TLB; throws #PF with
     * CR2 set when the walk fails.
     */
    public long translate(long la, int access, boolean user) {
        int i = (int) (la >>> 12) & TLB_MASK;
        long t = tag(la, user);
        long[] tags = access == READ ? tagR : access == WRITE ? tagW : tagX;
        if (tags[i] == t) {
            long page = tlbRegion[i] >= 0 ? tlbOff[i] + ramGpa[tlbRegion[i]] : tlbOff[i];
            return page | (la & 0xfff);
        }
        long pa;
        boolean writable = true, execOk = true, global = false;
        if ((c.cr0 & Cpu.CR0_PG) == 0) {
            pa = la & ~0xfffL;
        } else {
            long w = walk(la, access, user);
            pa = w & 0x000ffffffffff000L;
            writable = (w & WALK_W) != 0;
            execOk = (w & WALK_X) != 0;
            global = (w & WALK_G) != 0;
        }
        // Cache the permissions this walk proved. A write permission is cached only after the dirty bit was set,
        // which walk() does only for a write access.
        if (tagR[i] != t) {
            tagR[i] = -1;
            tagW[i] = -1;
            tagX[i] = -1;
        }
        int reg = region(pa);
        tlbRegion[i] = reg;
        tlbOff[i] = reg >= 0 ? pa - ramGpa[reg] : pa;
        tlbGlobal[i] = global;
        tagR[i] = t;
        if (writable) {
            tagW[i] = t;
        }
        if (execOk) {
            tagX[i] = t;
        }
        return pa | (la & 0xfff);
    }

    private static final long WALK_W = 1L << 1, WALK_X = 1L << 2, WALK_G = 1L << 3;

    /** Walks the paging structures; returns the page frame with WALK_* permission bits in the low bits. */
    private long walk(long la, int access, boolean user) {
        boolean wp = (c.cr0 & Cpu.CR0_WP) != 0;
        boolean nxe = (c.efer & Cpu.EFER_NXE) != 0;
        boolean allW = true, allU = true, nx = false;
        long frame;
        long pageMask;
        boolean global;
        long entryPa;
        long e;
        if ((c.cr4 & Cpu.CR4_PAE) == 0) {
            // 32-bit paging (SDM 4.3).
            entryPa = (c.cr3 & 0xfffff000L) | ((la >>> 20) & 0xffc);
            e = physRead(entryPa, 4);
            if ((e & 1) == 0) {
                throw pageFault(la, access, user, false);
            }
            allW = (e & 2) != 0;
            allU = (e & 4) != 0;
            setAccessed(entryPa, e, 4);
            if ((e & 0x80) != 0 && (c.cr4 & Cpu.CR4_PSE) != 0) {
                frame = (e & 0xffc00000L) | ((e & 0x1fe000L) << 19);
                pageMask = 0x3fffff;
                return finish(la, access, user, entryPa, e, 4, frame, pageMask, allW, allU, false, wp);
            }
            entryPa = (e & 0xfffff000L) | ((la >>> 10) & 0xffc);
            e = physRead(entryPa, 4);
            if ((e & 1) == 0) {
                throw pageFault(la, access, user, false);
            }
            allW &= (e & 2) != 0;
            allU &= (e & 4) != 0;
            return finish(la, access, user, entryPa, e, 4, e & 0xfffff000L, 0xfff, allW, allU, false, wp);
        }
        int level;
        long table;
        if ((c.efer & Cpu.EFER_LMA) != 0) {
            level = 4;
            table = c.cr3 & 0x000ffffffffff000L;
        } else {
            // PAE: the four PDPTEs (SDM 4.4.1); loaded at walk time rather than at MOV CR3.
            long pdpte = physRead((c.cr3 & 0xffffffe0L) + ((la >>> 30) & 3) * 8, 8);
            if ((pdpte & 1) == 0) {
                throw pageFault(la, access, user, false);
            }
            level = 2;
            table = pdpte & 0x000ffffffffff000L;
        }
        while (true) {
            int shift = 12 + 9 * (level - 1);
            entryPa = table + ((la >>> shift) & 0x1ff) * 8;
            e = physRead(entryPa, 8);
            if ((e & 1) == 0) {
                throw pageFault(la, access, user, false);
            }
            allW &= (e & 2) != 0;
            allU &= (e & 4) != 0;
            nx |= nxe && e < 0;
            if (level == 1 || (level <= 3 && (e & 0x80) != 0)) {
                pageMask = (1L << shift) - 1;
                frame = e & 0x000ffffffffff000L & ~pageMask;
                return finish(la, access, user, entryPa, e, 8, frame, pageMask, allW, allU, nx, wp);
            }
            setAccessed(entryPa, e, 8);
            table = e & 0x000ffffffffff000L;
            level--;
        }
    }

    private long finish(long la, int access, boolean user, long entryPa, long e, int entrySize, long frame,
                        long pageMask, boolean allW, boolean allU, boolean nx, boolean wp) {
        if (user && !allU) {
            throw pageFault(la, access, user, true);
        }
        boolean writable = allW || (!user && !wp);
        if (access == WRITE && !writable) {
            throw pageFault(la, access, user, true);
        }
        if (access == EXEC && nx) {
            throw pageFault(la, access, user, true);
        }
        long ad = 0x20 | (access == WRITE ? 0x40 : 0);
        if ((e & ad) != ad) {
            physWrite(entryPa, entrySize, e | ad);
        }
        boolean global = (e & 0x100) != 0 && (c.cr4 & Cpu.CR4_PGE) != 0;
        long pa = (frame | (la & pageMask)) & ~0xfffL;
        // Only a dirty page may be cached writable: a first write to a clean page walks again.
        boolean cacheW = writable && ((e | ad) & 0x40) != 0;
        return pa | (cacheW ? WALK_W : 0) | (nx ? 0 : WALK_X) | (global ? WALK_G : 0);
    }

    private void setAccessed(long entryPa, long e, int size) {
        if ((e & 0x20) == 0) {
            physWrite(entryPa, size, e | 0x20);
        }
    }

    private CpuFault pageFault(long la, int access, boolean user, boolean present) {
        c.cr2 = la;
        int err = (present ? 1 : 0) | (access == WRITE ? 2 : 0) | (user ? 4 : 0)
                | (access == EXEC && (c.efer & Cpu.EFER_NXE) != 0 ? 16 : 0);
        return c.fault(CpuFault.PF, err);
    }

    // ---- Physical access ----

    /** The RAM region holding {@code pa}, or -1 for MMIO. */
    public int region(long pa) {
        for (int k = 0; k < ram.length; k++) {
            if (pa - ramGpa[k] >= 0 && pa - ramGpa[k] < ramSize[k]) {
                return k;
            }
        }
        return -1;
    }

    public MemorySegment regionSegment(int reg) {
        return ram[reg];
    }

    public long regionSize(int reg) {
        return ramSize[reg];
    }

    public long regionGpa(int reg) {
        return ramGpa[reg];
    }

    /** Reads guest-physical memory; an access that is not entirely in one RAM region goes to MMIO. */
    public long physRead(long pa, int size) {
        int reg = region(pa);
        if (reg >= 0 && pa - ramGpa[reg] <= ramSize[reg] - size) {
            MemorySegment s = ram[reg];
            long off = pa - ramGpa[reg];
            switch (size) {
                case 1:
                    return s.get(ValueLayout.JAVA_BYTE, off) & 0xffL;
                case 2:
                    return s.get(SHORT, off) & 0xffffL;
                case 4:
                    return s.get(INT, off) & 0xffffffffL;
                default:
                    return s.get(LONG, off);
            }
        }
        InterruptController a = apic;
        long v = a != null && a.claims(pa) ? a.mmioRead(pa, size) : c.io.mmioRead(pa, size);
        return size == 8 ? v : v & Flags.mask(size);
    }

    public void physWrite(long pa, int size, long v) {
        int reg = region(pa);
        if (reg >= 0 && pa - ramGpa[reg] <= ramSize[reg] - size) {
            MemorySegment s = ram[reg];
            long off = pa - ramGpa[reg];
            switch (size) {
                case 1 -> s.set(ValueLayout.JAVA_BYTE, off, (byte) v);
                case 2 -> s.set(SHORT, off, (short) v);
                case 4 -> s.set(INT, off, (int) v);
                default -> s.set(LONG, off, v);
            }
            return;
        }
        InterruptController a = apic;
        if (a != null && a.claims(pa)) {
            a.mmioWrite(pa, size, size == 8 ? v : v & Flags.mask(size));
            return;
        }
        c.io.mmioWrite(pa, size, size == 8 ? v : v & Flags.mask(size));
    }
}
