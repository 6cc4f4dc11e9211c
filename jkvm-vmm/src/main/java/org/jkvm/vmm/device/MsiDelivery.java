package org.jkvm.vmm.device;

import org.jkvm.hypervisor.Vm;
import org.jkvm.pci.MsiSink;

/**
 * Turns a device's MSI (an address/data pair, PCI 3.0 section 6.8) into an interrupt. With KVM's irqchip the
 * kernel decodes it (KVM_SIGNAL_MSI). With jkvm's own (the software CPU) it is decoded here as Intel SDM vol. 3A
 * 11.11 describes, and handed to the local APICs: address 0xFEE0_0000 | destination ID (bits 19:12) | RH (bit 3)
 * | DM (bit 2, logical); data: vector (7:0), delivery mode (10:8), level (14), trigger mode (15). A message to any
 * other address (a write to memory on real hardware) is dropped and reported once.
 */
final class MsiDelivery {
    private MsiDelivery() {
    }

    static MsiSink forVm(Vm vm) {
        return switch (vm.irqchip()) {
            case BACKEND -> vm::signalMsi;
            case VMM -> new Decoded(vm);
        };
    }

    private static final class Decoded implements MsiSink {
        private final Vm vm;
        private volatile boolean reported;

        Decoded(Vm vm) {
            this.vm = vm;
        }

        @Override
        public void signal(long address, int data) {
            if ((address >>> 20) != 0xfee) {
                if (!reported) {
                    reported = true;
                    System.err.printf("jkvm: MSI to 0x%x (data 0x%x) is outside the local APIC window: dropped%n",
                            address, data);
                }
                return;
            }
            int destination = (int) (address >>> 12) & 0xff;
            boolean logical = (address & 0x4) != 0;
            int vector = data & 0xff;
            int mode = (data >>> 8) & 7;
            boolean levelTriggered = (data & 0x8000) != 0;
            vm.deliverApicMessage(destination, logical, vector, mode, true, levelTriggered);
        }
    }
}
