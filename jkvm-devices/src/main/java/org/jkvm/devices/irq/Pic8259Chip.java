package org.jkvm.devices.irq;

/**
 * One Intel 8259A (datasheet 231468, "8259A Programmable Interrupt Controller"): the register file and the priority
 * resolver of a single chip. {@link Pic8259} owns two of them (master and slave), holds the one lock they share and
 * does the cascading; this class has no lock and no outputs of its own.
 *
 * <p>Registers: IRR (requests), ISR (in service), IMR (mask), the ELCR bits (PIIX/ICH edge/level control, per input)
 * and the ICW1 LTIM bit (all inputs level-sensitive). Priority is fully nested with rotation: {@code lowest} is the
 * input with the lowest priority, so input {@code (lowest + 1) & 7} has the highest; it is 7 after ICW1.
 */
final class Pic8259Chip {

    // ICW1 and OCW2/OCW3 bits (datasheet figures 7 and 8).
    private static final int ICW1_IC4 = 0x01;
    private static final int ICW1_SNGL = 0x02;
    private static final int ICW1_LTIM = 0x08;
    private static final int ICW4_AEOI = 0x02;
    private static final int ICW4_SFNM = 0x10;
    private static final int OCW3_RIS = 0x01;
    private static final int OCW3_RR = 0x02;
    private static final int OCW3_POLL = 0x04;
    private static final int OCW3_SMM = 0x20;
    private static final int OCW3_ESMM = 0x40;

    /** ELCR bits a chipset lets software set (PIIX: IRQ 0, 1, 2 on the master and 8, 13 on the slave stay edge). */
    private final int elcrMask;
    private final boolean master;
    /**
     * The master's cascade input (IR2) is level-sensitive in this model: its request follows the slave's INT output,
     * so a slave request that stays asserted across an acknowledge (auto-EOI, or a second pending slave input) is not
     * lost waiting for a new edge. 0 on the slave.
     */
    private final int cascadeBit;

    int irr;
    int isr;
    int imr;
    int elcr;
    /** Input pin levels as last driven (the edge detector's memory). */
    int lines;
    int vectorBase;
    int lowest = 7;
    boolean levelTriggeredAll;
    boolean autoEoi;
    boolean rotateOnAutoEoi;
    boolean specialFullyNested;
    boolean specialMask;
    boolean readIsr;
    boolean pollPending;
    /** Initialization state: 0 ready, 2 expects ICW2, 3 ICW3, 4 ICW4. */
    int initStep;
    private boolean expectIcw4;
    private boolean single;
    int icw3;

    Pic8259Chip(boolean master, int elcrMask) {
        this.master = master;
        this.elcrMask = elcrMask;
        this.cascadeBit = master ? 1 << Pic8259.CASCADE : 0;
    }

    /**
     * This chip in KVM's kvm_pic_state form: input levels as last_irr, the highest-priority input as priority_add,
     * the initialization step renumbered (KVM counts ICW2 as 1). LTIM, single mode and ICW3 have no field there and
     * are not kept (PC software uses cascade mode, edge ICW1 and the ELCR).
     */
    org.jkvm.hypervisor.state.PicState save() {
        int init = initStep == 0 ? 0 : initStep - 1;
        return new org.jkvm.hypervisor.state.PicState(lines & 0xff, irr & 0xff, imr & 0xff, isr & 0xff,
                (lowest + 1) & 7, vectorBase & 0xf8, readIsr, pollPending, specialMask, init, autoEoi,
                rotateOnAutoEoi, specialFullyNested, expectIcw4, elcr & elcrMask, elcrMask);
    }

    /** Loads a saved chip (validated by the record; ELCR bits outside this chip's mask are dropped). */
    void restore(org.jkvm.hypervisor.state.PicState s) {
        lines = s.lastIrr();
        irr = s.irr();
        imr = s.imr();
        isr = s.isr();
        lowest = (s.priorityAdd() + 7) & 7;
        vectorBase = s.irqBase();
        readIsr = s.readRegSelect();
        pollPending = s.poll();
        specialMask = s.specialMask();
        initStep = s.initState() == 0 ? 0 : s.initState() + 1;
        autoEoi = s.autoEoi();
        rotateOnAutoEoi = s.rotateOnAutoEoi();
        specialFullyNested = s.specialFullyNestedMode();
        expectIcw4 = s.init4();
        elcr = s.elcr() & elcrMask;
        levelTriggeredAll = false;
        single = false;
        icw3 = master ? 1 << Pic8259.CASCADE : Pic8259.CASCADE;
    }

    /** The inputs that are level-sensitive now (ELCR or ICW1 LTIM). */
    private int levelMask() {
        return (levelTriggeredAll ? 0xFF : elcr) | cascadeBit;
    }

    /** Drives input {@code irq} (0-7) to {@code level}: a rising edge latches IRR; a level input follows its pin. */
    void setInput(int irq, boolean level) {
        int bit = 1 << irq;
        if (level) {
            if ((lines & bit) == 0 || (levelMask() & bit) != 0) {
                irr |= bit;
            }
            lines |= bit;
        } else {
            lines &= ~bit;
            if ((levelMask() & bit) != 0) {
                irr &= ~bit;
            }
        }
    }

