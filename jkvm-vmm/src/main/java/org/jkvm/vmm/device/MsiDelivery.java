package org.jkvm.vmm.device;

import java.util.concurrent.atomic.AtomicReferenceArray;

import org.jkvm.hypervisor.Vm;
import org.jkvm.pci.MsiSink;

/**
 * Turns a device's MSI-X vectors (PCI 3.0 section 6.8) into interrupts, one instance per device:
 * <ul>
 * <li>KVM (the backend's irqchip with MSI routes): each vector the guest programs gets a GSI with an MSI route
 * (KVM_SET_GSI_ROUTING) and an eventfd bound to it (KVM_IRQFD); firing the vector is one eventfd write, and the
 * kernel delivers it. A vector whose route could not be set up (the table is full) falls back to
 * KVM_SIGNAL_MSI.
 * <li>jkvm's own irqchip (the software CPU): the message is decoded as Intel SDM vol. 3A 11.11 describes and handed
 * to the local APICs: address 0xFEE0_0000 | destination ID (bits 19:12) | RH (bit 3) | DM (bit 2, logical); data:
 * vector (7:0), delivery mode (10:8), level (14), trigger mode (15). A message to any other address (a write to
 * memory on real hardware) is dropped and reported once.
 * </ul>
 * Masking and pending bits are the MSI-X table's business ({@link org.jkvm.pci.MsixTable}): this sees only vectors
 * that are to be sent.
 */
abstract sealed class MsiDelivery implements MsiSink, AutoCloseable
        permits MsiDelivery.Routed, MsiDelivery.Signalled, MsiDelivery.Decoded {

    /** The delivery for a device with {@code vectors} MSI-X vectors on {@code vm}. */
    static MsiDelivery forDevice(Vm vm, int vectors) {
        return switch (vm.irqchip()) {
            case BACKEND -> vm.supportsMsiRoutes() ? new Routed(vm, vectors) : new Signalled(vm);
            case VMM -> new Decoded(vm);
        };
    }

    /** Releases the routes and eventfds; only once no vector can fire any more. */
    @Override
    public void close() {
    }

    /** KVM_SIGNAL_MSI per interrupt. */
    static final class Signalled extends MsiDelivery {
        private final Vm vm;

        Signalled(Vm vm) {
            this.vm = vm;
        }

        @Override
        public void signal(int vector, long address, int data) {
            vm.signalMsi(address, data);
        }
    }

    /** An MSI route and an irqfd per programmed vector. */
    static final class Routed extends MsiDelivery {
        private final Vm vm;
        private final int[] gsis;
        private final AtomicReferenceArray<QueueEvent> irqfds;
        private boolean reported;
        private boolean closed;

        Routed(Vm vm, int vectors) {
            this.vm = vm;
            this.gsis = new int[vectors];
            java.util.Arrays.fill(gsis, -1);
            this.irqfds = new AtomicReferenceArray<>(vectors);
        }

        @Override
        public synchronized void programmed(int vector, long address, int data) {
            if (vector < 0 || vector >= gsis.length || closed) {
                return;
            }
            try {
                if (gsis[vector] < 0) {
                    int gsi = vm.allocateMsiGsi();
                    gsis[vector] = gsi;
                    vm.setMsiRoute(gsi, address, data);
                    QueueEvent fd = new QueueEvent();
                    try {
                        vm.irqfd(fd.fd(), gsi, true);
                    } catch (RuntimeException e) {
                        fd.close();
                        throw e;
                    }
                    irqfds.set(vector, fd);
                } else {
                    vm.setMsiRoute(gsis[vector], address, data);
                }
            } catch (RuntimeException e) {
                if (!reported) {
                    reported = true;
                    System.err.println("jkvm: MSI route for vector " + vector + ": " + e.getMessage()
                            + " (using KVM_SIGNAL_MSI)");
                }
                QueueEvent fd = irqfds.getAndSet(vector, null);
                if (fd != null) {
                    fd.close();
                }
            }
        }

        @Override
        public void signal(int vector, long address, int data) {
            QueueEvent fd = vector >= 0 && vector < gsis.length ? irqfds.get(vector) : null;
            if (fd != null) {
                fd.signal();
            } else {
                vm.signalMsi(address, data);
            }
        }

        @Override
        public synchronized void close() {
            closed = true;
            for (int v = 0; v < gsis.length; v++) {
                QueueEvent fd = irqfds.getAndSet(v, null);
                if (fd != null) {
                    try {
                        vm.irqfd(fd.fd(), gsis[v], false);
                    } catch (RuntimeException e) {
                        // closing the eventfd below also detaches it from KVM (EPOLLHUP)
                    }
                    fd.close();
                }
            }
        }
    }

    /** Decoded for jkvm's local APICs. */
    static final class Decoded extends MsiDelivery {
        private final Vm vm;
        private volatile boolean reported;

        Decoded(Vm vm) {
            this.vm = vm;
        }

        @Override
        public void signal(int vector, long address, int data) {
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
            int apicVector = data & 0xff;
            int mode = (data >>> 8) & 7;
            boolean levelTriggered = (data & 0x8000) != 0;
            vm.deliverApicMessage(destination, logical, apicVector, mode, true, levelTriggered);
        }
    }
}
