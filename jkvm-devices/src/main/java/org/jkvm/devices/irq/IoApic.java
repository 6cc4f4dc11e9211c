package org.jkvm.devices.irq;

import org.jkvm.devices.BusDevice;

/**
 * An I/O APIC with 24 inputs (Intel 82093AA datasheet 290566; version 0x20 as in the ICH/PCH datasheets and QEMU's
 * default, with the directed EOI register). MMIO registers, relative to the base (0xFEC00000 on a PC):
 * <ul>
 *   <li>0x00 IOREGSEL (8 bits, read/write), 0x10 IOWIN (32 bits; narrower accesses read or merge the bytes they
 *       cover), 0x40 EOI (write-only: a vector; clears the remote IRR of the entries with that vector);</li>
 *   <li>indirect registers: 0x00 IOAPICID (ID in bits 27:24), 0x01 IOAPICVER (0x00170020: version 0x20, 24
 *       entries), 0x02 IOAPICARB (arbitration ID = the APIC ID), 0x10-0x3F the 24 redirection entries, low
 *       dword at {@code 0x10 + 2n}, high dword at {@code 0x11 + 2n}.</li>
 * </ul>
 * Everything else reads 0 and ignores writes. Redirection entries reset to masked; bits 12 (delivery status, always
 * 0: delivery is instantaneous) and 14 (remote IRR) are read-only, the high dword keeps only the destination (63:56).
 *
 * <p>Inputs ({@link #setIrq}) are logical levels: the polarity bit (13) is stored but not applied, since jkvm's
 * devices drive their lines as "asserted", not as electrical levels (as QEMU). Edge-triggered entries send one
 * message per rising edge and drop edges that arrive while masked (82093AA 3.2.4, bit 16). Level-triggered entries
 * send a message while the input is asserted and remote IRR is clear, set remote IRR, and send again after the
 * local APIC's EOI ({@link #endOfInterrupt}, or the EOI register) if the input is still asserted. Writing an entry
 * as edge-triggered clears its remote IRR (what Linux's EOI fallback for version 0x11 I/O APICs relies on, as KVM
 * implements it); unmasking an asserted level entry sends its message. Lowest-priority arbitration among local
 * APICs is the {@link ApicDelivery}'s business.
 *
 * <p>Locking: one monitor; messages go to the {@link ApicDelivery} under it (see there). Nothing allocates after
 * construction.
 */
public final class IoApic implements BusDevice {

    /** Number of inputs and redirection entries. */
    public static final int PINS = 24;
    /** The version register: maximum redirection entry 23 in bits 23:16, version 0x20. */
    public static final int VERSION_REGISTER = (PINS - 1) << 16 | 0x20;
    /** The MMIO window to register (the decoded registers end at 0x43; QEMU also maps 4 KiB). */
    public static final int LENGTH = 0x1000;

    static final int IOREGSEL = 0x00;
    static final int IOWIN = 0x10;
    static final int EOI = 0x40;

    private static final long VECTOR = 0xFF;
    private static final long DEST_LOGICAL = 1L << 11;
    private static final long REMOTE_IRR = 1L << 14;
    private static final long LEVEL = 1L << 15;
    private static final long MASKED = 1L << 16;
    /** Writable low-dword bits: vector, delivery mode, destination mode, polarity, trigger mode, mask. */
    private static final long LOW_WRITABLE = 0x1_AFFFL;
    private static final long HIGH_WRITABLE = 0xFF00_0000L;

    private final ApicDelivery delivery;
    private final long[] table = new long[PINS];
    private int ioregsel;
    private int id;
    /** Pending requests: edges not yet sent, asserted level inputs. */
    private int irr;
    /** Input levels as last driven. */
    private int lines;

    /** @param delivery where interrupt messages go (the local APICs) */
    public IoApic(ApicDelivery delivery) {
        if (delivery == null) {
            throw new NullPointerException();
        }
        this.delivery = delivery;
        for (int i = 0; i < PINS; i++) {
            table[i] = MASKED;
        }
    }

    /** Drives input {@code pin} (0-23) to {@code level} (logical: true = asserted); other pins are ignored. */
    public synchronized void setIrq(int pin, boolean level) {
        if (pin < 0 || pin >= PINS) {
            return;
        }
        int bit = 1 << pin;
        long entry = table[pin];
        if (level) {
            boolean rising = (lines & bit) == 0;
            lines |= bit;
            if ((entry & LEVEL) != 0 || rising && (entry & MASKED) == 0) {
                irr |= bit;
                service(pin);
            }
        } else {
            lines &= ~bit;
            if ((entry & LEVEL) != 0) {
                irr &= ~bit;
            }
        }
    }

    /**
     * An EOI for {@code vector} from a local APIC (the broadcast EOI of a level-triggered interrupt, SDM 11.8.5):
     * clears remote IRR in every entry with that vector and re-sends those whose input is still asserted.
     */
    public synchronized void endOfInterrupt(int vector) {
        for (int pin = 0; pin < PINS; pin++) {
            long entry = table[pin];
            if ((entry & VECTOR) == (vector & 0xFF) && (entry & REMOTE_IRR) != 0) {
                table[pin] = entry & ~REMOTE_IRR;
                service(pin);
            }
        }
    }

