package org.jkvm.pci;

/**
 * The host bridge at 00:00.0: what a PC's chipset (here the IDs of QEMU's Q35 host, Intel 82G33/P35 DRAM controller
 * 8086:29C0) presents so that the OS sees a PCI hierarchy. Class 0x060000 (bridge, host bridge); no BARs and no
 * interrupt; Linux's type 1 sanity check (arch/x86/pci/direct.c) looks for a host bridge class or an Intel vendor ID.
 */
public final class HostBridge implements PciDevice {
    public static final int VENDOR_INTEL = 0x8086;
    public static final int DEVICE_Q35_MCH = 0x29c0;
    public static final int CLASS_HOST_BRIDGE = 0x060000;
    /** QEMU's subsystem IDs (Red Hat, QEMU). */
    public static final int SUBSYSTEM_VENDOR_REDHAT = 0x1af4;
    public static final int SUBSYSTEM_QEMU = 0x1100;

    private final PciConfigSpace config = new PciConfigSpace(VENDOR_INTEL, DEVICE_Q35_MCH, CLASS_HOST_BRIDGE, 0,
            SUBSYSTEM_VENDOR_REDHAT, SUBSYSTEM_QEMU);

    @Override
    public PciConfigSpace config() {
        return config;
    }

    @Override
    public long barRead(int bar, long offset, int size) {
        return 0;
    }

    @Override
    public void barWrite(int bar, long offset, int size, long value) {
    }

    @Override
    public String description() {
        return "host bridge";
    }
}
