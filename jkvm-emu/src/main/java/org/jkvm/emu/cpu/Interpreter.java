package org.jkvm.emu.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The execution loop of one vCPU: finds the basic block at the current RIP (decoding it on a miss), runs its
 * instructions, delivers exceptions they raise, and stops on HLT, shutdown, internal errors or a kick checked between
 * blocks. Blocks are cached by guest-physical address and decode mode in a two-way set-associative table of
 * {@link #CACHE_SIZE} entries; see {@link Block} for how stale code is detected.
 *
 * <p>Between blocks the loop reads one volatile word, {@link #attention}: a kick, or an event for the vCPU's
 * {@link InterruptController} (an interrupt, NMI or INIT from another thread), which is then serviced at that
 * instruction boundary. Other threads only ever set bits in it; the vCPU thread clears them.
 */
public final class Interpreter {
    static final int CACHE_BITS = 16;
    public static final int CACHE_SIZE = 1 << CACHE_BITS;
    /**
     * Interpreted entries after which a block is translated to JVM bytecode ({@link Translator}): system property
     * {@code jkvm.emu.jit}, a count (0 translates every block before its first run) or {@code off}; default
     * {@value #DEFAULT_JIT_THRESHOLD}. -1 when off.
     */
    public static final int JIT_THRESHOLD = jitThreshold(System.getProperty("jkvm.emu.jit"));
    static final int DEFAULT_JIT_THRESHOLD = 1000;

    static int jitThreshold(String p) {
        if (p == null || p.isBlank()) {
            return DEFAULT_JIT_THRESHOLD;
        }
        if (p.equals("off") || p.equals("false")) {
            return -1;
        }
        try {
            return Math.max(0, Integer.parseInt(p.trim()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("jkvm.emu.jit: a count or off, not " + p);
        }
    }
    static final int MAX_INSNS = 48;
    private static final int MAX_BYTES = 1024;

    private final Cpu c;
    private final Block[] cache = new Block[CACHE_SIZE];
    private final byte[] code = new byte[MAX_BYTES + 16];
    private final Insn[] scratch = new Insn[MAX_INSNS];
    /**
     * Blocks by RIP (QEMU's tb_jmp_cache): an entry is used only within the {@link Cpu#codeGen} it was made in (no
     * TLB flush, no CS/CR0/EFER change since), so it skips the TLB and the physical cache for indirect branches
     * and returns, which chaining does not cover. The block's bytes are still compared.
     */
    private static final int JUMP_CACHE_SIZE = 1 << 14;
    private final Block[] jumpCache = new Block[JUMP_CACHE_SIZE];
    private final long[] jumpRip = new long[JUMP_CACHE_SIZE];
    private final long[] jumpGen = new long[JUMP_CACHE_SIZE];
    /** {@link #ATTN_KICK}, {@link #ATTN_INTERRUPT}: set by any thread, cleared by the vCPU thread. */
    private volatile int attention;
    private InterruptController interrupts;

    /** Attention bits: {@link #kick} was called; the interrupt controller has an event to service. */
    public static final int ATTN_KICK = 1, ATTN_INTERRUPT = 2;
    private static final VarHandle ATTENTION;

    static {
        try {
            ATTENTION = MethodHandles.lookup().findVarHandle(Interpreter.class, "attention", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    public Interpreter(Cpu cpu) {
        this.c = cpu;
    }

    /** The controller {@link #run} services between blocks while {@link #ATTN_INTERRUPT} is set. */
    public void setInterruptController(InterruptController controller) {
        this.interrupts = controller;
    }

    /** Asks a running {@link #run} to return promptly; a kick before the run makes it return at once. */
    public void kick() {
        signal(ATTN_KICK);
    }

    /** Sets attention bits (any thread). */
    public void signal(int bits) {
        ATTENTION.getAndBitwiseOr(this, bits);
    }

    /** Clears attention bits (the vCPU thread). */
    public void clear(int bits) {
        ATTENTION.getAndBitwiseAnd(this, ~bits);
    }

    /** The attention bits now. */
    public int attention() {
        return attention;
    }

    /** Consumes a pending kick: true if there was one. */
    public boolean takeKick() {
        if ((attention & ATTN_KICK) == 0) {
            return false;
        }
        clear(ATTN_KICK);
        return true;
    }

    /** Forgets every cached block. */
    public void flushBlocks() {
        c.codeGen++;
        java.util.Arrays.fill(cache, null);
    }

    /**
     * Runs until something stops the CPU; returns the {@code Cpu.STOP_*} reason, or 0 when kicked.
     */
    public int run() {
        c.stop = 0;
        Block prev = null;
        while (true) {
            if (c.interruptShadow) {
                // STI / MOV SS / POP SS end their block, so the shadow covers the next block's first instruction:
                // it is over at the boundary after that block, whether or not an interrupt came meanwhile.
                if (c.shadowBlockStarted) {
                    c.interruptShadow = false;
                    c.shadowBlockStarted = false;
                } else {
                    c.shadowBlockStarted = true;
                }
            }
            if (attention != 0) {
                prev = null;
                if (takeKick()) {
                    return 0;
                }
                int s = serviceInterrupts();
                if (s != 0) {
                    return s;
                }
            }
            try {
                Block b = null;
                if (prev != null) {
                    // Chained: the successor this block had last time, while no TLB flush or mode change came
                    // between; its bytes are still compared (guest stores, DMA).
                    b = prev.successor(c.rip, c.codeGen);
                    if (b != null && !b.valid()) {
                        b = null;
                    }
                }
                if (b == null) {
                    long rip = c.rip;
                    long gen = c.codeGen;
                    b = block();
                    if (b != null && prev != null && b.seg != null) {
                        prev.link(rip, gen, b);
                    }
                }
                prev = b;
                if (b != null) {
                    CompiledBlock cb = b.compiled;
                    if (cb == null && JIT_THRESHOLD >= 0 && b.seg != null && b.hits++ >= JIT_THRESHOLD) {
                        cb = translate(b);
                    }
                    if (cb != null) {
                        long rip0 = c.rip;
                        try {
                            cb.run(c, b, this);
                        } catch (CpuFault f) {
                            c.retired += b.completedBefore(rip0, c.insnRip);
                            throw f;
                        }
                    } else {
                        execute(b);
                    }
                }
            } catch (CpuFault f) {
                prev = null;
                c.rip = c.insnRip;
                Interrupts.raise(c, f.vector, f.hasErrorCode, f.errorCode);
            } catch (RuntimeException e) {
                // A bug in the emulator must not take down the VMM: report it as an internal error.
                prev = null;
                c.internalError("emulator error " + e);
            }
            int s = c.stop;
            if (s != 0) {
                prev = null;
                if (s == Cpu.STOP_YIELD) {
                    c.stop = 0;
                    continue;
                }
                return s;
            }
        }
    }

    /** Lets the interrupt controller act at this instruction boundary; returns a stop reason or 0. */
    private int serviceInterrupts() {
        InterruptController ic = interrupts;
        if (ic == null) {
            clear(ATTN_INTERRUPT);
            return 0;
        }
        try {
            int s = ic.service(c);
            if (s != 0) {
                return s;
            }
        } catch (CpuFault f) {
            // A fault while delivering an external interrupt or NMI is delivered on its own (SDM vol. 3A table
            // 6-4: interrupts are benign); the return address stays the interrupted instruction's.
            Interrupts.raise(c, f.vector, f.hasErrorCode, f.errorCode);
        } catch (RuntimeException e) {
            c.internalError("emulator error " + e);
        }
        int s = c.stop;
        c.stop = s == Cpu.STOP_YIELD ? 0 : s;
        return c.stop;
    }

    /** Translates {@code b} to bytecode; a block that cannot be translated stays interpreted. */
    private CompiledBlock translate(Block b) {
        try {
            b.compiled = Translator.compile(b);
            translated++;
        } catch (RuntimeException | LinkageError e) {
            // A translator bug must not stop the guest: the interpreter runs this block from now on. With a
            // threshold of 0 (the tests' "translate everything") it is an internal error instead, so it is seen.
            b.hits = Integer.MIN_VALUE;
            translateFailures++;
            if (JIT_THRESHOLD == 0) {
                throw new IllegalStateException("translation failed: " + e, e);
            }
        }
        return b.compiled;
    }

    /** Blocks translated to bytecode, and translations that failed (statistics). */
    public long translated, translateFailures;

    private void execute(Block b) {
        Insn[] insns = b.insns;
        int n = b.count;
        Cpu c = this.c;
        int k = 0;
        long ripMask = b.mode == Cpu.MODE64 ? -1L : b.mode == Cpu.MODE32 ? 0xffffffffL : 0xffff;
        try {
            for (; k < n; k++) {
                Insn d = insns[k];
                long rip = c.rip;
                c.insnRip = rip;
                c.rip = (rip + d.len) & ripMask;
                Executor.exec(c, d);
                if (c.stop != 0) {
                    k++;
                    break;
                }
            }
        } finally {
            c.retired += k;
        }
    }

    /** The block at CS:RIP, from the cache or freshly decoded; null when fetching stopped the CPU. */
    private Block block() {
        long rip = c.rip;
        c.insnRip = rip;
        long gen = c.codeGen;
        int h = (int) ((rip * 0x9E3779B97F4A7C15L) >>> (64 - 14));
        Block j = jumpCache[h];
        if (j != null && jumpRip[h] == rip && jumpGen[h] == gen && j.valid()) {
            return j;
        }
        Block b = lookup();
        if (b != null && b.seg != null) {
            jumpCache[h] = b;
            jumpRip[h] = rip;
            jumpGen[h] = gen;
        }
        return b;
    }

    /** The block at CS:RIP through the TLB and the physically keyed cache, decoding it on a miss. */
    private Block lookup() {
        long la = c.linear(Cpu.CS, c.rip);
        long pa = c.mmu.translate(la, Mmu.EXEC, c.cpl == 3);
        int reg = c.mmu.region(pa);
        if (reg < 0) {
            c.internalError("instruction fetch from non-RAM guest-physical 0x" + Long.toHexString(pa));
            return null;
        }
        MemorySegment seg = c.mmu.regionSegment(reg);
        long off = pa - c.mmu.regionGpa(reg);
        // Two-way set associative, most recently used first: a direct-mapped table lost a third of the hot
        // blocks of a Linux boot to conflicts, and with them their translations.
        int idx = (int) ((pa * 0x9E3779B97F4A7C15L) >>> (64 - CACHE_BITS)) & ~1;
        Block b = cache[idx];
        int mode = c.mode;
        if (b != null && b.pa == pa && b.mode == mode && b.valid()) {
            return b;
        }
        Block b1 = cache[idx + 1];
        if (b1 != null && b1.pa == pa && b1.mode == mode && b1.valid()) {
            cache[idx + 1] = b;
            cache[idx] = b1;
            return b1;
        }
        int avail = (int) Math.min(Math.min(0x1000 - (pa & 0xfff), MAX_BYTES), seg.byteSize() - off);
        MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, off, code, 0, avail);
        int pos = 0;
        int n = 0;
        while (n < MAX_INSNS) {
            Insn d = scratch[n];
            if (d == null) {
                d = new Insn();
                scratch[n] = d;
            }
            int len = Decoder.decode(code, pos, avail, mode, d);
            if (len < 0) {
                if (n == 0) {
                    return straddling(la, avail, mode);
                }
                break;
            }
            pos += len;
            n++;
            if (d.ends) {
                break;
            }
        }
        Insn[] insns = new Insn[n];
        for (int i = 0; i < n; i++) {
            insns[i] = scratch[i];
            scratch[i] = null;
        }
        b = new Block(pa, mode, insns, n, code, pos, seg, off);
        Block old = cache[idx];
        if (old == null || old.pa != pa || old.mode != mode) {
            cache[idx + 1] = old; // else way 0 held this block's stale version: way 1 stays
        }
        cache[idx] = b;
        return b;
    }

    /** An instruction that crosses a page boundary: fetched through both translations, never cached. */
    private Block straddling(long la, int avail, int mode) {
        byte[] buf = new byte[16];
        System.arraycopy(code, 0, buf, 0, avail);
        int have = avail;
        while (have < 15) {
            buf[have] = (byte) c.mmu.fetchByte(la + have, c.cpl == 3);
            have++;
            Insn d = new Insn();
            if (Decoder.decode(buf, 0, have, mode, d) >= 0) {
                return new Block(-1, mode, new Insn[] {d}, 1, buf, 0, null, 0);
            }
        }
        Insn d = new Insn();
        Decoder.decode(buf, 0, 15, mode, d);
        return new Block(-1, mode, new Insn[] {d}, 1, buf, 0, null, 0);
    }
}
