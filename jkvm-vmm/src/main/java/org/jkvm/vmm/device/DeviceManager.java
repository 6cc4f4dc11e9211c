package org.jkvm.vmm.device;

import java.time.Clock;
import java.util.List;
import java.util.function.IntConsumer;

import org.jkvm.devices.BusDevice;
import org.jkvm.devices.IoBus;
import org.jkvm.devices.acpi.AcpiPm;
import org.jkvm.devices.legacy.CmosRtc;
import org.jkvm.devices.legacy.DebugExit;
import org.jkvm.devices.legacy.I8042;
import org.jkvm.devices.legacy.PostCode;
import org.jkvm.devices.legacy.PvPanic;
import org.jkvm.devices.legacy.ResetControl;
import org.jkvm.devices.legacy.Serial16550;
import org.jkvm.devices.timer.Hpet;
import org.jkvm.devices.timer.Pit;
import org.jkvm.hypervisor.IoHandler;
import org.jkvm.hypervisor.Vm;
import org.jkvm.block.DiskConfig;
import org.jkvm.memory.GuestMemory;
import org.jkvm.memory.PcMemoryLayout;

/**
 * The PC platform's devices on their port-I/O and MMIO buses, and the vCPUs' {@link IoHandler}: every port or MMIO
 * exit is dispatched here. Addresses and IRQs are the PC's (and what jkvm's ACPI tables describe):
 * COM1 0x3F8 IRQ 4, i8042 0x60/0x64 IRQ 1, RTC 0x70 IRQ 8, POST 0x80, debug exit 0xF4, pvpanic 0x505, ACPI PM
 * 0x600 SCI 9, reset control 0xCF9; PCI configuration at 0xCF8/0xCFC and ECAM, BAR windows and virtio-blk disks
 * ({@link PciPlatform}). The PIT, PIC and IOAPIC are KVM's in-kernel ones on the kvm backend; on the software CPU
 * the PIC, IOAPIC, PIT (0x40, port B 0x61, IRQ 0) and an HPET (0xFED00000) are jkvm's ({@link InterruptRouting},
 * {@link PlatformTimers}), and the timer thread also raises the RTC's IRQ 8 on time.
 */
public final class DeviceManager implements IoHandler, AutoCloseable {
    public static final int COM1_PORT = 0x3f8;
    public static final int COM1_IRQ = 4;
    public static final int I8042_PORT = 0x60;
    public static final int I8042_IRQ = 1;
    public static final int RTC_PORT = 0x70;
    public static final int RTC_IRQ = 8;
    public static final int POST_PORT = 0x80;
    public static final int DEBUG_EXIT_PORT = 0xf4;
    public static final int PVPANIC_PORT = 0x505;
    public static final int PM_PORT = 0x600;
    public static final int SCI_IRQ = 9;
    public static final int S5_SLEEP_TYPE = 5;
    public static final int RESET_CONTROL_PORT = 0xcf9;
    public static final int PIT_PORT = 0x40;
    public static final int PIT_IRQ = 0;
    public static final int PORT_B = 0x61;
    public static final long HPET_GPA = 0xfed0_0000L;

    private final IoBus pio = new IoBus();
    private final IoBus mmio = new IoBus();
    private final Serial16550 serial;
    private final AcpiPm acpiPm;
    private final CmosRtc rtc;
    private final PlatformTimers timers;
    private final PciPlatform pci;
    private final InterruptRouting irqs;
    private final I8042 i8042;
    private final Pit pit;
    private final Hpet hpet;

    /**
     * The platform's devices and the PCI bus with one virtio-blk device per disk (its queues in {@code memory}).
     *
     * @throws org.jkvm.hypervisor.HypervisorException when a disk cannot be opened
     */
    public DeviceManager(Vm vm, GuestMemory memory, PcMemoryLayout layout, IntConsumer consoleOutput,
                         PlatformEvents events, Clock clock, List<DiskConfig> disks) {
        this(vm, memory, layout, consoleOutput, events, clock, disks, 1, false);
    }

    /** As above, with {@code diskQueues} request queues per disk and, with {@code rng}, a virtio-rng device. */
    public DeviceManager(Vm vm, GuestMemory memory, PcMemoryLayout layout, IntConsumer consoleOutput,
                         PlatformEvents events, Clock clock, List<DiskConfig> disks, int diskQueues, boolean rng) {
        this(vm, memory, layout, consoleOutput, events, clock, disks, diskQueues, rng, java.util.Optional.empty());
    }

    /** As above, with a virtio-console device where {@code console} says. */
    public DeviceManager(Vm vm, GuestMemory memory, PcMemoryLayout layout, IntConsumer consoleOutput,
                         PlatformEvents events, Clock clock, List<DiskConfig> disks, int diskQueues, boolean rng,
                         java.util.Optional<org.jkvm.console.ConsoleConfig> console) {
        this(vm, memory, layout, consoleOutput, events, clock, disks, diskQueues, rng, console, List.of());
    }

