package org.jkvm.vmm.device;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import org.jkvm.acpi.PciHostConfig;
import org.jkvm.block.DiskConfig;
import org.jkvm.block.RawDisk;
import org.jkvm.block.VirtioBlockDevice;
import org.jkvm.devices.IoBus;
import org.jkvm.hypervisor.HypervisorException;
import org.jkvm.hypervisor.Vm;
import org.jkvm.memory.GuestMemory;
import org.jkvm.memory.PcMemoryLayout;
import org.jkvm.pci.BarAllocator;
import org.jkvm.pci.HostBridge;
import org.jkvm.pci.PciBus;
import org.jkvm.pci.PciConfigIo;
import org.jkvm.pci.PciConfigSpace;
import org.jkvm.pci.PciEcam;
import org.jkvm.pci.PciWindow;
import org.jkvm.pci.virtio.VirtioPciDevice;
import org.jkvm.console.ConsoleBackend;
import org.jkvm.console.ConsoleConfig;
import org.jkvm.console.VirtioConsole;
import org.jkvm.net.NetConfig;
import org.jkvm.net.TapBackend;
import org.jkvm.net.VirtioNet;
import org.jkvm.rng.EntropySource;
import org.jkvm.rng.VirtioRng;
import org.jkvm.virtio.VirtioDevice;

/**
 * The PC's PCI side: host bridge at 00:00.0, configuration mechanism #1 at 0xCF8/0xCFC, ECAM for bus 0 at
 * {@link #ECAM_GPA}, the 32-bit MMIO window {@link #MMIO32_GPA}-0xDFFFFFFF (below ECAM, the IOAPIC and the LAPICs)
 * and a 64-bit window above RAM; one virtio-blk PCI device per disk in slots 1, 2, ... with firmware-assigned BARs
 * and INTA on GSI 16 + ((slot + pin) mod 4) (the DSDT's {@code _PRT}). Queue notifications go through one eventfd
 * per queue to the {@link EventLoop} thread: written by KVM itself (ioeventfd on the notify address) or by the
 * vCPU's MMIO write on the software CPU; completions interrupt through MSI-X ({@link MsiDelivery}: irqfd on KVM) or
 * INTx.
 */
public final class PciPlatform {
    public static final long MMIO32_GPA = 0xc000_0000L;
    public static final long MMIO32_BYTES = 0x2000_0000L;
    public static final long ECAM_GPA = 0xe000_0000L;
    public static final int INTX_GSI_BASE = 16;
    /** The 64-bit window: 32 GiB from the first 1 GiB boundary above RAM (and above 4 GiB)... */
    public static final long MMIO64_BYTES = 32L << 30;
    /** ... when it ends within the 40 physical address bits the software CPU reports. */
    public static final long PHYS_LIMIT = 1L << 40;
    /** PCI class of a virtio-blk function: mass storage, SCSI (what QEMU reports). */
    public static final int CLASS_STORAGE_SCSI = 0x010000;
    /** PCI class of virtio-console: simple communication controller, other (QEMU's virtio-serial-pci: 0x0780). */
    public static final int CLASS_COMMUNICATION = 0x078000;
    /** PCI class of virtio-net: network controller, Ethernet (QEMU's virtio-net-pci). */
    public static final int CLASS_ETHERNET = 0x020000;
    /** PCI class of virtio-rng: base class 0 (unclassified), subclass 0xFF, as QEMU's virtio-rng-pci ("00ff"). */
    public static final int CLASS_OTHER = 0x00ff00;
    /** Guest writes of this many bytes to a notify address reach the ioeventfd (Linux uses iowrite16). */
    static final int NOTIFY_WRITE_BYTES = 2;

    /** One disk: what the user asked for, its open image, its virtio-blk device, its PCI function and slot. */
    public record Disk(DiskConfig config, RawDisk image, VirtioBlockDevice blk, VirtioPciDevice device, int slot) {
    }

    private final PciBus bus;
    private final PciHostConfig host;
    private final EventLoop loop = new EventLoop();
    private final List<QueueEvent> events = new ArrayList<>();
    private final List<Disk> disks = new ArrayList<>();
    private final List<MsiDelivery> msiSinks = new ArrayList<>();
    private final VirtioRng rng;
    private final VirtioConsole console;
    private final List<Nic> nics = new ArrayList<>();

