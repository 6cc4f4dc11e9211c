package org.jkvm.pci;

/**
 * One memory BAR of a PCI function (PCI Local Bus 3.0 section 6.2.5.1): its register index, size (a power of two),
 * whether it is 64-bit (taking two registers) and prefetchable.
 */
public record PciBar(int index, long sizeBytes, boolean is64, boolean prefetchable) {
}