    /** The highest-priority input set in {@code bits}, in rotated order, or 8 if none. Returns the priority. */
    private int priority(int bits) {
        if (bits == 0) {
            return 8;
        }
        int p = 0;
        while ((bits & (1 << ((p + lowest + 1) & 7))) == 0) {
            p++;
        }
        return p;
    }

    private int irqOfPriority(int p) {
        return (p + lowest + 1) & 7;
    }

    /**
     * The input the chip would signal on INT now (a request not masked and of higher priority than everything in
     * service), or -1. In special mask mode masked in-service levels do not block; in special fully nested mode the
     * master lets a slave request through while the slave's cascade input is in service.
     */
    int pending() {
        int p = priority(irr & ~imr);
        if (p == 8) {
            return -1;
        }
        int inService = isr;
        if (specialMask) {
            inService &= ~imr;
        }
        if (master && specialFullyNested) {
            inService &= ~(1 << Pic8259.CASCADE);
        }
        return p < priority(inService) ? irqOfPriority(p) : -1;
    }

    /** Interrupt acknowledge for input {@code irq}: sets ISR (unless auto-EOI), clears an edge request. */
    void acknowledge(int irq) {
        int bit = 1 << irq;
        if (autoEoi) {
            if (rotateOnAutoEoi) {
                lowest = irq;
            }
        } else {
            isr |= bit;
        }
        if ((levelMask() & bit) == 0) {
            irr &= ~bit;
        }
    }

    /** A write to the command port (A0 = 0): ICW1, OCW2 or OCW3. */
    void writeCommand(int v) {
        if ((v & 0x10) != 0) {
            icw1(v);
        } else if ((v & 0x08) != 0) {
            ocw3(v);
        } else {
            ocw2(v);
        }
    }

    /** A write to the data port (A0 = 1): ICW2-4 during initialization, OCW1 (IMR) otherwise. */
    void writeData(int v) {
        switch (initStep) {
            case 2 -> {
                vectorBase = v & 0xF8;
                initStep = single ? (expectIcw4 ? 4 : 0) : 3;
            }
            case 3 -> {
                icw3 = v;
                initStep = expectIcw4 ? 4 : 0;
            }
            case 4 -> {
                autoEoi = (v & ICW4_AEOI) != 0;
                specialFullyNested = (v & ICW4_SFNM) != 0;
                initStep = 0;
            }
            default -> imr = v;
        }
    }

    /** ICW1: starts the initialization sequence and resets the chip (datasheet "Initialization command words"). */
    private void icw1(int v) {
        initStep = 2;
        expectIcw4 = (v & ICW1_IC4) != 0;
        single = (v & ICW1_SNGL) != 0;
        levelTriggeredAll = (v & ICW1_LTIM) != 0;
        imr = 0;
        isr = 0;
        lowest = 7;
        specialMask = false;
        readIsr = false;
        pollPending = false;
        autoEoi = false;
        rotateOnAutoEoi = false;
        specialFullyNested = false;
        // The edge sense circuit is reset: an input must go low and high again; level inputs keep requesting.
        irr = lines & levelMask();
    }

    /** OCW2: EOI, rotation and priority commands (R, SL, EOI bits 7-5; level in bits 2-0). */
    private void ocw2(int v) {
        int level = v & 7;
        switch (v >>> 5) {
            case 0b001 -> nonSpecificEoi(false);
            case 0b101 -> nonSpecificEoi(true);
            case 0b011 -> isr &= ~(1 << level);
            case 0b111 -> {
                isr &= ~(1 << level);
                lowest = level;
            }
            case 0b110 -> lowest = level;
            case 0b100 -> rotateOnAutoEoi = true;
            case 0b000 -> rotateOnAutoEoi = false;
            default -> {
                // 0b010: no operation
            }
        }
    }

    private void nonSpecificEoi(boolean rotate) {
        int p = priority(isr);
        if (p == 8) {
            return;
        }
        int irq = irqOfPriority(p);
        isr &= ~(1 << irq);
        if (rotate) {
            lowest = irq;
        }
    }

    /** OCW3: special mask mode, poll, read register select. */
    private void ocw3(int v) {
        if ((v & OCW3_ESMM) != 0) {
            specialMask = (v & OCW3_SMM) != 0;
        }
        if ((v & OCW3_POLL) != 0) {
            pollPending = true;
        }
        if ((v & OCW3_RR) != 0) {
            readIsr = (v & OCW3_RIS) != 0;
        }
    }

    /** The command port's read value outside poll mode: IRR or ISR as OCW3 selected. */
    int readCommand() {
        return readIsr ? isr : irr;
    }

    void setElcr(int v) {
        elcr = v & elcrMask;
        // Inputs switched to level follow their pin now; inputs switched to edge keep a latched request.
        int level = levelMask();
        irr = irr & ~level | lines & level;
    }
}
