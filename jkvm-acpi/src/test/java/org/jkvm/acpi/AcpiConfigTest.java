package org.jkvm.acpi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class AcpiConfigTest {
    private static AcpiConfig with(int cpuCount, long baseGpa, int pmBasePort, int sciIrq, int ioApicId) {
        return new AcpiConfig(cpuCount, baseGpa, pmBasePort, sciIrq, ioApicId, 0xFEC0_0000L, 0xFEE0_0000L, 0xCF9, 6);
    }

    @Test
    void pcMatchesJkvmsMachine() {
        AcpiConfig pc = AcpiConfig.pc(4);
        assertThat(pc).isEqualTo(new AcpiConfig(4, 0xE0000, 0x600, 9, 4, 0xFEC0_0000L, 0xFEE0_0000L, 0xCF9, 0x06));
    }

    @Test
    void pcIoApicIdClearsEveryApicIdWhileEightBitsAllow() {
        assertThat(AcpiConfig.pc(1).ioApicId()).isEqualTo(1);
        assertThat(AcpiConfig.pc(254).ioApicId()).isEqualTo(254);
        assertThat(AcpiConfig.pc(300).ioApicId()).isEqualTo(AcpiConfig.MAX_IO_APIC_ID);
    }

    @Test
    void refusesBadCpuCounts() {
        assertThatThrownBy(() -> AcpiConfig.pc(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cpuCount 0");
        assertThatThrownBy(() -> AcpiConfig.pc(AcpiConfig.MAX_CPU_COUNT + 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cpuCount 4097");
    }

    @Test
    void refusesMisalignedOrNegativeBase() {
        assertThatThrownBy(() -> with(1, 0xE0008, 0x600, 9, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("baseGpa 0xE0008").hasMessageContaining("16-byte aligned");
        assertThatThrownBy(() -> with(1, -16, 0x600, 9, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("baseGpa");
    }

    @Test
    void refusesPmBlockOutsideIoSpace() {
        assertThatThrownBy(() -> with(1, 0xE0000, 0, 9, 1)).hasMessageContaining("pmBasePort 0x0");
        assertThatThrownBy(() -> with(1, 0xE0000, 0xFFF8, 9, 1)).hasMessageContaining("pmBasePort 0xFFF8");
        assertThat(with(1, 0xE0000, 0xFFF4, 9, 1).pmBasePort()).isEqualTo(0xFFF4);
    }

    @Test
    void refusesSciOnReservedOrDeviceIrqs() {
        for (int irq : new int[] {-1, 0, 1, 2, 4, 8, 16}) {
            assertThatThrownBy(() -> with(1, 0xE0000, 0x600, irq, 1)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("sciIrq " + irq);
        }
        assertThat(with(1, 0xE0000, 0x600, 10, 1).sciIrq()).isEqualTo(10);
    }

    @Test
    void refusesBadIoApicIdAddressesAndReset() {
        assertThatThrownBy(() -> with(1, 0xE0000, 0x600, 9, 255)).hasMessageContaining("ioApicId 255");
        assertThatThrownBy(() -> new AcpiConfig(1, 0xE0000, 0x600, 9, 1, 0x1_0000_0000L, 0xFEE0_0000L, 0xCF9, 6))
                .hasMessageContaining("ioApicGpa");
        assertThatThrownBy(() -> new AcpiConfig(1, 0xE0000, 0x600, 9, 1, 0xFEC0_0000L, 0xFEE0_0010L, 0xCF9, 6))
                .hasMessageContaining("localApicGpa");
        assertThatThrownBy(() -> new AcpiConfig(1, 0xE0000, 0x600, 9, 1, 0xFEC0_0000L, 0xFEE0_0000L, 0x10000, 6))
                .hasMessageContaining("resetPort");
        assertThatThrownBy(() -> new AcpiConfig(1, 0xE0000, 0x600, 9, 1, 0xFEC0_0000L, 0xFEE0_0000L, 0xCF9, 256))
                .hasMessageContaining("resetValue");
    }
}
