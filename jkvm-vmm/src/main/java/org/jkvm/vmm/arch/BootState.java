package org.jkvm.vmm.arch;

import org.jkvm.hypervisor.DescriptorTable;
import org.jkvm.hypervisor.Regs;
import org.jkvm.hypervisor.Segment;
import org.jkvm.hypervisor.Sregs;
import org.jkvm.loader.BootMemoryMap;
import org.jkvm.loader.LoadedKernel;

/**
 * The bootstrap processor's registers at kernel entry, per entry mode: Linux's 64-bit boot protocol (boot.rst
 * "64-bit Boot Protocol": long mode, identity paging, __BOOT_CS/__BOOT_DS, RSI = boot_params) or multiboot's
 * machine state (Multiboot 0.6.96 section 3.2: 32-bit protected mode, paging off, EAX = 0x2BADB002, EBX = info).
 */
public final class BootState {
    public static final long CR0_PE = 1;
    public static final long CR0_ET = 1 << 4;
    public static final long CR0_PG = 1L << 31;
    public static final long CR4_PAE = 1 << 5;
    public static final long EFER_LME = 1 << 8;
    public static final long EFER_LMA = 1 << 10;
    public static final int MULTIBOOT_MAGIC = 0x2BADB002;

    private BootState() {}

    /** Special registers for the entry mode, starting from the vCPU's reset state {@code reset}. */
    public static Sregs sregs(Sregs reset, LoadedKernel kernel, DescriptorTable gdt, DescriptorTable idt, long cr3) {
        Segment data = BootGdt.DATA;
        return switch (kernel.entryMode()) {
            case LINUX_64 -> new Sregs(BootGdt.CODE64, data, data, data, data, data, BootGdt.TSS, reset.ldt(), gdt, idt,
                    CR0_PE | CR0_ET | CR0_PG, 0, cr3, CR4_PAE, 0, EFER_LME | EFER_LMA, reset.apicBase(), new long[4]);
            case MULTIBOOT_32 -> new Sregs(BootGdt.CODE32, data, data, data, data, data, BootGdt.TSS, reset.ldt(),
                    gdt, idt, CR0_PE | CR0_ET, 0, 0, 0, 0, 0, reset.apicBase(), new long[4]);
        };
    }

    /** General registers for the entry mode. */
    public static Regs regs(LoadedKernel kernel) {
        return switch (kernel.entryMode()) {
            case LINUX_64 -> Regs.boot(kernel.entryGpa(), BootMemoryMap.BOOT_STACK, kernel.bootInfoGpa(), 0, 0);
            case MULTIBOOT_32 -> Regs.boot(kernel.entryGpa(), BootMemoryMap.BOOT_STACK, 0,
                    Integer.toUnsignedLong(MULTIBOOT_MAGIC), kernel.bootInfoGpa());
        };
    }
}
