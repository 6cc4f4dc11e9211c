package org.jkvm.devices.irq;

import org.jkvm.devices.InterruptLine;

/**
 * The PC's interrupt wiring between devices and the two controllers, by global system interrupt (ACPI 6.5 5.2.13
 * "Global System Interrupts"): GSI {@code n} is I/O APIC input {@code n}; GSIs 1 and 3-15 are also 8259A inputs of
 * the same number, and GSI 2 is the 8259A's IRQ 0 (the timer), which is the MADT's interrupt source override
 * "ISA IRQ 0 -> GSI 2" that every PC (and QEMU, and Linux's default) uses. GSI 0 reaches only the I/O APIC (on real
 * chipsets I/O APIC input 0 carries the 8259A's INTR for virtual wire mode; connect {@link Pic8259}'s output there
 * too if that mode is wanted). GSIs 16-23 (PCI INTx, HPET timers) reach only the I/O APIC.
 *
 * <p>Several sources may share a GSI (PCI INTx sharing, the PIT and the HPET on IRQ 0): the GSI is asserted while any
 * of them is (wired OR). This relies on sources reporting only changes ({@link InterruptLine}'s contract); a source
 * that lowers a line it never raised is ignored.
 *
 * <p>Locking: one monitor, held while the 8259A and the I/O APIC are called, so that transitions on one GSI reach
 * them in order. Lock order: a device's lock, then this router, then the PIC or the I/O APIC (they call only their
 * INTR line and {@link ApicDelivery}). Nothing allocates after construction.
 */
public final class IrqRouter implements GsiSink {

    /** Number of GSIs (the I/O APIC's inputs). */
    public static final int GSIS = IoApic.PINS;

    private final Pic8259 pic;
    private final IoApic ioApic;
    private final int[] asserted = new int[GSIS];
    private final InterruptLine[] lines = new InterruptLine[GSIS];

    /**
     * @param pic    the 8259A pair
     * @param ioApic the I/O APIC
     */
    public IrqRouter(Pic8259 pic, IoApic ioApic) {
        if (pic == null || ioApic == null) {
            throw new NullPointerException();
        }
        this.pic = pic;
        this.ioApic = ioApic;
        for (int gsi = 0; gsi < GSIS; gsi++) {
            int g = gsi;
            lines[gsi] = level -> setGsi(g, level);
        }
    }

    /** The GSI an ISA IRQ arrives on: 2 for IRQ 0 (the source override), the same number otherwise. */
    public static int isaIrqToGsi(int isaIrq) {
        return isaIrq == 0 ? 2 : isaIrq;
    }

    /**
     * The line of ISA IRQ {@code isaIrq} (0, 1, 3-15): 8259A input {@code isaIrq} and I/O APIC input
     * {@link #isaIrqToGsi}. IRQ 2 is the cascade and has no line.
     *
     * @throws IllegalArgumentException for IRQ 2 or a number outside 0-15
     */
    public InterruptLine isaLine(int isaIrq) {
        if (isaIrq < 0 || isaIrq > 15 || isaIrq == Pic8259.CASCADE) {
            throw new IllegalArgumentException("no ISA IRQ line " + isaIrq);
        }
        return lines[isaIrqToGsi(isaIrq)];
    }

    /**
     * The line of GSI {@code gsi} (0-23).
     *
     * @throws IllegalArgumentException outside 0-23
     */
    public InterruptLine gsiLine(int gsi) {
        if (gsi < 0 || gsi >= GSIS) {
            throw new IllegalArgumentException("no GSI " + gsi);
        }
        return lines[gsi];
    }

    /** One source's transition on GSI {@code gsi}; a GSI outside 0-23 is ignored. */
    @Override
    public synchronized void setGsi(int gsi, boolean level) {
        if (gsi < 0 || gsi >= GSIS) {
            return;
        }
        if (level) {
            if (asserted[gsi]++ != 0) {
                return;
            }
        } else {
            if (asserted[gsi] == 0 || --asserted[gsi] != 0) {
                return;
            }
        }
        if (gsi == 2) {
            pic.setIrq(0, level);
        } else if (gsi < 16 && gsi != 0) {
            pic.setIrq(gsi, level);
        }
        ioApic.setIrq(gsi, level);
    }
}