    /**
     * Builds the bus, registers it on {@code pio} and {@code mmio}, and opens and plugs every disk.
     *
     * @throws HypervisorException when a disk cannot be opened (naming it), with everything opened so far closed
     */
    public PciPlatform(Vm vm, GuestMemory memory, PcMemoryLayout layout, InterruptRouting irqs, IoBus pio,
                       IoBus mmio, List<DiskConfig> diskConfigs) {
        this(vm, memory, layout, irqs, pio, mmio, diskConfigs, 1, false);
    }

    /**
     * As above, with {@code diskQueues} request queues per disk (1 to 64; QEMU's default is one per vCPU) and, with
     * {@code rng}, a virtio-rng device after the disks.
     */
    public PciPlatform(Vm vm, GuestMemory memory, PcMemoryLayout layout, InterruptRouting irqs, IoBus pio,
                       IoBus mmio, List<DiskConfig> diskConfigs, int diskQueues, boolean rng) {
        this(vm, memory, layout, irqs, pio, mmio, diskConfigs, diskQueues, rng, java.util.Optional.empty());
    }

    /** As above, and with {@code console} a virtio-console device (hvc0) after the rng. */
    public PciPlatform(Vm vm, GuestMemory memory, PcMemoryLayout layout, InterruptRouting irqs, IoBus pio,
                       IoBus mmio, List<DiskConfig> diskConfigs, int diskQueues, boolean rng,
                       java.util.Optional<ConsoleConfig> console) {
        this(vm, memory, layout, irqs, pio, mmio, diskConfigs, diskQueues, rng, console, List.of());
    }

