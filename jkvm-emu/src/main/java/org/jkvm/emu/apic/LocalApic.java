package org.jkvm.emu.apic;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;

import org.jkvm.emu.cpu.Cpu;
import org.jkvm.emu.cpu.CpuFault;
import org.jkvm.emu.cpu.InterruptController;
import org.jkvm.emu.cpu.Interpreter;
import org.jkvm.emu.cpu.Interrupts;
import org.jkvm.hypervisor.ExtIntSource;
import org.jkvm.hypervisor.state.LapicState;

/**
 * One vCPU's local APIC in xAPIC mode (Intel SDM vol. 3A ch. 11 "Advanced Programmable Interrupt Controller"; ch. 10
 * in older editions): the 4 KiB register page at IA32_APIC_BASE (table 11-1), interrupt acceptance into IRR/ISR/TMR
 * with priorities (11.8.3 "Task and processor priorities"), EOI, IPIs through the ICR (11.6), the local vector table
 * and the APIC timer (11.5.4), and INIT / STARTUP handling (8.4, the vCPU's state machine is in
 * {@code org.jkvm.emu.EmuVcpu}).
 *
 * <p>Threads. Register reads and writes, interrupt acknowledge and EOI run on the owning vCPU's thread. Other
 * threads (a vCPU sending an IPI, the timer thread, later the IOAPIC) only call {@link #deliver}, which sets bits
 * with atomic read-modify-writes (IRR, TMR, the error bits) or writes volatile flags (NMI, INIT, SIPI), then raises
 * the interpreter's attention word and unparks the vCPU thread. The owner clears the attention bit before looking
 * at the pending state again, so no event is lost. Fields other threads read (APIC ID, LDR, DFR, SVR, timer LVT)
 * are volatile. Nothing here allocates after construction.
 *
 * <p>TPR is CR8 (SDM 11.8.6.1): bits 7:4 live in {@code Cpu.cr8}, so MOV CR8 and the register page agree.
 */
public final class LocalApic implements InterruptController {
    // Register offsets (SDM vol. 3A table 11-1 "Local APIC Register Address Map").
    public static final int ID = 0x20, VERSION = 0x30, TPR = 0x80, APR = 0x90, PPR = 0xa0, EOI = 0xb0, RRD = 0xc0,
            LDR = 0xd0, DFR = 0xe0, SVR = 0xf0, ISR = 0x100, TMR = 0x180, IRR = 0x200, ESR = 0x280,
            ICR_LO = 0x300, ICR_HI = 0x310, LVT_TIMER = 0x320, LVT_THERMAL = 0x330, LVT_PERF = 0x340,
            LVT_LINT0 = 0x350, LVT_LINT1 = 0x360, LVT_ERROR = 0x370, TIMER_INITIAL = 0x380, TIMER_CURRENT = 0x390,
            TIMER_DIVIDE = 0x3e0;

    /** Version 0x14 (an integrated APIC), max LVT entry 5: timer, thermal, performance, LINT0, LINT1, error. */
    public static final int VERSION_VALUE = 0x00050014;

    // Delivery modes (ICR bits 10:8, LVT bits 10:8; SDM 11.6.1).
    public static final int DM_FIXED = 0, DM_LOWEST = 1, DM_SMI = 2, DM_NMI = 4, DM_INIT = 5, DM_STARTUP = 6,
            DM_EXTINT = 7;

    // Error status bits (SDM 11.5.3).
    public static final int ESR_SEND_ILLEGAL_VECTOR = 1 << 5, ESR_RECEIVE_ILLEGAL_VECTOR = 1 << 6,
            ESR_ILLEGAL_REGISTER = 1 << 7;

    static final int LVT_MASKED = 1 << 16;
    /** The LVT timer's mode field (bits 17-18): 0 one-shot, 1 periodic, 2 TSC-deadline. */
    static final int TIMER_MODE = 3 << 17;
    static final int TIMER_MODE_TSC_DEADLINE = 2 << 17;
    static final int SVR_ENABLE = 1 << 8;
    private static final int LVT_TIMER_PERIODIC = 1 << 17;

    /** {@link #service} result: an INIT is pending; the vCPU leaves the interpreter to take it. */
    public static final int STOP_INIT = 0x100;

    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle ERRORS;

