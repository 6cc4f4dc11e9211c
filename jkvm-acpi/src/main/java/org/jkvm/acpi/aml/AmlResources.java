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

    /** Large Word Address Space Descriptor (§6.4.3.5.3). */
    static final int WORD_ADDRESS_TAG = 0x88;
    /** Large DWord Address Space Descriptor (§6.4.3.5.2). */
    static final int DWORD_ADDRESS_TAG = 0x87;
    /** Large QWord Address Space Descriptor (§6.4.3.5.1). */
    static final int QWORD_ADDRESS_TAG = 0x8A;
    static final int SPACE_MEMORY = 0;
    static final int SPACE_IO = 1;
    static final int SPACE_BUS = 2;
    /** General flags of a bridge window: ResourceProducer, PosDecode, MinFixed, MaxFixed (§6.4.3.5.1, table 6.48). */
    static final int PRODUCER_FIXED = 0x0C;
    /** Memory type-specific flags: ReadWrite, NonCacheable (table 6.50). */
    static final int MEMORY_RW_NONCACHEABLE = 0x01;
    /** I/O type-specific flags: EntireRange (table 6.51). */
    static final int IO_ENTIRE_RANGE = 0x03;

    /** ASL {@code WordBusNumber(ResourceProducer, MinFixed, MaxFixed, PosDecode, 0, min, max, 0, count)}. */
    public static byte[] wordBusNumber(int minBus, int maxBus) {
        checkRange("bus", minBus, 0xFF);
        checkRange("bus", maxBus, 0xFF);
        return address(WORD_ADDRESS_TAG, 2, SPACE_BUS, 0, minBus, maxBus);
    }

    /** ASL {@code WordIO(ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange, 0, min, max, 0, length)}. */
    public static byte[] wordIo(int minPort, int maxPort) {
        checkRange("IO port", minPort, 0xFFFF);
        checkRange("IO port", maxPort, 0xFFFF);
        return address(WORD_ADDRESS_TAG, 2, SPACE_IO, IO_ENTIRE_RANGE, minPort, maxPort);
    }

    /** ASL {@code DWordMemory(ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite, ...)}. */
    public static byte[] dwordMemory(long baseGpa, long lengthBytes) {
        if (baseGpa < 0 || lengthBytes <= 0 || baseGpa + lengthBytes > 0x1_0000_0000L) {
            throw new IllegalArgumentException(String.format("DWordMemory 0x%X+0x%X is not below 4 GiB", baseGpa,
                    lengthBytes));
        }
        return address(DWORD_ADDRESS_TAG, 4, SPACE_MEMORY, MEMORY_RW_NONCACHEABLE, baseGpa,
                baseGpa + lengthBytes - 1);
    }

    /** ASL {@code QWordMemory(ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite, ...)}. */
    public static byte[] qwordMemory(long baseGpa, long lengthBytes) {
        if (baseGpa < 0 || lengthBytes <= 0 || baseGpa > Long.MAX_VALUE - lengthBytes) {
            throw new IllegalArgumentException(String.format("QWordMemory 0x%X+0x%X", baseGpa, lengthBytes));
        }
        return address(QWORD_ADDRESS_TAG, 8, SPACE_MEMORY, MEMORY_RW_NONCACHEABLE, baseGpa,
                baseGpa + lengthBytes - 1);
    }

    /**
     * An address space descriptor: tag, length, resource type, general flags, type-specific flags, then granularity,
     * minimum, maximum, translation offset and length, each {@code width} bytes.
     */
    private static byte[] address(int tag, int width, int space, int typeFlags, long min, long max) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(tag);
        Aml.writeLe(out, 3 + 5L * width, 2);
        out.write(space);
        out.write(PRODUCER_FIXED);
        out.write(typeFlags);
        Aml.writeLe(out, 0, width);
        Aml.writeLe(out, min, width);
        Aml.writeLe(out, max, width);
        Aml.writeLe(out, 0, width);
        Aml.writeLe(out, max - min + 1, width);
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
