package org.jkvm.vmm.snapshot;

import org.jkvm.devices.acpi.AcpiPmState;
import org.jkvm.devices.legacy.I8042State;
import org.jkvm.devices.legacy.RtcState;
import org.jkvm.devices.legacy.SerialState;
import org.jkvm.devices.timer.HpetState;
import org.jkvm.hypervisor.state.IrqchipState;
import org.jkvm.hypervisor.state.PitState;

/**
 * The PC platform's devices: the interrupt controllers and the PIT (from KVM's in-kernel ones or jkvm's models,
 * in the same form, so either backend restores them), the HPET (emu only; null on KVM), the kvmclock value (KVM
 * only, -1 otherwise), and COM1, the i8042, the CMOS RTC and the ACPI PM registers.
 */
public record PlatformState(IrqchipState irqchip, PitState pit, HpetState hpet, long kvmClockNanos,
                            SerialState serial, I8042State i8042, RtcState rtc, AcpiPmState acpiPm) {
    public PlatformState {
        if (irqchip == null || pit == null || serial == null || i8042 == null || rtc == null || acpiPm == null) {
            throw new IllegalArgumentException("platform state is incomplete");
        }
    }
}
