package org.jkvm.devices.irq;

import org.jkvm.devices.BusDevice;
import org.jkvm.devices.InterruptLine;

/**
 * The PC/AT's two cascaded Intel 8259A programmable interrupt controllers (datasheet 231468) with the PIIX/ICH edge
 * and level control registers (ELCR, Intel 82371AB PIIX4 datasheet 12.7.9, ports 0x4D0/0x4D1): 16 ISA inputs, the
 * slave's INT wired to the master's IR2, the master's INT the CPU's INTR.
 *
 * <p>Ports (the VMM registers the three views; the device knows no port base): {@link #master()} at 0x20 and
 * {@link #slave()} at 0xA0, two ports each (offset 0: ICW1/OCW2/OCW3 and IRR/ISR/poll; offset 1: ICW2-4, OCW1/IMR),
 * and {@link #elcr()} at 0x4D0, two ports (offset 0 the master's ELCR, 1 the slave's; IRQ 0, 1, 2, 8 and 13 are always
 * edge, as on PIIX). Implemented: the ICW1-ICW4 initialization sequence (single mode, LTIM, vector base, ICW3 kept,
 * auto-EOI, special fully nested mode; 8080 mode and buffered mode are ignored), OCW1 masks, OCW2 non-specific and
 * specific EOI, rotate on EOI, rotate in auto-EOI mode and set priority, OCW3 read IRR/ISR, poll and special mask
 * mode; edge inputs latch a rising edge, level inputs (ELCR or LTIM) request while asserted. Interrupt acknowledge
 * ({@link #acknowledge}) returns the vector; when no request survives until then it returns the spurious vector of
 * IR7 (IRQ 7, or IRQ 15 when the slave lost its request after the master chose IR2) without setting the ISR bit,
 * as the datasheet describes. The cascade input is modelled as level-sensitive (it follows the slave's INT).
 *
 * <p>Inputs are logical levels ({@link #setIrq}, IRQ 2 is the cascade and ignored); the output is the INTR line, a
 * level driven only on change. A CPU (or a local APIC's LINT0 in ExtINT mode) that sees INTR asserted and accepts
 * the interrupt calls {@link #acknowledge} to run the INTA cycle.
 *
 * <p>Locking: one monitor (this object) for both chips; every entry point holds it and calls the INTR line under it,
 * so the line's consumer must not block and must not call back into this PIC from another thread while waiting
 * (a direct call on the same thread is safe: the monitor is reentrant). The PIC calls nothing else. Nothing
 * allocates after construction.
 */
public final class Pic8259 {

    /** The master input the slave is cascaded on. */
    public static final int CASCADE = 2;
    /** ELCR bits that can be set: IRQ 3-7 on the master, 9-12 and 14-15 on the slave (PIIX). */
    static final int ELCR_MASK_MASTER = 0xF8;
    static final int ELCR_MASK_SLAVE = 0xDE;

    private final InterruptLine intr;
    private final Pic8259Chip masterChip = new Pic8259Chip(true, ELCR_MASK_MASTER);
    private final Pic8259Chip slaveChip = new Pic8259Chip(false, ELCR_MASK_SLAVE);
    private final BusDevice masterPorts = new ChipPorts(masterChip);
    private final BusDevice slavePorts = new ChipPorts(slaveChip);
    private final BusDevice elcrPorts = new ElcrPorts();
    private boolean intrLevel;

    /** @param intr the master's INT output, the CPU's INTR input (or the BSP's LINT0) */
    public Pic8259(InterruptLine intr) {
        if (intr == null) {
            throw new NullPointerException();
        }
        this.intr = intr;
    }

    /** Both chips' state (master, slave), for a snapshot. */
    public synchronized org.jkvm.hypervisor.state.PicState[] saveState() {
        return new org.jkvm.hypervisor.state.PicState[] {masterChip.save(), slaveChip.save()};
    }

    /** Loads both chips and drives INTR from the loaded state. */
    public synchronized void restoreState(org.jkvm.hypervisor.state.PicState master,
                                          org.jkvm.hypervisor.state.PicState slave) {
        masterChip.restore(master);
        slaveChip.restore(slave);
        update();
    }

    /** The master's two ports (0x20, 0x21). */
    public BusDevice master() {
        return masterPorts;
    }

    /** The slave's two ports (0xA0, 0xA1). */
    public BusDevice slave() {
        return slavePorts;
    }

    /** The two ELCR ports (0x4D0 master, 0x4D1 slave). */
    public BusDevice elcr() {
        return elcrPorts;
    }

