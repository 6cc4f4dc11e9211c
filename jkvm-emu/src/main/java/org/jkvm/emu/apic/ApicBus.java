package org.jkvm.emu.apic;

import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * A VM's local APICs as the interrupt messages see them (SDM vol. 3A 11.6 "Issuing interprocessor interrupts"):
 * routes IPIs from an ICR write and, later, IOAPIC messages to the APICs whose destination matches, by physical
 * APIC ID, by logical ID in the flat or cluster model (11.6.2.2), or by shorthand (self, all including self, all
 * excluding self). Broadcast is destination 0xFF in either mode. Lowest-priority delivery goes to the first
 * matching APIC in creation order (no arbitration). Level-triggered EOIs are passed to the EOI listener (the
 * IOAPIC's remote IRR). Thread-safe: the APIC list is copy-on-write.
 */
public final class ApicBus implements AutoCloseable {
    private volatile LocalApic[] apics = new LocalApic[0];
    private final ApicTimers timers = new ApicTimers();
    private volatile IntConsumer eoiListener;

    synchronized void add(LocalApic apic) {
        LocalApic[] a = Arrays.copyOf(apics, apics.length + 1);
        a[a.length - 1] = apic;
        apics = a;
    }

    ApicTimers timers() {
        return timers;
    }

    /** Called with the vector of every EOI for a level-triggered interrupt (for the IOAPIC). */
    public void setEoiListener(IntConsumer listener) {
        this.eoiListener = listener;
    }

    void eoi(int vector) {
        IntConsumer l = eoiListener;
        if (l != null) {
            l.accept(vector);
        }
    }

    /**
     * The ICR's fields (SDM figure 11-12): sends the message {@code source}'s ICR low word describes to
     * {@code destination}: 8 bits from an xAPIC's ICR, 32 from an x2APIC's ({@code x2}).
     */
    void sendIpi(LocalApic source, int icrLo, int destination, boolean x2) {
        int shorthand = (icrLo >>> 18) & 3;
        int mode = (icrLo >>> 8) & 7;
        boolean level = (icrLo & (1 << 14)) != 0;
        boolean trigger = (icrLo & (1 << 15)) != 0;
        int vector = icrLo & 0xff;
        switch (shorthand) {
            case 0 -> deliver(destination, (icrLo & (1 << 11)) != 0, x2, vector, mode, level, trigger);
            case 1 -> source.deliver(vector, mode, level, trigger);
            default -> {
                for (LocalApic a : apics) {
                    if (shorthand == 2 || a != source) {
                        a.deliver(vector, mode, level, trigger);
                    }
                }
            }
        }
    }

    /**
     * Delivers an interrupt message to the APICs {@code destination} names: physical APIC IDs, or logical IDs when
     * {@code logical}. This is what an IOAPIC redirection entry (or an MSI) sends: an 8-bit destination, in which
     * 0xFF is a broadcast also to APICs in x2APIC mode (as KVM treats it without interrupt remapping).
     */
    public void deliver(int destination, boolean logical, int vector, int deliveryMode, boolean level,
                        boolean levelTriggered) {
        deliver(destination & 0xff, logical, false, vector, deliveryMode, level, levelTriggered);
    }

    private void deliver(int destination, boolean logical, boolean fromX2Icr, int vector, int deliveryMode,
                         boolean level, boolean levelTriggered) {
        for (LocalApic a : apics) {
            if (matches(a, destination, logical, fromX2Icr)) {
                a.deliver(vector, deliveryMode, level, levelTriggered);
                if (deliveryMode == LocalApic.DM_LOWEST) {
                    return;
                }
            }
        }
    }

    /**
     * Whether {@code a} is a destination. An APIC in x2APIC mode (SDM 11.12.9, 11.12.10) matches a 32-bit physical
     * ID, or a logical destination as cluster (bits 31:16) and member bitmap (bits 15:0) against its derived LDR,
     * and 0xFFFFFFFF as broadcast; an 8-bit message (IOAPIC, MSI, an xAPIC's ICR) also broadcasts with 0xFF. An
     * xAPIC matches the low 8 bits in the flat or cluster model (11.6.2.2).
     */
    static boolean matches(LocalApic a, int dest, boolean logical, boolean fromX2Icr) {
        if (a.x2apic()) {
            if (dest == -1 || (!fromX2Icr && dest == 0xff)) {
                return true;
            }
            if (!logical) {
                return a.apicId() == dest;
            }
            int ldr = a.x2apicLdr();
            return (ldr >>> 16) == (dest >>> 16) && (ldr & dest & 0xffff) != 0;
        }
        dest &= 0xff;
        if (dest == 0xff) {
            return true;
        }
        if (!logical) {
            return a.apicId() == dest;
        }
        int id = a.logicalId();
        if (a.destinationModel() == 0xf) {
            return (id & dest) != 0; // flat: one bit per APIC
        }
        return (id >>> 4) == (dest >>> 4) && (id & dest & 0xf) != 0; // cluster: cluster number, member bits
    }

    /** Stops the timer thread. */
    @Override
    public void close() {
        timers.close();
    }
}
