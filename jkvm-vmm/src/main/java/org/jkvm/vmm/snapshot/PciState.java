package org.jkvm.vmm.snapshot;

import java.util.List;

/** PCI bus 0: the configuration space of each function present, by slot. */
public record PciState(List<Function> functions) {
    public PciState {
        if (functions == null || functions.size() > 32) {
            throw new IllegalArgumentException("PCI bus 0 has at most 32 functions");
        }
        functions = List.copyOf(functions);
    }

    /**
     * One function's 256-byte configuration space as the guest reads it, and for a virtio function its transport
     * and queues (null otherwise).
     */
    public record Function(int slot, byte[] config, org.jkvm.pci.virtio.VirtioTransportState virtio) {
        public Function {
            if (slot < 0 || slot > 31 || config == null || config.length != 256) {
                throw new IllegalArgumentException("PCI function state: slot 0..31 and 256 bytes of configuration");
            }
            config = config.clone();
        }

        @Override
        public byte[] config() {
            return config.clone();
        }

        /** The vendor and device IDs (the first dword). */
        public int ids() {
            return (config[0] & 0xff) | (config[1] & 0xff) << 8 | (config[2] & 0xff) << 16 | (config[3] & 0xff) << 24;
        }
    }
}
