package org.jkvm.acpi;

/**
 * The PCI Express memory-mapped configuration table (MCFG, PCI Firmware Specification 3.0 section 4.1.2): the
 * header, 8 reserved bytes, and one 16-byte allocation per ECAM window: base address, PCI segment group, start and
 * end bus, 4 reserved bytes. jkvm's one window covers segment 0, bus 0.
 */
final class Mcfg {
    static final String SIGNATURE = "MCFG";
    static final int REVISION = 1;

    private Mcfg() {
    }

    static byte[] build(PciHostConfig pci) {
        ByteBuilder out = Sdt.begin(SIGNATURE, REVISION);
        out.u64(0);
        out.u64(pci.ecamGpa()).u16(0).u8(0).u8(0).u32(0);
        return Sdt.finish(out);
    }
}
