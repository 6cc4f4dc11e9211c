package org.jkvm.vmm.device;

import org.jkvm.devices.InterruptLine;
import org.jkvm.devices.IoBus;
import org.jkvm.devices.irq.GsiSink;
import org.jkvm.devices.irq.IoApic;
import org.jkvm.devices.irq.IrqRouter;
import org.jkvm.devices.irq.Pic8259;
import org.jkvm.hypervisor.ExtIntSource;
import org.jkvm.hypervisor.Vm;

/**
 * How device interrupt lines reach the guest. With the backend's irqchip (KVM's in-kernel PIC and IOAPIC) an ISA
 * IRQ is a {@code KVM_IRQ_LINE} on the GSI of the same number (KVM's default routing sends GSI 0 to IOAPIC pin 2
 * itself). With the VMM's irqchip (the software CPU) jkvm models the 8259A pair and the IOAPIC here: ports 0x20,
 * 0xA0 and the ELCR at 0x4D0, the IOAPIC page at 0xFEC00000; the IOAPIC's messages go to the backend's local
 * APICs, whose level-triggered EOIs come back for the remote IRR, and the PIC's INTR to the bootstrap processor's
 * LINT0 (ExtINT).
 */
public abstract sealed class InterruptRouting permits InterruptRouting.Backend, InterruptRouting.Vmm {
    public static final long IOAPIC_GPA = 0xfec0_0000L;

    /** The line of ISA IRQ {@code irq} (0, 1, 3-15). */
    public abstract InterruptLine isaLine(int irq);

    /**
     * A line into GSI {@code gsi} (16-23: the I/O APIC inputs PCI INTx uses) for one device. Several devices may
     * share a GSI: it is asserted while any of their lines is (wired OR; PCI INTx is level-triggered and shareable).
     */
    public abstract InterruptLine gsiLine(int gsi);

    /** True when the platform's PIT is the VMM's (the backend has none of its own). */
    public boolean needsPit() {
        return this instanceof Vmm;
    }

    /** The IOAPIC inputs by GSI, for a device that picks its input at run time (the HPET); VMM irqchip only. */
    public GsiSink gsis() {
        throw new UnsupportedOperationException("GSI lines are only routed by the VMM's irqchip");
    }

    /** Chooses by the VM's {@link Vm#irqchip()}, registering the VMM's controllers on the buses when needed. */
    public static InterruptRouting create(Vm vm, IoBus pio, IoBus mmio) {
        return switch (vm.irqchip()) {
            case BACKEND -> new Backend(vm);
            case VMM -> new Vmm(vm, pio, mmio);
        };
    }

    static final class Backend extends InterruptRouting {
        private final Vm vm;

        Backend(Vm vm) {
            this.vm = vm;
        }

        @Override
        public InterruptLine isaLine(int irq) {
            return new IrqLine(vm, irq);
        }

        private final java.util.Map<Integer, SharedLine> shared = new java.util.HashMap<>();

        @Override
        public synchronized InterruptLine gsiLine(int gsi) {
            SharedLine line = shared.computeIfAbsent(gsi, g -> new SharedLine(new IrqLine(vm, g)));
            return line.source();
        }
    }

    /** A wired OR of sources onto one line: asserted while any source is. */
    private static final class SharedLine {
        private final InterruptLine out;
        private int asserted;

        SharedLine(InterruptLine out) {
            this.out = out;
        }

        InterruptLine source() {
            boolean[] level = new boolean[1];
            return asserted -> {
                synchronized (this) {
                    if (asserted == level[0]) {
                        return;
                    }
                    level[0] = asserted;
                    this.asserted += asserted ? 1 : -1;
                    if (this.asserted == (asserted ? 1 : 0)) {
                        out.set(asserted);
                    }
                }
            };
        }
    }

    /** The VMM's 8259A pair, or null when the backend has the irqchip. */
    public Pic8259 pic() {
        return null;
    }

    /** The VMM's IOAPIC, or null when the backend has the irqchip. */
    public IoApic ioApic() {
        return null;
    }

    static final class Vmm extends InterruptRouting {
        private final IrqRouter router;
        private final Pic8259 picChips;
        private final IoApic ioApicChip;

        @Override
        public Pic8259 pic() {
            return picChips;
        }

        @Override
        public IoApic ioApic() {
            return ioApicChip;
        }

        Vmm(Vm vm, IoBus pio, IoBus mmio) {
            // The 8259A's INTR output reaches the bootstrap processor's LINT0 (virtual wire mode, ExtINT): the
            // vCPU runs the acknowledge cycle itself when it takes the interrupt.
            Runnable[] raised = {() -> { }};
            Pic8259 pic = new Pic8259(level -> {
                if (level) {
                    raised[0].run();
                }
            });
            raised[0] = vm.connectExtInt(new ExtIntSource() {
                @Override
                public boolean interruptRequested() {
                    return pic.interruptRequested();
                }

                @Override
                public int acknowledge() {
                    return pic.acknowledge();
                }
            });
            IoApic ioApic = new IoApic(vm::deliverApicMessage);
            pio.register(0x20, 2, pic.master());
            pio.register(0xa0, 2, pic.slave());
            pio.register(0x4d0, 2, pic.elcr());
            mmio.register(IOAPIC_GPA, IoApic.LENGTH, ioApic);
            vm.setEoiListener(ioApic::endOfInterrupt);
            router = new IrqRouter(pic, ioApic);
            picChips = pic;
            ioApicChip = ioApic;
        }

        @Override
        public InterruptLine isaLine(int irq) {
            return router.isaLine(irq);
        }

        @Override
        public GsiSink gsis() {
            return router;
        }

        @Override
        public InterruptLine gsiLine(int gsi) {
            InterruptLine wire = router.gsiLine(gsi); // the router ORs the sources of one GSI
            boolean[] level = new boolean[1];
            return asserted -> {
                synchronized (level) {
                    if (asserted != level[0]) {
                        level[0] = asserted;
                        wire.set(asserted);
                    }
                }
            };
        }
    }
}
