package org.jkvm.vmm.arch;

import java.util.List;

import org.jkvm.hypervisor.MsrEntry;

/**
 * MSR values every vCPU starts with, as firmware leaves them: SYSENTER/SYSCALL MSRs cleared, fast strings enabled,
 * MTRRs enabled with write-back as the default type (Intel SDM vol. 4; vol. 3A 11.11.2.1 IA32_MTRR_DEF_TYPE).
 */
public final class BootMsrs {
    public static final int IA32_TSC = 0x10;
    public static final int IA32_SYSENTER_CS = 0x174;
    public static final int IA32_SYSENTER_ESP = 0x175;
    public static final int IA32_SYSENTER_EIP = 0x176;
    public static final int IA32_MISC_ENABLE = 0x1a0;
    public static final int IA32_MTRR_DEF_TYPE = 0x2ff;
    public static final int STAR = 0xc0000081;
    public static final int LSTAR = 0xc0000082;
    public static final int CSTAR = 0xc0000083;
    public static final int SYSCALL_MASK = 0xc0000084;
    public static final int KERNEL_GS_BASE = 0xc0000102;

    private static final long MISC_ENABLE_FAST_STRING = 1;
    private static final long MTRR_ENABLE = 1 << 11;
    private static final long MTRR_TYPE_WRITE_BACK = 6;

    private BootMsrs() {}

    public static List<MsrEntry> entries() {
        return List.of(
                new MsrEntry(IA32_SYSENTER_CS, 0), new MsrEntry(IA32_SYSENTER_ESP, 0),
                new MsrEntry(IA32_SYSENTER_EIP, 0), new MsrEntry(STAR, 0), new MsrEntry(LSTAR, 0),
                new MsrEntry(CSTAR, 0), new MsrEntry(SYSCALL_MASK, 0), new MsrEntry(KERNEL_GS_BASE, 0),
                new MsrEntry(IA32_TSC, 0), new MsrEntry(IA32_MISC_ENABLE, MISC_ENABLE_FAST_STRING),
                new MsrEntry(IA32_MTRR_DEF_TYPE, MTRR_ENABLE | MTRR_TYPE_WRITE_BACK));
    }
}
