package org.jkvm.acpi.aml;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** Descriptor layouts from ACPI 6.5 §6.4.2 and §6.4.3. */
class AmlResourcesTest {
    private static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }

    @Test
    void ioPortDescriptor() {
        assertThat(hex(AmlResources.io16(0x3F8, 0x3F8, 1, 8))).isEqualTo("4701f803f803" + "01" + "08");
        assertThat(hex(AmlResources.io16(0x60, 0x64, 4, 1))).isEqualTo("470160006400" + "04" + "01");
        assertThatThrownBy(() -> AmlResources.io16(0x10000, 0x10000, 1, 1)).hasMessageContaining("minimum port");
        assertThatThrownBy(() -> AmlResources.io16(0x64, 0x60, 1, 1)).hasMessageContaining("above maximum");
        assertThatThrownBy(() -> AmlResources.io16(0x60, 0x60, 1, 256)).hasMessageContaining("IO length");
    }

    @Test
    void irqDescriptorIsABitMask() {
        assertThat(hex(AmlResources.irqNoFlags(4))).isEqualTo("221000");
        assertThat(hex(AmlResources.irqNoFlags(8))).isEqualTo("220001");
        assertThat(hex(AmlResources.irqNoFlags(1, 12))).isEqualTo("220210");
        assertThatThrownBy(AmlResources::irqNoFlags).hasMessageContaining("at least one");
        assertThatThrownBy(() -> AmlResources.irqNoFlags(16)).hasMessageContaining("ISA IRQ 16");
    }

    @Test
    void memory32FixedDescriptor() {
        assertThat(hex(AmlResources.memory32Fixed(true, 0xFEC0_0000L, 0x1000)))
                .isEqualTo("860900" + "01" + "0000c0fe" + "00100000");
        assertThatThrownBy(() -> AmlResources.memory32Fixed(true, 0xFFFF_F000L, 0x2000))
                .hasMessageContaining("below 4 GiB");
    }

    @Test
    void templateIsABufferEndingWithAnEndTag() {
        AmlTerm template = AmlResources.template(AmlResources.irqNoFlags(4));
        // BufferOp, PkgLength 8, BufferSize 5 (ByteConst), IRQ descriptor, End Tag with zero checksum.
        assertThat(hex(template.toBytes())).isEqualTo("1108" + "0a05" + "221000" + "7900");
        assertThat(hex(AmlResources.template().toBytes())).isEqualTo("1105" + "0a02" + "7900");
    }
}
