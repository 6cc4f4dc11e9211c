package org.jkvm.vmm.device;

import org.jkvm.devices.InterruptLine;
import org.jkvm.hypervisor.Vm;

/**
 * An interrupt line from a device to the VM's interrupt controllers (GSI {@code gsi}). Only level changes reach the
 * backend, so a device that re-asserts an asserted line costs nothing.
 */
final class IrqLine implements InterruptLine {
    private final Vm vm;
    private final int gsi;
    private boolean level;
    private boolean unsupportedReported;

    IrqLine(Vm vm, int gsi) {
        this.vm = vm;
        this.gsi = gsi;
    }

    @Override
    public synchronized void set(boolean asserted) {
        if (asserted == level) {
            return;
        }
        level = asserted;
        try {
            vm.setIrqLine(gsi, asserted);
        } catch (UnsupportedOperationException e) {
            if (!unsupportedReported) {
                unsupportedReported = true;
                System.err.println("jkvm: IRQ " + gsi + " not delivered: " + e.getMessage());
            }
        }
    }

    @Override
    public synchronized void pulse() {
        set(true);
        set(false);
    }
}
