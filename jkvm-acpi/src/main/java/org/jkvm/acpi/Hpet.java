package org.jkvm.acpi;

/**
 * The HPET description table (IA-PC HPET Specification 1.0a, section 3.2.4 "The ACPI 2.0 HPET Description Table"):
 * where the event timer block is and what it is, 56 bytes. The event timer block ID repeats the low 32 bits of the
 * block's capabilities register, as firmware does; Linux takes the base address from here.
 */
final class Hpet {
    static final String SIGNATURE = "HPET";
    static final int REVISION = 1;
    static final int SIZE_BYTES = 56;
    /**
     * The capabilities register's low half of jkvm's HPET (jkvm-devices' timer.Hpet): vendor 0x8086, legacy
     * replacement capable, 64-bit counter, 3 comparators (number of timers - 1 = 2), revision 1.
     */
    static final int EVENT_TIMER_BLOCK_ID = 0x8086_A201;
    /** Minimum clock ticks in periodic mode without lost interrupts (QEMU's value). */
    static final int MIN_CLOCK_TICK = 128;
    /** Page protection: 4 KiB (OEM attribute bits clear). */
    static final int PAGE_PROTECTION_4K = 1;

    private Hpet() {
    }

    static byte[] build(long baseGpa) {
        ByteBuilder out = Sdt.begin(SIGNATURE, REVISION);
        out.u32(EVENT_TIMER_BLOCK_ID);
        new GenericAddress(GenericAddress.SYSTEM_MEMORY, 64, 0, GenericAddress.ACCESS_UNDEFINED, baseGpa)
                .writeTo(out);
        out.u8(0); // HPET number: the first and only block
        out.u16(MIN_CLOCK_TICK);
        out.u8(PAGE_PROTECTION_4K);
        return Sdt.finish(out);
    }
}