    /**
     * Drives ISA input {@code irq} (0-15) to {@code level} (logical: true = requesting). IRQ 2 is the cascade and
     * ignored (on an AT the ISA bus's IRQ 2 is wired to IRQ 9); a number outside 0-15 is ignored.
     */
    public synchronized void setIrq(int irq, boolean level) {
        if (irq < 0 || irq > 15 || irq == CASCADE) {
            return;
        }
        (irq < 8 ? masterChip : slaveChip).setInput(irq & 7, level);
        update();
    }

    /** Whether INTR is asserted now (some unmasked request has priority over everything in service). */
    public synchronized boolean interruptRequested() {
        return intrLevel;
    }

    /**
     * The interrupt acknowledge cycle: the master resolves its highest-priority request, sets its ISR bit (unless
     * auto-EOI) and clears an edge request; for IR2 the slave does the same. Returns the vector (ICW2 base + input).
     * With nothing to acknowledge it returns the IR7 vector of the chip that was asked, with no ISR bit set: the
     * datasheet's spurious interrupt, which Linux recognises by reading ISR.
     */
    public synchronized int acknowledge() {
        int irq = masterChip.pending();
        int vector;
        if (irq < 0) {
            vector = masterChip.vectorBase | 7;
        } else {
            masterChip.acknowledge(irq);
            if (irq == CASCADE) {
                int irq2 = slaveChip.pending();
                if (irq2 < 0) {
                    vector = slaveChip.vectorBase | 7; // spurious IRQ 15: the master's IR2 stays in service
                } else {
                    slaveChip.acknowledge(irq2);
                    vector = slaveChip.vectorBase + irq2;
                }
            } else {
                vector = masterChip.vectorBase + irq;
            }
        }
        update();
        return vector;
    }

    /** Recomputes the slave's INT (the master's IR2) and the master's INT (INTR); drives INTR on change. */
    private void update() {
        masterChip.setInput(CASCADE, slaveChip.pending() >= 0);
        boolean level = masterChip.pending() >= 0;
        if (level != intrLevel) {
            intrLevel = level;
            intr.set(level);
        }
    }

    /** OCW3 poll: the read is an interrupt acknowledge on this chip; returns 0x80 | level, or 0 with no request. */
    private int poll(Pic8259Chip chip) {
        chip.pollPending = false;
        int irq = chip.pending();
        if (irq < 0) {
            return 0;
        }
        chip.acknowledge(irq);
        update();
        return 0x80 | irq;
    }

    /** One chip's two ports: offset 0 command/status, offset 1 data/IMR. */
    private final class ChipPorts implements BusDevice {
        private final Pic8259Chip chip;

        ChipPorts(Pic8259Chip chip) {
            this.chip = chip;
        }

        @Override
        public long read(long offset, int size) {
            if (size <= 0 || offset < 0 || offset > 1) {
                return 0xFF;
            }
            synchronized (Pic8259.this) {
                if (chip.pollPending) {
                    return poll(chip);
                }
                return offset == 0 ? chip.readCommand() : chip.imr;
            }
        }

        @Override
        public void write(long offset, int size, long value) {
            if (size <= 0 || offset < 0 || offset > 1) {
                return;
            }
            int v = (int) value & 0xFF;
            synchronized (Pic8259.this) {
                if (offset == 0) {
                    chip.writeCommand(v);
                } else {
                    chip.writeData(v);
                }
                update();
            }
        }
    }

    /** ELCR1 (offset 0) and ELCR2 (offset 1); a wider access covers both bytes. */
    private final class ElcrPorts implements BusDevice {
        @Override
        public long read(long offset, int size) {
            if (size <= 0 || offset < 0 || offset > 1) {
                return 0xFF;
            }
            synchronized (Pic8259.this) {
                if (offset == 1) {
                    return slaveChip.elcr;
                }
                return size == 1 ? masterChip.elcr : masterChip.elcr | slaveChip.elcr << 8;
            }
        }

        @Override
        public void write(long offset, int size, long value) {
            if (size <= 0 || offset < 0 || offset > 1) {
                return;
            }
            synchronized (Pic8259.this) {
                if (offset == 1) {
                    slaveChip.setElcr((int) value & 0xFF);
                } else {
                    masterChip.setElcr((int) value & 0xFF);
                    if (size > 1) {
                        slaveChip.setElcr((int) (value >>> 8) & 0xFF);
                    }
                }
                update();
            }
        }
    }
}
