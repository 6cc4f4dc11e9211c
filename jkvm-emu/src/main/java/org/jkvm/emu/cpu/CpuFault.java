package org.jkvm.emu.cpu;

/**
 * A guest exception raised by an instruction (SDM vol. 3A 6.15 "Exception and interrupt reference"): the vector and
 * error code. One instance per vCPU is reused and carries no stack trace, so raising a guest fault allocates nothing.
 */
public final class CpuFault extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public static final int DE = 0, DB = 1, NMI = 2, BP = 3, OF = 4, BR = 5, UD = 6, NM = 7, DF = 8, TS = 10, NP = 11,
            SS = 12, GP = 13, PF = 14, MF = 16, AC = 17, MC = 18, XM = 19;

    public int vector;
    public int errorCode;
    public boolean hasErrorCode;

    CpuFault() {
        super(null, null, false, false);
    }

    @Override
    public String getMessage() {
        return "guest exception " + vector + (hasErrorCode ? " error code 0x" + Integer.toHexString(errorCode) : "");
    }
}
