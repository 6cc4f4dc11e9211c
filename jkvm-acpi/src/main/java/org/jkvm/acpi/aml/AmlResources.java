package org.jkvm.acpi.aml;

import java.io.ByteArrayOutputStream;

/**
 * Resource descriptors for {@code _CRS} buffers (ACPI 6.5 §6.4, "Resource Data Types for ACPI") and the ASL
 * {@code ResourceTemplate()} that wraps them with an End Tag in an AML Buffer. Each method returns raw descriptor
 * bytes; {@link #template(byte[]...)} turns a list of them into a term.
 */
public final class AmlResources {
    /** Small I/O Port Descriptor, 16-bit decode (§6.4.2.5): tag 0x47 (type 0x08, length 7). */
    static final int IO_PORT_TAG = 0x47;
    /** Small IRQ Descriptor without information byte (§6.4.2.1): tag 0x22 (type 0x04, length 2). */
    static final int IRQ_NO_FLAGS_TAG = 0x22;
    /** Small End Tag (§6.4.2.9): tag 0x79 (type 0x0F, length 1). */
    static final int END_TAG = 0x79;
    /** Large 32-Bit Fixed Memory Range Descriptor (§6.4.3.4): tag 0x86, length 9. */
    static final int MEMORY32_FIXED_TAG = 0x86;

    private AmlResources() {
    }

    /**
     * ASL {@code IO(Decode16, minPort, maxPort, alignment, length)}.
     *
     * @throws IllegalArgumentException if a port is outside 0-0xFFFF, alignment or length outside 0-0xFF, or
     *                                  minPort &gt; maxPort
     */
    public static byte[] io16(int minPort, int maxPort, int alignment, int lengthBytes) {
        checkRange("IO minimum port", minPort, 0xFFFF);
        checkRange("IO maximum port", maxPort, 0xFFFF);
        checkRange("IO alignment", alignment, 0xFF);
        checkRange("IO length", lengthBytes, 0xFF);
        if (minPort > maxPort) {
            throw new IllegalArgumentException(String.format("IO minimum port 0x%X above maximum 0x%X", minPort, maxPort));
        }
        return new byte[] {(byte) IO_PORT_TAG, 0x01, (byte) minPort, (byte) (minPort >>> 8), (byte) maxPort,
            (byte) (maxPort >>> 8), (byte) alignment, (byte) lengthBytes};
    }

    /**
     * ASL {@code IRQNoFlags() {irqs}}: ISA IRQs, edge-triggered, active-high, exclusive.
     *
     * @throws IllegalArgumentException if no IRQ is given or one is outside 0-15
     */
    public static byte[] irqNoFlags(int... irqs) {
        if (irqs.length == 0) {
            throw new IllegalArgumentException("IRQNoFlags needs at least one IRQ");
        }
        int mask = 0;
        for (int irq : irqs) {
            checkRange("ISA IRQ", irq, 15);
            mask |= 1 << irq;
        }
        return new byte[] {(byte) IRQ_NO_FLAGS_TAG, (byte) mask, (byte) (mask >>> 8)};
    }

    /**
     * ASL {@code Memory32Fixed(ReadWrite|ReadOnly, baseGpa, lengthBytes)}.
     *
     * @throws IllegalArgumentException if the range does not lie below 4 GiB
     */
    public static byte[] memory32Fixed(boolean writable, long baseGpa, long lengthBytes) {
        if (baseGpa < 0 || lengthBytes < 0 || baseGpa > 0xFFFF_FFFFL || lengthBytes > 0xFFFF_FFFFL
                || baseGpa + lengthBytes > 0x1_0000_0000L) {
            throw new IllegalArgumentException(String.format(
                    "Memory32Fixed range 0x%X+0x%X does not lie below 4 GiB", baseGpa, lengthBytes));
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(MEMORY32_FIXED_TAG);
        Aml.writeLe(out, 9, 2);
        out.write(writable ? 1 : 0);
        Aml.writeLe(out, baseGpa, 4);
        Aml.writeLe(out, lengthBytes, 4);
        return out.toByteArray();
    }

    /**
     * ASL {@code ResourceTemplate() { descriptors }}: a Buffer holding the descriptors and an End Tag whose checksum
     * byte is 0 ("treated as if the checksum operation succeeded", §6.4.2.9), as iasl emits it.
     */
    public static AmlTerm template(byte[]... descriptors) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] descriptor : descriptors) {
            out.writeBytes(descriptor);
        }
        out.write(END_TAG);
        out.write(0);
        return Aml.buffer(out.toByteArray());
    }

    private static void checkRange(String what, int value, int max) {
        if (value < 0 || value > max) {
            throw new IllegalArgumentException(String.format("%s %d (0x%X) is outside 0-0x%X", what, value, value, max));
        }
    }
}
