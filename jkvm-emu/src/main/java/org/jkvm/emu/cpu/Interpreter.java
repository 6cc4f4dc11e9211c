package org.jkvm.emu.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The execution loop of one vCPU: finds the basic block at the current RIP (decoding it on a miss), runs its
 * instructions, delivers exceptions they raise, and stops on HLT, shutdown, internal errors or a kick checked between
 * blocks. Blocks are cached by guest-physical address and decode mode in a direct-mapped table of
 * {@link #CACHE_SIZE} entries; see {@link Block} for how stale code is detected.
 *
 * <p>Between blocks the loop reads one volatile word, {@link #attention}: a kick, or an event for the vCPU's
 * {@link InterruptController} (an interrupt, NMI or INIT from another thread), which is then serviced at that
 * instruction boundary. Other threads only ever set bits in it; the vCPU thread clears them.
 */
public final class Interpreter {
    public static final int CACHE_SIZE = 1 << 14;
    static final int MAX_INSNS = 48;
    private static final int MAX_BYTES = 1024;

    private final Cpu c;
    private final Block[] cache = new Block[CACHE_SIZE];
    private final byte[] code = new byte[MAX_BYTES + 16];
    private final Insn[] scratch = new Insn[MAX_INSNS];
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
        java.util.Arrays.fill(cache, null);
    }

    /**
     * Runs until something stops the CPU; returns the {@code Cpu.STOP_*} reason, or 0 when kicked.
     */
    public int run() {
        c.stop = 0;
        while (true) {
            if (attention != 0) {
                if (takeKick()) {
                    return 0;
                }
                int s = serviceInterrupts();
                if (s != 0) {
                    return s;
                }
            }
            try {
                Block b = block();
                if (b != null) {
                    execute(b);
                }
            } catch (CpuFault f) {
                c.rip = c.insnRip;
                Interrupts.raise(c, f.vector, f.hasErrorCode, f.errorCode);
            } catch (RuntimeException e) {
                // A bug in the emulator must not take down the VMM: report it as an internal error.
                c.internalError("emulator error " + e);
            }
            int s = c.stop;
            if (s != 0) {
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

    private void execute(Block b) {
        Insn[] insns = b.insns;
        int n = b.count;
        Cpu c = this.c;
        int k = 0;
        try {
            for (; k < n; k++) {
                Insn d = insns[k];
                long rip = c.rip;
                c.insnRip = rip;
                long next = rip + d.len;
                c.rip = c.mode == Cpu.MODE64 ? next : c.mode == Cpu.MODE32 ? next & 0xffffffffL : next & 0xffff;
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
        c.insnRip = c.rip;
        long la = c.linear(Cpu.CS, c.rip);
        long pa = c.mmu.translate(la, Mmu.EXEC, c.cpl == 3);
        int reg = c.mmu.region(pa);
        if (reg < 0) {
            c.internalError("instruction fetch from non-RAM guest-physical 0x" + Long.toHexString(pa));
            return null;
        }
        MemorySegment seg = c.mmu.regionSegment(reg);
        long off = pa - c.mmu.regionGpa(reg);
        int idx = (int) ((pa ^ (pa >>> 14)) & (CACHE_SIZE - 1));
        Block b = cache[idx];
        int mode = c.mode;
        if (b != null && b.pa == pa && b.mode == mode && b.matches(seg, off)) {
            return b;
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
        b = new Block(pa, mode, insns, n, code, pos);
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
                return new Block(-1, mode, new Insn[] {d}, 1, buf, 0);
            }
        }
        Insn d = new Insn();
        Decoder.decode(buf, 0, 15, mode, d);
        return new Block(-1, mode, new Insn[] {d}, 1, buf, 0);
    }
}
