package org.jkvm.acpi;

/**
 * A Generic Address Structure (ACPI 6.5 §5.2.3.2): where a fixed-hardware register lives, 12 bytes in a table.
 *
 * @param addressSpaceId {@link #SYSTEM_MEMORY}, {@link #SYSTEM_IO}, ...
 * @param bitWidth       register width in bits (0 for a structure that describes nothing)
 * @param bitOffset      offset of the register in the address, in bits
 * @param accessSize     {@link #ACCESS_UNDEFINED}, {@link #ACCESS_BYTE}, ... {@link #ACCESS_QWORD}
 * @param address        the port number or guest-physical address
 */
public record GenericAddress(int addressSpaceId, int bitWidth, int bitOffset, int accessSize, long address) {
    public static final int SIZE_BYTES = 12;
    public static final int SYSTEM_MEMORY = 0;
    public static final int SYSTEM_IO = 1;
    /** Access size "undefined (legacy reasons)": the OS accesses the register by its bit width. */
    public static final int ACCESS_UNDEFINED = 0;
    public static final int ACCESS_BYTE = 1;
    public static final int ACCESS_WORD = 2;
    public static final int ACCESS_DWORD = 3;
    public static final int ACCESS_QWORD = 4;
    /** The all-zero structure: "not present". */
    public static final GenericAddress NONE = new GenericAddress(0, 0, 0, 0, 0);

    public GenericAddress {
        if (addressSpaceId < 0 || addressSpaceId > 0xFF || bitWidth < 0 || bitWidth > 0xFF || bitOffset < 0
                || bitOffset > 0xFF || accessSize < 0 || accessSize > ACCESS_QWORD) {
            throw new IllegalArgumentException("bad generic address fields: space " + addressSpaceId + ", width "
                    + bitWidth + ", offset " + bitOffset + ", access size " + accessSize);
        }
    }

    /** An I/O port register of {@code bitWidth} bits at {@code port}. */
    public static GenericAddress systemIo(int port, int bitWidth, int accessSize) {
        if (port < 0 || port > 0xFFFF) {
            throw new IllegalArgumentException(String.format("I/O port 0x%X is outside 0-0xFFFF", port));
        }
        return new GenericAddress(SYSTEM_IO, bitWidth, 0, accessSize, port);
    }

    void writeTo(ByteBuilder out) {
        out.u8(addressSpaceId).u8(bitWidth).u8(bitOffset).u8(accessSize).u64(address);
    }
}
