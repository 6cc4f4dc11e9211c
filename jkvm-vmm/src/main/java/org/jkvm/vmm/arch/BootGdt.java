package org.jkvm.vmm.arch;

import org.jkvm.hypervisor.DescriptorTable;
import org.jkvm.hypervisor.Segment;
import org.jkvm.loader.BootMemoryMap;
import org.jkvm.memory.GuestMemory;

/**
 * The boot GDT at {@link BootMemoryMap#GDT}, with the selectors the Linux boot protocol (boot.rst: __BOOT_CS 0x10,
 * __BOOT_DS 0x18) and multiboot entries use, and the matching hidden segment state for KVM_SET_SREGS. Intel SDM
 * vol. 3A 3.4.5 (segment descriptors) and 7.2.2 (TSS descriptor).
 */
public final class BootGdt {
    public static final int CODE32_SELECTOR = 0x08;
    public static final int CODE64_SELECTOR = 0x10;
    public static final int DATA_SELECTOR = 0x18;
    public static final int TSS_SELECTOR = 0x20;

    /** Execute/read, accessed. */
    private static final int TYPE_CODE = 0xb;
    /** Read/write, accessed. */
    private static final int TYPE_DATA = 0x3;
    /** 32/64-bit TSS, busy. */
    private static final int TYPE_TSS_BUSY = 0xb;

    public static final Segment CODE32 = Segment.flat(CODE32_SELECTOR, TYPE_CODE, false, true);
    public static final Segment CODE64 = Segment.flat(CODE64_SELECTOR, TYPE_CODE, true, false);
    public static final Segment DATA = Segment.flat(DATA_SELECTOR, TYPE_DATA, false, true);
    /** A system segment (S=0) as the VMX entry checks require for TR in protected mode. */
    public static final Segment TSS = new Segment(0, 0xfffff, TSS_SELECTOR, TYPE_TSS_BUSY, true, 0, false, false,
            false, false, false, false);

    private static final Segment[] TABLE = {null, CODE32, CODE64, DATA, TSS};

    private BootGdt() {}

    /** Writes the table into guest memory and returns the GDTR value. */
    public static DescriptorTable write(GuestMemory memory) {
        memory.writeLong(BootMemoryMap.GDT, 0);
        for (int i = 1; i < TABLE.length; i++) {
            memory.writeLong(BootMemoryMap.GDT + 8L * i, TABLE[i].gdtDescriptor());
        }
        return new DescriptorTable(BootMemoryMap.GDT, TABLE.length * 8 - 1);
    }

    /** The IDTR at boot: an empty table (interrupts are off until the guest installs its own). */
    public static DescriptorTable idt(GuestMemory memory) {
        memory.writeLong(BootMemoryMap.IDT, 0);
        return new DescriptorTable(BootMemoryMap.IDT, 7);
    }

    static {
        if (BootMemoryMap.GDT + 8L * TABLE.length > BootMemoryMap.IDT) {
            throw new AssertionError("boot GDT overlaps the IDT");
        }
    }
}
