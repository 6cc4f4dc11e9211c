package org.jkvm.pci;

/**
 * Where a function's message-signalled interrupts go: a write of {@code data} to {@code address} (PCI Local Bus 3.0
 * section 6.8; on x86 the address is in the local APICs' 0xFEExxxxx window, Intel SDM vol. 3A 11.11). The VMM turns
 * it into KVM_SIGNAL_MSI or a software local APIC delivery. May be called from any thread; must not block long.
 */
@FunctionalInterface
public interface MsiSink {
    void signal(long address, int data);
}