    /** As above, and one virtio-net device per {@code nets} entry after the console. */
    public PciPlatform(Vm vm, GuestMemory memory, PcMemoryLayout layout, InterruptRouting irqs, IoBus pio,
                       IoBus mmio, List<DiskConfig> diskConfigs, int diskQueues, boolean rng,
                       java.util.Optional<ConsoleConfig> console, List<NetConfig> nets) {
        PciWindow low = new PciWindow(MMIO32_GPA, MMIO32_BYTES);
        long highBase = Math.max(layout.ramEnd(), PcMemoryLayout.MMIO_HOLE_END);
        highBase = (highBase + PcMemoryLayout.GIB - 1) & -PcMemoryLayout.GIB;
        PciWindow high = highBase + MMIO64_BYTES <= PHYS_LIMIT ? new PciWindow(highBase, MMIO64_BYTES) : null;
        host = new PciHostConfig(ECAM_GPA, low.baseGpa(), low.sizeBytes(), high == null ? 0 : high.baseGpa(),
                high == null ? 0 : high.sizeBytes(), INTX_GSI_BASE);
        bus = new PciBus(high == null ? List.of(low) : List.of(low, high));
        BarAllocator allocator = new BarAllocator(low, high);
        bus.add(new HostBridge());
        PciConfigIo configIo = new PciConfigIo(bus);
        pio.register(PciConfigIo.ADDRESS_PORT, 1, configIo.address());
        pio.register(PciConfigIo.DATA_PORT, 4, configIo.data());
        mmio.register(ECAM_GPA, PciEcam.BUS_SIZE, new PciEcam(bus));
        for (PciWindow w : bus.windows()) {
            mmio.register(w.baseGpa(), w.sizeBytes(), bus.windowDevice(w));
        }
        try {
            for (DiskConfig config : diskConfigs) {
                addDisk(vm, memory, irqs, allocator, config, diskQueues);
            }
            if (rng) {
                VirtioRng device = new VirtioRng(EntropySource.host());
                this.rng = device;
                plug(vm, memory, irqs, allocator, device, CLASS_OTHER, "");
            } else {
                this.rng = null;
            }
            if (console.isPresent()) {
                ConsoleBackend backend;
                try {
                    backend = ConsoleBackend.open(console.get());
                } catch (java.io.IOException e) {
                    throw new HypervisorException("--console-dev " + console.get().kind().name().toLowerCase()
                            + "=" + console.get().path() + ": " + e.getMessage(), e);
                }
                VirtioConsole device = new VirtioConsole(backend, console.get().cols(), console.get().rows());
                this.console = device;
                Plugged p = plug(vm, memory, irqs, allocator, device, CLASS_COMMUNICATION, "");
                device.setInputKick(p.queueEvents()[VirtioConsole.RX]::signal);
            } else {
                this.console = null;
            }
            for (int i = 0; i < nets.size(); i++) {
                addNic(vm, memory, irqs, allocator, nets.get(i), i);
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        loop.start();
    }

    private void addDisk(Vm vm, GuestMemory memory, InterruptRouting irqs, BarAllocator allocator,
                         DiskConfig config, int queues) {
        RawDisk image;
        try {
            image = RawDisk.open(config);
        } catch (IOException e) {
            throw new HypervisorException("--disk " + config.path() + ": " + e.getMessage(), e);
        }
        VirtioBlockDevice blk;
        Plugged plugged;
        try {
            blk = new VirtioBlockDevice(image, config.idBytes(), queues);
            plugged = plug(vm, memory, irqs, allocator, blk, CLASS_STORAGE_SCSI, config.id().orElse(""));
        } catch (RuntimeException e) {
            image.close();
            throw e;
        }
        disks.add(new Disk(config, image, blk, plugged.device(), plugged.slot()));
    }

    /**
     * One virtio-net device on its TAP (opened here: created, or attached to by name), in the next slot. The TAP's
     * descriptors join the I/O thread edge-triggered: a readable TAP runs its receive queue, which stops reading
     * while the guest has no buffers (level-triggered, that would spin).
     */
    private void addNic(Vm vm, GuestMemory memory, InterruptRouting irqs, BarAllocator allocator, NetConfig config,
                        int index) {
        String name = config.id().orElse("net" + index);
        TapBackend tap;
        try {
            tap = TapBackend.open(config.ifname(), config.queues());
        } catch (org.jkvm.sys.Tap.TapException e) {
            throw new HypervisorException("--net " + name + ": " + e.getMessage(), e);
        }
        VirtioNet net = new VirtioNet(tap, config.macOr(index));
        Plugged p;
        try {
            p = plug(vm, memory, irqs, allocator, net, CLASS_ETHERNET, config.id().orElse(""));
        } catch (RuntimeException e) {
            net.close();
            throw e;
        }
        VirtioPciDevice device = p.device();
        QueueEvent[] ev = p.queueEvents();
        net.setQueueKick(q -> ev[q].signal());
        net.setConfigChangeHook(device::configChanged);
        for (int q = 0; q < config.queues(); q++) {
            int rxQueue = 2 * q;
            loop.add(tap.fd(q), org.jkvm.sys.Epoll.EPOLLIN | org.jkvm.sys.Epoll.EPOLLET,
                    () -> device.processQueue(rxQueue));
        }
        nics.add(new Nic(config, name, net, device, p.slot()));
    }

    /**
     * Puts {@code dev} on the bus behind the virtio-pci transport in the next free slot: one eventfd per queue on the
     * I/O thread (an ioeventfd on KVM), MSI-X with a vector per queue plus one for configuration changes, and INTx
     * on the slot's GSI; BARs assigned as firmware would.
     */
    private Plugged plug(Vm vm, GuestMemory memory, InterruptRouting irqs, BarAllocator allocator,
                         VirtioDevice dev, int pciClass, String id) {
        int slot = bus.devices().indexOf(null);
        if (slot < 0) {
            throw new HypervisorException("PCI bus 0 is full: no slot for " + dev.name());
        }
        QueueEvent[] queueEvents = new QueueEvent[dev.numQueues()];
        for (int q = 0; q < queueEvents.length; q++) {
            queueEvents[q] = new QueueEvent();
            events.add(queueEvents[q]);
        }
        int gsi = host.intxGsi(slot, 0);
        MsiDelivery msi = MsiDelivery.forDevice(vm, dev.numQueues() + 1);
        msiSinks.add(msi);
        VirtioPciDevice device = new VirtioPciDevice(dev, memory, pciClass, msi, irqs.gsiLine(gsi),
                hooks(vm, queueEvents), id);
        device.config().put(PciConfigSpace.INTERRUPT_LINE, 1, gsi);
        for (int q = 0; q < queueEvents.length; q++) {
            QueueEvent ev = queueEvents[q];
            int queue = q;
            loop.add(ev.fd(), () -> {
                ev.drain();
                device.processQueue(queue);
            });
        }
        allocator.assign(device);
        int got = bus.add(device);
        if (got != slot) {
            throw new IllegalStateException(dev.name() + " plugged in slot " + got + ", expected " + slot);
        }
        return new Plugged(device, slot, queueEvents);
    }

    /**
     * One NIC: what the user asked for, its name for the monitor ({@code id}, else {@code net<index>}), the device
     * on its TAP, its PCI function and slot.
     */
    public record Nic(NetConfig config, String name, VirtioNet net, VirtioPciDevice device, int slot) {
    }

    private record Plugged(VirtioPciDevice device, int slot, QueueEvent[] queueEvents) {}

    /**
     * The transport's hooks: a kick signals the queue's eventfd; a moved notify address moves the queue's in-kernel
     * ioeventfd (on KVM). Only what was assigned is deassigned; a failure (the guest overlapping two BARs makes KVM
     * refuse a second registration) is reported once and leaves that queue on the MMIO-exit path, which works too.
     */
    private static VirtioPciDevice.Hooks hooks(Vm vm, QueueEvent[] queueEvents) {
        long[] assigned = new long[queueEvents.length];
        java.util.Arrays.fill(assigned, -1);
        boolean[] reported = new boolean[1];
        return new VirtioPciDevice.Hooks() {
            @Override
            public void kick(int queue) {
                queueEvents[queue].signal();
            }

            @Override
            public synchronized void notifyMoved(int queue, long oldGpa, long newGpa) {
                int fd = queueEvents[queue].fd();
                try {
                    if (assigned[queue] >= 0) {
                        vm.ioEventFd(assigned[queue], NOTIFY_WRITE_BYTES, fd, false);
                        assigned[queue] = -1;
                    }
                    if (newGpa >= 0 && vm.ioEventFd(newGpa, NOTIFY_WRITE_BYTES, fd, true)) {
                        assigned[queue] = newGpa;
                    }
                } catch (RuntimeException e) {
                    if (!reported[0]) {
                        reported[0] = true;
                        System.err.println("jkvm: ioeventfd for a virtqueue notify address: " + e.getMessage()
                                + " (notifications take the MMIO exit path)");
                    }
                }
            }
        };
    }

    /** What the ACPI tables describe: ECAM, windows, INTx routing. */
    public PciHostConfig hostConfig() {
        return host;
    }

    public PciBus bus() {
        return bus;
    }

    /** The virtio-console device, if the VM has one. */
    public java.util.Optional<VirtioConsole> console() {
        return java.util.Optional.ofNullable(console);
    }

    /** The virtio-rng device, if the VM has one. */
    public java.util.Optional<VirtioRng> rng() {
        return java.util.Optional.ofNullable(rng);
    }

    public List<Disk> disks() {
        return List.copyOf(disks);
    }

    /** The NICs, in --net order. */
    public List<Nic> nics() {
        return List.copyOf(nics);
    }

    /** Stops request processing (the I/O thread); the devices stay as they are. */
    public void stop() {
        loop.close();
    }

    /** True once no request is being processed (the I/O thread has ended): guest RAM may then go away. */
    public boolean stopped() {
        return loop.stopped();
    }

    /** Stops processing and closes the eventfds and images. Only once no vCPU can touch the devices any more. */
    public void close() {
        if (console != null) {
            console.backend().close(); // first: its input thread signals a queue's eventfd
        }
        loop.close();
        for (QueueEvent e : events) {
            e.close();
        }
        events.clear();
        for (MsiDelivery m : msiSinks) {
            m.close();
        }
        msiSinks.clear();
        for (Disk d : disks) {
            d.image().close();
        }
        for (Nic n : nics) {
            n.net().close();
        }
        nics.clear();
    }
}
