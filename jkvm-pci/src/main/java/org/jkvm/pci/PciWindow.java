package org.jkvm.pci;

/** A guest-physical range the host bridge forwards to PCI: {@code [baseGpa, baseGpa + sizeBytes)}. */
public record PciWindow(long baseGpa, long sizeBytes) {
    public PciWindow {
        if (baseGpa < 0 || sizeBytes <= 0 || baseGpa > Long.MAX_VALUE - sizeBytes) {
            throw new IllegalArgumentException(String.format("bad PCI window 0x%x+0x%x", baseGpa, sizeBytes));
        }
    }

    public long endGpa() {
        return baseGpa + sizeBytes;
    }

    /** Whether {@code [gpa, gpa + size)} lies entirely inside the window. */
    public boolean contains(long gpa, long size) {
        return gpa >= baseGpa && size >= 0 && gpa <= endGpa() - size;
    }
}