    /** As above, with one virtio-net device per {@code nets} entry. */
    public DeviceManager(Vm vm, GuestMemory memory, PcMemoryLayout layout, IntConsumer consoleOutput,
                         PlatformEvents events, Clock clock, List<DiskConfig> disks, int diskQueues, boolean rng,
                         java.util.Optional<org.jkvm.console.ConsoleConfig> console,
                         List<org.jkvm.net.NetConfig> nets) {
        irqs = InterruptRouting.create(vm, pio, mmio);
        serial = new Serial16550(irqs.isaLine(COM1_IRQ), consoleOutput);
        pio.register(COM1_PORT, 8, serial);
        // The i8042's data (0x60) and command/status (0x64) ports, without 0x61-0x63: port 0x61 is the PIT's.
        i8042 = new I8042(irqs.isaLine(I8042_IRQ), () -> events.reset("keyboard controller"));
        pio.register(I8042_PORT, 1, i8042);
        pio.register(I8042_PORT + 4, 1, new OffsetDevice(i8042, 4));
        if (irqs.needsPit()) {
            // The VMM's timers: HPET, PIT and the RTC's interrupts, on one timer thread. In legacy replacement
            // mode the HPET takes IRQ 0 and IRQ 8 from the PIT and the RTC, as the chipset does.
            PlatformTimers[] holder = new PlatformTimers[1];
            Runnable wake = () -> holder[0].wake();
            hpet = new Hpet(irqs.gsis(), System::nanoTime, wake);
            pit = new Pit(hpet.unlessLegacyReplacement(irqs.isaLine(PIT_IRQ)), System::nanoTime, wake);
            rtc = new CmosRtc(clock, hpet.unlessLegacyReplacement(irqs.isaLine(RTC_IRQ)), wake);
            holder[0] = new PlatformTimers(List.of(pit, hpet, new RtcTimer(rtc)));
            timers = holder[0];
            pio.register(PIT_PORT, 4, pit);
            pio.register(PORT_B, 1, pit.portB());
            mmio.register(HPET_GPA, Hpet.LENGTH, hpet);
            timers.start();
        } else {
            timers = null; // KVM's in-kernel PIT owns 0x40-0x43 and 0x61
            hpet = null;
            pit = null;
            rtc = new CmosRtc(clock, irqs.isaLine(RTC_IRQ));
        }
        rtc.setMemorySizes(layout.lowRamEnd(), layout.sizeBytes() - layout.lowRamEnd());
        pio.register(RTC_PORT, 2, rtc);
        pio.register(POST_PORT, 1, new PostCode());
        pio.register(DEBUG_EXIT_PORT, 4, new DebugExit(events::debugExit));
        pio.register(PVPANIC_PORT, 1, new PvPanic(events::guestPanicked));
        acpiPm = new AcpiPm(irqs.isaLine(SCI_IRQ), events::powerOff, S5_SLEEP_TYPE);
        pio.register(PM_PORT, 12, acpiPm);
        pio.register(RESET_CONTROL_PORT, 1, new ResetControl(() -> events.reset("reset control register")));
        try {
            pci = new PciPlatform(vm, memory, layout, irqs, pio, mmio, disks, diskQueues, rng, console, nets);
        } catch (RuntimeException e) {
            if (timers != null) {
                timers.close();
            }
            throw e;
        }
    }

    /** Stops the timer thread and device request processing. */
    @Override
    public void close() {
        if (timers != null) {
            timers.close();
        }
        pci.stop();
    }

    /** True once device I/O has stopped (after {@link #close}): no device thread touches guest RAM any more. */
    public boolean ioStopped() {
        return pci.stopped();
    }

    /** Closes the disks and the notification eventfds: only once no vCPU thread runs. */
    public void release() {
        pci.close();
    }

    /** The PCI side: host bridge and disks. */
    public PciPlatform pci() {
        return pci;
    }

    /** A device registered at {@code base} that expects offsets as seen from {@code base - shift}. */
    private record OffsetDevice(BusDevice device, long shift) implements BusDevice {
        @Override
        public long read(long offset, int size) {
            return device.read(offset + shift, size);
        }

        @Override
        public void write(long offset, int size, long value) {
            device.write(offset + shift, size, value);
        }
    }

    /** Where the HPET is, or 0 when this platform has none (the kvm backend). */
    public long hpetGpa() {
        return timers != null ? HPET_GPA : 0;
    }

    /** The VMM's interrupt controllers (PIC and IOAPIC are null on a backend irqchip). */
    public InterruptRouting interruptRouting() {
        return irqs;
    }

    public I8042 i8042() {
        return i8042;
    }

    public CmosRtc rtc() {
        return rtc;
    }

    /** The VMM's PIT, or null when the backend has its own (KVM). */
    public Pit pit() {
        return pit;
    }

    /** The HPET, or null when the platform has none (KVM). */
    public Hpet hpet() {
        return hpet;
    }

    public Serial16550 serial() {
        return serial;
    }

    public AcpiPm acpiPm() {
        return acpiPm;
    }

    @Override
    public int pioRead(int port, int size) {
        return (int) pio.read(port, size);
    }

    @Override
    public void pioWrite(int port, int size, int value) {
        pio.write(port, size, Integer.toUnsignedLong(value));
    }

    @Override
    public long mmioRead(long gpa, int size) {
        return mmio.read(gpa, size);
    }

    @Override
    public void mmioWrite(long gpa, int size, long value) {
        mmio.write(gpa, size, value);
    }
}