    static {
        try {
            ERRORS = MethodHandles.lookup().findVarHandle(LocalApic.class, "errors", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Cpu cpu;
    private final Interpreter interp;
    /** The initial APIC ID (CPUID leaf 0xB), which is the ID in x2APIC mode. */
    private final int initialId;
    private final ApicBus bus;

    private volatile int id;
    private volatile int ldr;
    private volatile int dfr = 0xffffffff;
    private volatile int svr = 0xff;
    /** TPR bits 3:0 and the CR8 value they were written with (a MOV CR8 clears them: SDM 11.8.6.1). */
    private int tprLow;
    private long tprLowCr8;

    /** 256-bit vectors as four longs; IRR and TMR are written by other threads through {@link #LONGS}. */
    private final long[] irr = new long[4];
    private final long[] tmr = new long[4];
    private final long[] isr = new long[4];

    private volatile int errors;
    private int esr;
    private int icrLo;
    private int icrHi;

    private volatile int lvtTimer = LVT_MASKED, lvtThermal = LVT_MASKED, lvtPerf = LVT_MASKED,
            lvtLint0 = LVT_MASKED, lvtLint1 = LVT_MASKED, lvtError = LVT_MASKED;

    private volatile boolean nmiPending;
    private volatile boolean initPending;
    /** The vector of a STARTUP IPI not yet taken, or -1. */
    private volatile int sipiVector = -1;

    private final ApicTimer timer;
    private volatile Thread thread;
    /** The PIC on LINT0 (bootstrap processor only), or null. */
    private volatile ExtIntSource extInt;

    /** Creates vCPU {@code apicId}'s local APIC in its power-up state and attaches it to the CPU and the bus. */
    public LocalApic(int apicId, Cpu cpu, Interpreter interp, ApicBus bus) {
        this.id = apicId;
        this.initialId = apicId;
        this.cpu = cpu;
        this.interp = interp;
        this.bus = bus;
        this.timer = new ApicTimer(this, bus.timers());
        bus.timers().add(timer);
        cpu.apicBase = 0xfee00000L | (1L << 11) | (apicId == 0 ? 1L << 8 : 0);
        cpu.mmu.setInterruptController(this);
        cpu.apic = this;
        interp.setInterruptController(this);
        bus.add(this);
    }

    // ---- Identity, as other APICs match it (any thread) ----

    public int apicId() {
        return x2apic() ? initialId : id;
    }

    /** True in x2APIC mode (IA32_APIC_BASE EXTD): registers are MSRs, IDs are 32 bits. */
    boolean x2apic() {
        return (cpu.apicBase & BASE_X2APIC) != 0;
    }

    /** The logical ID in x2APIC mode (SDM 11.12.10.2): cluster ID[19:4] in bits 31:16, bit ID[3:0] in 15:0. */
    int x2apicLdr() {
        return ((initialId >>> 4) << 16) | (1 << (initialId & 0xf));
    }

    int logicalId() {
        return ldr >>> 24;
    }

    /** DFR model: 0xF flat, 0x0 cluster. */
    int destinationModel() {
        return dfr >>> 28;
    }

    boolean softwareEnabled() {
        return (svr & SVR_ENABLE) != 0;
    }

    /** The thread that runs this vCPU and is unparked when an event arrives. */
    public void bindThread(Thread t) {
        this.thread = t;
    }

    // ---- Acceptance (any thread; SDM 11.6.1, 11.8.3) ----

    /**
     * Accepts an interrupt message for this APIC: from an IPI, the local vector table, or (later) the IOAPIC.
     * {@code deliveryMode} is a {@code DM_*} value; {@code level} is the ICR level bit (an INIT with level 0 and
     * level trigger is the INIT de-assert, which does nothing); {@code levelTriggered} sets the vector's TMR bit so
     * its EOI is broadcast to {@link ApicBus#setEoiListener}. SMI is ignored (no SMM); an ExtINT message is ignored
     * too: the PIC reaches the bootstrap processor through LINT0 ({@link #connectExtInt}).
     */
    public void deliver(int vector, int deliveryMode, boolean level, boolean levelTriggered) {
        switch (deliveryMode) {
            case DM_FIXED, DM_LOWEST -> acceptFixed(vector & 0xff, levelTriggered);
            case DM_NMI -> {
                nmiPending = true;
                notifyCpu();
            }
            case DM_INIT -> {
                if (!level && levelTriggered) {
                    return; // INIT level de-assert (SDM 11.6.1): only synchronizes arbitration IDs
                }
                sipiVector = -1; // a STARTUP sent before this INIT is void
                initPending = true;
                notifyCpu();
            }
            case DM_STARTUP -> {
                sipiVector = vector & 0xff;
                notifyCpu();
            }
            default -> { }
        }
    }

    private void acceptFixed(int vector, boolean levelTriggered) {
        if (!softwareEnabled()) {
            return; // a software-disabled APIC takes only NMI, INIT and STARTUP (SDM 11.4.7.2; as KVM)
        }
        if (vector < 16) {
            error(ESR_RECEIVE_ILLEGAL_VECTOR);
            return;
        }
        int w = vector >>> 6;
        long bit = 1L << vector;
        if (levelTriggered) {
            LONGS.getAndBitwiseOr(tmr, w, bit);
        } else {
            LONGS.getAndBitwiseAnd(tmr, w, ~bit);
        }
        LONGS.getAndBitwiseOr(irr, w, bit);
        notifyCpu();
    }

    private void notifyCpu() {
        interp.signal(Interpreter.ATTN_INTERRUPT);
        wake();
    }

    /** Unparks the vCPU thread if it sleeps in HLT or wait-for-SIPI (any thread). */
    public void wake() {
        Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    /** Records an error and raises the LVT error interrupt (SDM 11.5.3). */
    private void error(int bits) {
        ERRORS.getAndBitwiseOr(this, bits);
        deliverLvt(lvtError, false);
    }

    /** A local interrupt source through its LVT entry: fixed, NMI or INIT; masked entries deliver nothing. */
    void deliverLvt(int lvt, boolean levelTriggered) {
        if ((lvt & LVT_MASKED) != 0) {
            return;
        }
        int mode = (lvt >>> 8) & 7;
        if (mode == DM_FIXED || mode == DM_NMI || mode == DM_INIT) {
            deliver(lvt & 0xff, mode, true, levelTriggered && mode == DM_FIXED);
        }
    }

    /**
     * Drives local interrupt pin LINT0 or LINT1 ({@code pin} 0 or 1) per its LVT entry: a fixed vector (with the
     * entry's trigger mode) or an NMI. In ExtINT mode the PIC's INTR is sampled instead ({@link #connectExtInt}).
     */
    public void lint(int pin) {
        int lvt = pin == 0 ? lvtLint0 : lvtLint1;
        deliverLvt(lvt, (lvt & (1 << 15)) != 0);
    }

    /** The timer's LVT entry (read by the timer thread). */
    /** The vCPU's TSC offset from host nanoseconds (read on the vCPU thread, which alone changes it). */
    long tscOffset() {
        return cpu.tscOffset;
    }

    int lvtTimer() {
        return lvtTimer;
    }

    // ---- Owner thread: pending state, priorities, acknowledge, EOI ----

    /**
     * True while an NMI, an INIT, a fixed interrupt or an ExtINT request waits (a halted CPU's wake condition uses
     * this).
     */
    public boolean anyPending() {
        return nmiPending || initPending || irrNonEmpty() || extIntReady();
    }

    /** A maskable interrupt would be taken now with IF = 1: a deliverable fixed vector, or the PIC's on LINT0. */
    public boolean maskableInterruptReady() {
        return deliverableVector() >= 0 || extIntReady();
    }

    /** Wires the PIC's INTR to this APIC's LINT0 (the bootstrap processor's; null disconnects it). */
    public void connectExtInt(ExtIntSource pic) {
        extInt = pic;
    }

    /** The PIC raised INTR (any thread): look at it at the next instruction boundary, or wake from HLT. */
    public void extIntRaised() {
        notifyCpu();
    }

    /**
     * Whether the PIC's INTR reaches the CPU: LINT0 is unmasked ExtINT, or the APIC is globally disabled (then the
     * PIC is wired straight to the CPU, SDM 11.4.3), and INTR is asserted.
     */
    private boolean extIntReady() {
        ExtIntSource pic = extInt;
        if (pic == null) {
            return false;
        }
        boolean globallyDisabled = (cpu.apicBase & (1L << 11)) == 0;
        boolean virtualWire = (lvtLint0 & LVT_MASKED) == 0 && ((lvtLint0 >>> 8) & 7) == DM_EXTINT;
        return (globallyDisabled || virtualWire) && pic.interruptRequested();
    }

    public boolean initPending() {
        return initPending;
    }

    public boolean nmiPending() {
        return nmiPending;
    }

    /** Takes a pending INIT: true if there was one. */
    public boolean takeInit() {
        if (!initPending) {
            return false;
        }
        initPending = false;
        return true;
    }

    /** Takes a pending STARTUP vector, or -1. */
    public int takeSipi() {
        int v = sipiVector;
        if (v >= 0) {
            sipiVector = -1;
        }
        return v;
    }

    private boolean irrNonEmpty() {
        for (int w = 0; w < 4; w++) {
            if ((long) LONGS.getVolatile(irr, w) != 0) {
                return true;
            }
        }
        return false;
    }

    private static int highest(long[] bits, boolean vol) {
        for (int w = 3; w >= 0; w--) {
            long v = vol ? (long) LONGS.getVolatile(bits, w) : bits[w];
            if (v != 0) {
                return w * 64 + 63 - Long.numberOfLeadingZeros(v);
            }
        }
        return -1;
    }

    int tpr() {
        long cr8 = cpu.cr8 & 0xf;
        return (int) (cr8 << 4) | (cr8 == tprLowCr8 ? tprLow : 0);
    }

    /** Processor priority (SDM 11.8.3.1): TPR, or the class of the highest in-service vector if that is higher. */
    int ppr() {
        int tpr = tpr();
        int isrv = highest(isr, false);
        return isrv >= 0 && (isrv & 0xf0) > (tpr & 0xf0) ? isrv & 0xf0 : tpr;
    }

    /** The highest IRR vector whose class is above the processor priority, or -1. */
    public int deliverableVector() {
        int v = highest(irr, true);
        return v >= 0 && (v & 0xf0) > (ppr() & 0xf0) ? v : -1;
    }

    /** INTA: moves the highest deliverable vector from IRR to ISR and returns it, or -1 (SDM 11.8.4). */
    int acknowledge() {
        int v = deliverableVector();
        if (v < 0) {
            return -1;
        }
        LONGS.getAndBitwiseAnd(irr, v >>> 6, ~(1L << v));
        isr[v >>> 6] |= 1L << v;
        return v;
    }

    private void eoi() {
        int v = highest(isr, false);
        if (v < 0) {
            return;
        }
        isr[v >>> 6] &= ~(1L << v);
        if (((long) LONGS.getVolatile(tmr, v >>> 6) & (1L << v)) != 0) {
            bus.eoi(v); // level-triggered: the IOAPIC may re-raise the line (SDM 11.8.5)
        }
        if (irrNonEmpty()) {
            interp.signal(Interpreter.ATTN_INTERRUPT); // a lower-priority vector may be deliverable now
        }
    }

    @Override
    public int service(Cpu c) {
        if (initPending) {
            return STOP_INIT;
        }
        if (nmiPending || ((c.rflagsRest & Cpu.IF) != 0 && (irrNonEmpty() || extIntReady()))) {
            if (c.interruptShadow) {
                // After STI, MOV SS or POP SS: the shadowed instruction ran in the block just finished (or runs
                // in the next one); deliver at the next boundary.
                c.interruptShadow = false;
                return 0;
            }
            if (nmiPending) {
                nmiPending = false;
                Interrupts.deliver(c, 2, false, 0, false);
            } else {
                int v = acknowledge();
                if (v < 0 && extIntReady()) {
                    v = extInt.acknowledge(); // the APIC's own requests first, then the PIC's (as QEMU)
                }
                if (v >= 0) {
                    Interrupts.deliver(c, v, false, 0, false);
                }
            }
        }
        if (!anyPending()) {
            interp.clear(Interpreter.ATTN_INTERRUPT);
            if (anyPending()) {
                interp.signal(Interpreter.ATTN_INTERRUPT);
            }
        }
        return 0;
    }

    /** INIT (SDM 11.4.7.3): every register to its power-up value except the APIC ID; nothing stays pending. */
    public void resetForInit() {
        timer.stop();
        ldr = 0; // in x2APIC mode, which INIT keeps, the LDR is derived from the ID (x2apicLdr)
        dfr = 0xffffffff;
        svr = 0xff;
        cpu.cr8 = 0;
        tprLow = 0;
        for (int w = 0; w < 4; w++) {
            LONGS.setVolatile(irr, w, 0L);
            LONGS.setVolatile(tmr, w, 0L);
            isr[w] = 0;
        }
        errors = 0;
        esr = 0;
        icrLo = 0;
        icrHi = 0;
        lvtTimer = LVT_MASKED;
        lvtThermal = LVT_MASKED;
        lvtPerf = LVT_MASKED;
        lvtLint0 = LVT_MASKED;
        lvtLint1 = LVT_MASKED;
        lvtError = LVT_MASKED;
        nmiPending = false;
    }

    @Override
    public long tscDeadline() {
        return timer.tscDeadline();
    }

    @Override
    public void setTscDeadline(long tsc) {
        timer.setTscDeadline(tsc);
    }

    /** LINT0 as ExtINT and LINT1 as NMI, as firmware programs them (and as jkvm's KVM backend does). */
    public void programLintAsFirmware() {
        lvtLint0 = DM_EXTINT << 8;
        lvtLint1 = DM_NMI << 8;
    }

    // ---- Snapshot state (only while the vCPU is stopped) ----

    /**
     * The register page in KVM_GET_LAPIC's form ({@link LapicState}), the timer's current count as of now. Pending
     * NMI, INIT and STARTUP live in the vCPU's events, not here.
     */
    public LapicState saveState() {
        byte[] page = new byte[LapicState.SIZE];
        LapicState.put(page, ID, id << 24);
        LapicState.put(page, VERSION, VERSION_VALUE);
        LapicState.put(page, TPR, tpr());
        LapicState.put(page, PPR, ppr());
        LapicState.put(page, LDR, ldr);
        LapicState.put(page, DFR, dfr);
        LapicState.put(page, SVR, svr);
        for (int n = 0; n < 8; n++) {
            LapicState.put(page, ISR + n * 16, word(isr, n, false));
            LapicState.put(page, TMR + n * 16, word(tmr, n, true));
            LapicState.put(page, IRR + n * 16, word(irr, n, true));
        }
        LapicState.put(page, ESR, esr);
        LapicState.put(page, ICR_LO, icrLo);
        LapicState.put(page, ICR_HI, icrHi);
        LapicState.put(page, LVT_TIMER, lvtTimer);
        LapicState.put(page, LVT_THERMAL, lvtThermal);
        LapicState.put(page, LVT_PERF, lvtPerf);
        LapicState.put(page, LVT_LINT0, lvtLint0);
        LapicState.put(page, LVT_LINT1, lvtLint1);
        LapicState.put(page, LVT_ERROR, lvtError);
        LapicState.put(page, TIMER_INITIAL, timer.initialCount());
        LapicState.put(page, TIMER_CURRENT, timer.currentCount());
        LapicState.put(page, TIMER_DIVIDE, timer.divideConfig());
        return new LapicState(page);
    }

    /**
     * Loads a saved register page (untrusted: reserved bits are masked as the guest's own writes would be) and
     * restarts the timer with the saved remaining count. IA32_APIC_BASE (sregs) must be set first; a TSC-deadline
     * timer is re-armed by the IA32_TSC_DEADLINE MSR afterwards.
     */
    public void restoreState(LapicState s) {
        id = s.reg(ID) >>> 24;
        int tpr = s.reg(TPR) & 0xff;
        cpu.cr8 = tpr >>> 4;
        tprLow = tpr & 0xf;
        tprLowCr8 = cpu.cr8;
        ldr = s.reg(LDR) & 0xff000000;
        dfr = s.reg(DFR) | 0x0fffffff;
        svr = s.reg(SVR) & 0x3ff;
        for (int w = 0; w < 4; w++) {
            long lo = 0xffffffffL;
            isr[w] = (s.reg(ISR + 32 * w) & lo) | (long) s.reg(ISR + 32 * w + 16) << 32;
            LONGS.setVolatile(tmr, w, (s.reg(TMR + 32 * w) & lo) | (long) s.reg(TMR + 32 * w + 16) << 32);
            LONGS.setVolatile(irr, w, (s.reg(IRR + 32 * w) & lo) | (long) s.reg(IRR + 32 * w + 16) << 32);
        }
        errors = 0;
        esr = s.reg(ESR) & 0xef;
        icrLo = s.reg(ICR_LO) & 0x000ccfff;
        icrHi = s.reg(ICR_HI) & 0xff000000;
        lvtTimer = s.reg(LVT_TIMER) & (0x700ff | LVT_MASKED);
        lvtThermal = s.reg(LVT_THERMAL) & (0x107ff | LVT_MASKED);
        lvtPerf = s.reg(LVT_PERF) & (0x107ff | LVT_MASKED);
        lvtLint0 = s.reg(LVT_LINT0) & (0x1a7ff | LVT_MASKED);
        lvtLint1 = s.reg(LVT_LINT1) & (0x1a7ff | LVT_MASKED);
        lvtError = s.reg(LVT_ERROR) & (0x100ff | LVT_MASKED);
        boolean deadlineMode = (lvtTimer & TIMER_MODE) == TIMER_MODE_TSC_DEADLINE;
        timer.restore(deadlineMode ? 0 : s.reg(TIMER_INITIAL), s.reg(TIMER_DIVIDE) & 0xb,
                deadlineMode ? 0 : s.reg(TIMER_CURRENT));
        if (irrNonEmpty()) {
            interp.signal(Interpreter.ATTN_INTERRUPT);
        }
    }

    /** NMI, INIT and STARTUP waiting to be taken, for the vCPU's events. */
    public boolean nmiPendingState() {
        return nmiPending;
    }

    /** The pending STARTUP vector, or -1. */
    public int sipiVectorState() {
        return sipiVector;
    }

    /** Restores the NMI and STARTUP latches (a STARTUP vector of -1: none). */
    public void restoreLatches(boolean nmi, int startupVector) {
        nmiPending = nmi;
        initPending = false;
        sipiVector = startupVector;
        if (nmi) {
            interp.signal(Interpreter.ATTN_INTERRUPT);
        }
    }

    // ---- The register page (owner thread) ----

    @Override
    public boolean claims(long pa) {
        long base = cpu.apicBase;
        // In x2APIC mode the page is not decoded (SDM 11.12.1.2): the access reaches memory.
        return (base & (BASE_ENABLE | BASE_X2APIC)) == BASE_ENABLE && (pa & ~0xfffL) == (base & 0xffffff000L);
    }

    @Override
    public long mmioRead(long pa, int size) {
        int off = (int) pa & 0xfff;
        int reg = off & ~0xf;
        int v = read(reg);
        // Registers are 32 bits at 16-byte strides; narrower reads see the addressed bytes (SDM 11.4.1).
        int shift = (off & 3) * 8;
        if ((off & 0xf) >= 4) {
            return 0;
        }
        long r = (v & 0xffffffffL) >>> shift;
        return size >= 4 ? r : r & ((1L << (size * 8)) - 1);
    }

    @Override
    public void mmioWrite(long pa, int size, long value) {
        int off = (int) pa & 0xfff;
        if ((off & 0xf) != 0 || size < 4) {
            return; // only aligned 32-bit stores reach a register (SDM 11.4.1); KVM ignores the rest too
        }
        write(off, (int) value);
    }

    /** Reads register {@code reg} (a 16-byte aligned offset). */
    public int read(int reg) {
        return switch (reg) {
            case ID -> id << 24;
            case VERSION -> VERSION_VALUE;
            case TPR -> tpr();
            case APR -> 0;
            case PPR -> ppr();
            case EOI, RRD -> 0;
            case LDR -> ldr;
            case DFR -> dfr;
            case SVR -> svr;
            case ESR -> esr;
            case ICR_LO -> icrLo;
            case ICR_HI -> icrHi;
            case LVT_TIMER -> lvtTimer;
            case LVT_THERMAL -> lvtThermal;
            case LVT_PERF -> lvtPerf;
            case LVT_LINT0 -> lvtLint0;
            case LVT_LINT1 -> lvtLint1;
            case LVT_ERROR -> lvtError;
            case TIMER_INITIAL -> timer.initialCount();
            case TIMER_CURRENT -> timer.currentCount();
            case TIMER_DIVIDE -> timer.divideConfig();
            default -> {
                if (reg >= ISR && reg < ISR + 0x80) {
                    yield word(isr, (reg - ISR) >>> 4, false);
                }
                if (reg >= TMR && reg < TMR + 0x80) {
                    yield word(tmr, (reg - TMR) >>> 4, true);
                }
                if (reg >= IRR && reg < IRR + 0x80) {
                    yield word(irr, (reg - IRR) >>> 4, true);
                }
                error(ESR_ILLEGAL_REGISTER);
                yield 0;
            }
        };
    }

    /** The {@code n}th 32-bit word (vectors 32n..32n+31) of a 256-bit register. */
    private static int word(long[] bits, int n, boolean vol) {
        long v = vol ? (long) LONGS.getVolatile(bits, n >>> 1) : bits[n >>> 1];
        return (int) (v >>> ((n & 1) * 32));
    }

    /** Writes register {@code reg}; read-only registers ignore the write. */
    public void write(int reg, int v) {
        switch (reg) {
            case ID -> id = v >>> 24;
            case TPR -> {
                cpu.cr8 = (v >>> 4) & 0xf;
                tprLow = v & 0xf;
                tprLowCr8 = cpu.cr8;
                if (irrNonEmpty()) {
                    interp.signal(Interpreter.ATTN_INTERRUPT);
                }
            }
            case EOI -> eoi();
            case LDR -> ldr = v & 0xff000000;
            case DFR -> dfr = v | 0x0fffffff;
            case SVR -> {
                svr = v & 0x3ff; // vector, APIC software enable, focus processor checking
                if ((v & SVR_ENABLE) == 0) {
                    maskAllLvt(); // SDM 11.4.7.2: software disable sets every LVT mask bit
                }
            }
            case ESR -> {
                esr = (int) ERRORS.getAndSet(this, 0);
            }
            case ICR_LO -> {
                icrLo = v & 0x000ccfff; // delivery status (bit 12) always reads idle: delivery is synchronous
                sendIpi();
            }
            case ICR_HI -> icrHi = v & 0xff000000;
            case LVT_TIMER -> {
                int old = lvtTimer;
                lvtTimer = lvt(v, 0x700ff); // modes: one-shot, periodic, TSC-deadline
                timer.lvtChanged(((old ^ lvtTimer) & TIMER_MODE) != 0);
            }
            case LVT_THERMAL -> lvtThermal = lvt(v, 0x107ff);
            case LVT_PERF -> lvtPerf = lvt(v, 0x107ff);
            case LVT_LINT0 -> lvtLint0 = lvt(v, 0x1a7ff);
            case LVT_LINT1 -> lvtLint1 = lvt(v, 0x1a7ff);
            case LVT_ERROR -> lvtError = lvt(v, 0x100ff);
            case TIMER_INITIAL -> {
                if ((lvtTimer & TIMER_MODE) != TIMER_MODE_TSC_DEADLINE) {
                    timer.setInitialCount(v); // ignored in TSC-deadline mode (SDM 11.5.4.1)
                }
            }
            case TIMER_DIVIDE -> timer.setDivideConfig(v & 0xb);
            case VERSION, APR, PPR, RRD, TIMER_CURRENT -> { }
            default -> {
                if (reg < ISR || reg >= IRR + 0x80) {
                    error(ESR_ILLEGAL_REGISTER);
                }
            }
        }
    }

    /** An LVT value with the writable {@code mask}; masked while the APIC is software-disabled. */
    private int lvt(int v, int mask) {
        int r = v & mask;
        return softwareEnabled() ? r : r | LVT_MASKED;
    }

    private void maskAllLvt() {
        lvtTimer |= LVT_MASKED;
        lvtThermal |= LVT_MASKED;
        lvtPerf |= LVT_MASKED;
        lvtLint0 |= LVT_MASKED;
        lvtLint1 |= LVT_MASKED;
        lvtError |= LVT_MASKED;
    }

    private void sendIpi() {
        int mode = (icrLo >>> 8) & 7;
        int vector = icrLo & 0xff;
        if ((mode == DM_FIXED || mode == DM_LOWEST) && vector < 16) {
            error(ESR_SEND_ILLEGAL_VECTOR);
            return;
        }
        bus.sendIpi(this, icrLo, icrHi >>> 24, false);
    }

    // ---- IA32_APIC_BASE and x2APIC mode (SDM 11.4.4, 11.12; owner thread) ----

    public static final long BASE_BSP = 1L << 8, BASE_X2APIC = 1L << 10, BASE_ENABLE = 1L << 11;
    /** IA32_APIC_BASE bits 0-7 and 9, and those above the 40 physical address bits, are reserved. */
    private static final long BASE_RESERVED = ~((1L << 40) - 1) | 0x2ffL;
    /** The x2APIC MSR range (SDM table 11-6): MSR 0x800 + (xAPIC offset >> 4). */
    public static final int X2APIC_MSR_FIRST = 0x800, X2APIC_MSR_LAST = 0x8ff;
    private static final int SELF_IPI = 0x3f0;

    /**
     * WRMSR IA32_APIC_BASE: #GP(0) for reserved bits and for the transitions the SDM forbids (figure 11-27:
     * EXTD without EN, x2APIC to xAPIC, disabled to x2APIC). Disabling the APIC returns it to its power-up
     * register state (11.4.3), so it comes back in xAPIC mode with its initial ID.
     */
    @Override
    public void writeApicBase(long v) {
        long old = cpu.apicBase;
        boolean en = (v & BASE_ENABLE) != 0;
        boolean x2 = (v & BASE_X2APIC) != 0;
        boolean wasEn = (old & BASE_ENABLE) != 0;
        boolean wasX2 = (old & BASE_X2APIC) != 0;
        if ((v & BASE_RESERVED) != 0 || (x2 && !en) || (wasX2 && en && !x2) || (!wasEn && x2)) {
            throw cpu.fault(CpuFault.GP, 0);
        }
        cpu.apicBase = v;
        if (wasEn && !en) {
            resetForInit();
            id = initialId;
        }
    }

    /** RDMSR of an x2APIC register: #GP(0) outside x2APIC mode, for write-only and for absent registers. */
    @Override
    public long x2apicRead(int msr) {
        int reg = x2apicRegister(msr);
        return switch (reg) {
            case ID -> initialId & 0xffffffffL;
            case LDR -> x2apicLdr() & 0xffffffffL;
            case ICR_LO -> (icrLo & 0xffffffffL) | ((long) icrHi << 32);
            case EOI, SELF_IPI -> throw cpu.fault(CpuFault.GP, 0);
            default -> read(reg) & 0xffffffffL;
        };
    }

    /**
     * WRMSR of an x2APIC register: #GP(0) outside x2APIC mode, for read-only and absent registers, for bits 63:32
     * set (except in the ICR) and for a non-zero EOI or ESR write (SDM 11.12.1.2, 11.12.9).
     */
    @Override
    public void x2apicWrite(int msr, long v) {
        int reg = x2apicRegister(msr);
        if (reg != ICR_LO && (v >>> 32) != 0) {
            throw cpu.fault(CpuFault.GP, 0);
        }
        int lo = (int) v;
        switch (reg) {
            case ID, VERSION, PPR, LDR, TIMER_CURRENT -> throw cpu.fault(CpuFault.GP, 0);
            case TPR -> {
                if ((lo & ~0xff) != 0) {
                    throw cpu.fault(CpuFault.GP, 0);
                }
                write(TPR, lo);
            }
            case EOI, ESR -> {
                if (lo != 0) {
                    throw cpu.fault(CpuFault.GP, 0);
                }
                write(reg, 0);
            }
            case ICR_LO -> {
                icrLo = lo & 0x000ccfff;
                icrHi = (int) (v >>> 32);
                int mode = (icrLo >>> 8) & 7;
                int vector = icrLo & 0xff;
                if ((mode == DM_FIXED || mode == DM_LOWEST) && vector < 16) {
                    error(ESR_SEND_ILLEGAL_VECTOR);
                    return;
                }
                bus.sendIpi(this, icrLo, icrHi, true);
            }
            case SELF_IPI -> {
                if ((lo & ~0xff) != 0) {
                    throw cpu.fault(CpuFault.GP, 0);
                }
                if ((lo & 0xff) < 16) {
                    error(ESR_SEND_ILLEGAL_VECTOR);
                    return;
                }
                deliver(lo & 0xff, DM_FIXED, true, false);
            }
            default -> {
                if (reg >= ISR && reg < IRR + 0x80) {
                    throw cpu.fault(CpuFault.GP, 0); // ISR, TMR, IRR are read-only
                }
                write(reg, lo);
            }
        }
    }

    /** The xAPIC offset of x2APIC MSR {@code msr}; #GP(0) unless in x2APIC mode and the register exists. */
    private int x2apicRegister(int msr) {
        if (!x2apic() || msr < X2APIC_MSR_FIRST || msr > X2APIC_MSR_LAST) {
            throw cpu.fault(CpuFault.GP, 0);
        }
        int reg = (msr - X2APIC_MSR_FIRST) << 4;
        boolean exists = switch (reg) {
            case ID, VERSION, TPR, PPR, EOI, LDR, SVR, ESR, ICR_LO, LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0,
                 LVT_LINT1, LVT_ERROR, TIMER_INITIAL, TIMER_CURRENT, TIMER_DIVIDE, SELF_IPI -> true;
            default -> reg >= ISR && reg < IRR + 0x80;
        };
        if (!exists) {
            throw cpu.fault(CpuFault.GP, 0); // APR, RRD, DFR, ICR high and the reserved offsets are gone (table 11-6)
        }
        return reg;
    }
}