    /** The redirection entry of {@code pin}, for the VMM and tests. */
    public synchronized long redirectionEntry(int pin) {
        return pin >= 0 && pin < PINS ? table[pin] : 0;
    }

    /**
     * The state in KVM's kvm_ioapic_state form: its irr is the input levels (as KVM keeps it), the table as
     * programmed with remote IRR.
     */
    public synchronized org.jkvm.hypervisor.state.IoApicState saveState() {
        return new org.jkvm.hypervisor.state.IoApicState(ioregsel, id, lines, table.clone());
    }

    /**
     * Loads a saved state: input levels, a level pin's standing request from its level, entries masked to their
     * writable bits plus remote IRR. Nothing is sent: a request the source had not sent yet waits for its EOI or its
     * next edge, as a message sent before the save is already in the local APIC's state.
     */
    public synchronized void restoreState(org.jkvm.hypervisor.state.IoApicState s) {
        ioregsel = s.ioregsel();
        id = s.id();
        lines = s.irr() & ((1 << PINS) - 1);
        long[] t = s.redirectionTable();
        irr = 0;
        for (int pin = 0; pin < PINS; pin++) {
            table[pin] = t[pin] & (LOW_WRITABLE | REMOTE_IRR | HIGH_WRITABLE << 32);
            if ((table[pin] & LEVEL) != 0) {
                irr |= lines & (1 << pin);
            } else {
                table[pin] &= ~REMOTE_IRR;
            }
        }
    }

    /** Sends the message of {@code pin} if it has a request, is unmasked and (level) remote IRR is clear. */
    private void service(int pin) {
        int bit = 1 << pin;
        long entry = table[pin];
        if ((irr & bit) == 0 || (entry & MASKED) != 0) {
            return;
        }
        boolean level = (entry & LEVEL) != 0;
        if (level) {
            if ((entry & REMOTE_IRR) != 0) {
                return;
            }
            table[pin] = entry | REMOTE_IRR; // the request stays in IRR while the input is asserted
        } else {
            irr &= ~bit;
        }
        delivery.deliver((int) (entry >>> 56), (entry & DEST_LOGICAL) != 0, (int) (entry & VECTOR),
                (int) (entry >>> 8) & 7, true, level);
    }

    @Override
    public synchronized long read(long offset, int size) {
        if (size <= 0 || offset < 0) {
            return 0;
        }
        if (offset < 4) {
            return offset == IOREGSEL ? ioregsel : 0;
        }
        if (offset >= IOWIN && offset < IOWIN + 4) {
            return (readRegister(ioregsel) & 0xFFFF_FFFFL) >>> (8 * (offset - IOWIN));
        }
        return 0; // the EOI register is write-only
    }

    @Override
    public synchronized void write(long offset, int size, long value) {
        if (size <= 0 || offset < 0) {
            return;
        }
        if (offset == IOREGSEL) {
            ioregsel = (int) value & 0xFF;
        } else if (offset >= IOWIN && offset < IOWIN + 4) {
            int shift = (int) (offset - IOWIN) * 8;
            long mask = (size >= 4 ? 0xFFFF_FFFFL : (1L << (size * 8)) - 1) << shift & 0xFFFF_FFFFL;
            long merged = readRegister(ioregsel) & 0xFFFF_FFFFL & ~mask | value << shift & mask;
            writeRegister(ioregsel, (int) merged);
        } else if (offset == EOI) {
            endOfInterrupt((int) value & 0xFF);
        }
    }

    private int readRegister(int reg) {
        if (reg == 0x00) {
            return id << 24;
        }
        if (reg == 0x01) {
            return VERSION_REGISTER;
        }
        if (reg == 0x02) {
            return id << 24; // arbitration ID: loaded from the APIC ID
        }
        if (reg >= 0x10 && reg < 0x10 + 2 * PINS) {
            long entry = table[(reg - 0x10) >> 1];
            return (reg & 1) == 0 ? (int) entry : (int) (entry >>> 32);
        }
        return 0;
    }

    private void writeRegister(int reg, int v) {
        if (reg == 0x00) {
            id = v >>> 24 & 0x0F;
            return;
        }
        if (reg < 0x10 || reg >= 0x10 + 2 * PINS) {
            return; // version and arbitration are read-only
        }
        int pin = (reg - 0x10) >> 1;
        long entry = table[pin];
        if ((reg & 1) != 0) {
            table[pin] = entry & 0xFFFF_FFFFL | (v & HIGH_WRITABLE) << 32;
            return;
        }
        long low = v & LOW_WRITABLE;
        long next = entry & ~0xFFFF_FFFFL | entry & REMOTE_IRR | low;
        int bit = 1 << pin;
        if ((next & LEVEL) == 0) {
            next &= ~REMOTE_IRR;
            irr &= ~bit; // an edge entry has no standing request
        } else {
            irr = irr & ~bit | lines & bit; // a level entry requests while its input is asserted
        }
        table[pin] = next;
        service(pin);
    }
}
