package org.jkvm.vmm.device;

import java.time.Clock;
import java.util.function.IntConsumer;

import org.jkvm.devices.IoBus;
import org.jkvm.devices.acpi.AcpiPm;
import org.jkvm.devices.legacy.CmosRtc;
import org.jkvm.devices.legacy.DebugExit;
import org.jkvm.devices.legacy.I8042;
import org.jkvm.devices.legacy.PostCode;
import org.jkvm.devices.legacy.ResetControl;
import org.jkvm.devices.legacy.Serial16550;
import org.jkvm.hypervisor.IoHandler;
import org.jkvm.hypervisor.Vm;
import org.jkvm.memory.PcMemoryLayout;

/**
 * The PC platform's devices on their port-I/O and MMIO buses, and the vCPUs' {@link IoHandler}: every port or MMIO
 * exit is dispatched here. Addresses and IRQs are the PC's (and what jkvm's ACPI tables describe):
 * COM1 0x3F8 IRQ 4, i8042 0x60/0x64 IRQ 1, RTC 0x70 IRQ 8, POST 0x80, debug exit 0xF4, ACPI PM 0x600 SCI 9,
 * reset control 0xCF9. The PIT, PIC and IOAPIC are KVM's in-kernel ones on the kvm backend; on the software CPU the
 * PIC and IOAPIC are jkvm's ({@link InterruptRouting}).
 */
public final class DeviceManager implements IoHandler {
    public static final int COM1_PORT = 0x3f8;
    public static final int COM1_IRQ = 4;
    public static final int I8042_PORT = 0x60;
    public static final int I8042_IRQ = 1;
    public static final int RTC_PORT = 0x70;
    public static final int RTC_IRQ = 8;
    public static final int POST_PORT = 0x80;
    public static final int DEBUG_EXIT_PORT = 0xf4;
    public static final int PM_PORT = 0x600;
    public static final int SCI_IRQ = 9;
    public static final int S5_SLEEP_TYPE = 5;
    public static final int RESET_CONTROL_PORT = 0xcf9;

    private final IoBus pio = new IoBus();
    private final IoBus mmio = new IoBus();
    private final Serial16550 serial;
    private final AcpiPm acpiPm;
    private final CmosRtc rtc;

    public DeviceManager(Vm vm, PcMemoryLayout layout, IntConsumer consoleOutput, PlatformEvents events,
                         Clock clock) {
        InterruptRouting irqs = InterruptRouting.create(vm, pio, mmio);
        serial = new Serial16550(irqs.isaLine(COM1_IRQ), consoleOutput);
        pio.register(COM1_PORT, 8, serial);
        pio.register(I8042_PORT, 5, new I8042(irqs.isaLine(I8042_IRQ), () -> events.reset("keyboard controller")));
        rtc = new CmosRtc(clock, irqs.isaLine(RTC_IRQ));
        rtc.setMemorySizes(layout.lowRamEnd(), layout.sizeBytes() - layout.lowRamEnd());
        pio.register(RTC_PORT, 2, rtc);
        pio.register(POST_PORT, 1, new PostCode());
        pio.register(DEBUG_EXIT_PORT, 4, new DebugExit(events::debugExit));
        acpiPm = new AcpiPm(irqs.isaLine(SCI_IRQ), events::powerOff, S5_SLEEP_TYPE);
        pio.register(PM_PORT, 12, acpiPm);
        pio.register(RESET_CONTROL_PORT, 1, new ResetControl(() -> events.reset("reset control register")));
    }

    public Serial16550 serial() {
        return serial;
    }

    public AcpiPm acpiPm() {
        return acpiPm;
    }

    public IoBus pioBus() {
        return pio;
    }

    public IoBus mmioBus() {
        return mmio;
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
