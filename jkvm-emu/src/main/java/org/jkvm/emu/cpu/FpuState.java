package org.jkvm.emu.cpu;

import org.jkvm.hypervisor.Fpu;

/**
 * The x87 FPU, MMX and SSE state of one vCPU (SDM vol. 1 ch. 8.1 "x87 FPU execution environment", ch. 10.2 "SSE
 * programming environment"), in plain arrays so instructions allocate nothing: XMM0-15 as {@code long[32]} (low
 * quadword at {@code 2n}, high at {@code 2n+1}), the eight x87 data registers by physical number as a 64-bit
 * significand plus a 16-bit sign/exponent, TOP kept apart from the rest of the status word, and the abridged
 * (FXSAVE) tag: bit n set when physical register n is not empty.
 */
public final class FpuState {
    public static final int MXCSR_DEFAULT = 0x1f80;
    /** MXCSR bits software may set (DAZ included), as FXSAVE's MXCSR_MASK reports. */
    public static final int MXCSR_MASK = 0xffff;
    // FSW bits (SDM vol. 1 8.1.3).
    public static final int FSW_SF = 1 << 6, FSW_ES = 1 << 7, FSW_C0 = 1 << 8, FSW_C1 = 1 << 9, FSW_C2 = 1 << 10,
            FSW_C3 = 1 << 14, FSW_B = 1 << 15;

    public final long[] xmm = new long[32];
    public int mxcsr = MXCSR_DEFAULT;

    /** x87 data registers by physical number. */
    public final long[] mant = new long[8];
    public final int[] se = new int[8];
    public int top;
    /** FSW without TOP (bits 11-13 kept zero here). */
    public int fsw;
    public int fcw = 0x37f;
    /** Abridged tag: bit n set when physical register n holds a value. */
    public int tags;
    public int fop;
    public long fip, fdp;
    public int fcs, fds;

    /** The soft-float unit, shared by SSE and x87. */
    public final SoftFloat sf = new SoftFloat();
    /** Scratch for 128-bit operands and results. */
    public final long[] t = new long[8];

    /** FNINIT (SDM vol. 2A FINIT/FNINIT): control word 0x37F, status 0, all registers empty, pointers cleared. */
    public void finit() {
        fcw = 0x37f;
        fsw = 0;
        top = 0;
        tags = 0;
        fop = 0;
        fip = fdp = 0;
        fcs = fds = 0;
    }

    /** The full status word with TOP. */
    public int statusWord() {
        return (fsw & ~0x3800) | (top << 11);
    }

    public void setStatusWord(int v) {
        fsw = v & ~0x3800 & 0xffff;
        top = (v >>> 11) & 7;
    }

    /** Physical register number of ST(i). */
    public int phys(int i) {
        return (top + i) & 7;
    }

    /**
     * The full 16-bit tag word (FNSTENV/FNSAVE): per physical register 00 valid, 01 zero, 10 special (NaN, infinity,
     * denormal, unsupported), 11 empty, computed from the register contents (SDM vol. 1 8.1.7).
     */
    public int fullTagWord() {
        int w = 0;
        for (int p = 0; p < 8; p++) {
            int tag;
            if ((tags & (1 << p)) == 0) {
                tag = 3;
            } else {
                int e = se[p] & 0x7fff;
                long m = mant[p];
                if (e == 0x7fff) {
                    tag = 2;
                } else if (e == 0) {
                    tag = m == 0 ? 1 : 2;
                } else {
                    tag = m < 0 ? 0 : 2;
                }
            }
            w |= tag << (2 * p);
        }
        return w;
    }

    /** Loads the abridged tag from a full tag word: only "empty" (11) matters. */
    public void setFullTagWord(int w) {
        int t = 0;
        for (int p = 0; p < 8; p++) {
            if (((w >>> (2 * p)) & 3) != 3) {
                t |= 1 << p;
            }
        }
        tags = t;
    }

    /** This state in KVM's {@code struct kvm_fpu} form: fpr in ST(i) order as FXSAVE stores it. */
    public Fpu toKvm() {
        byte[] fpr = new byte[128];
        for (int i = 0; i < 8; i++) {
            int p = phys(i);
            putLong(fpr, 16 * i, mant[p]);
            fpr[16 * i + 8] = (byte) se[p];
            fpr[16 * i + 9] = (byte) (se[p] >>> 8);
        }
        byte[] x = new byte[256];
        for (int i = 0; i < 32; i++) {
            putLong(x, 8 * i, xmm[i]);
        }
        return new Fpu(fpr, fcw, statusWord(), tags, fop, fip, fdp, x, mxcsr);
    }

    /** Loads a {@code struct kvm_fpu}; MXCSR bits outside {@link #MXCSR_MASK} are ignored. */
    public void fromKvm(Fpu f) {
        fcw = f.fcw() & 0xffff;
        setStatusWord(f.fsw());
        tags = f.ftwx() & 0xff;
        fop = f.lastOpcode() & 0x7ff;
        fip = f.lastIp();
        fdp = f.lastDp();
        byte[] fpr = f.fpr();
        for (int i = 0; i < 8; i++) {
            int p = phys(i);
            mant[p] = getLong(fpr, 16 * i);
            se[p] = (fpr[16 * i + 8] & 0xff) | (fpr[16 * i + 9] & 0xff) << 8;
        }
        byte[] x = f.xmm();
        for (int i = 0; i < 32; i++) {
            xmm[i] = getLong(x, 8 * i);
        }
        mxcsr = f.mxcsr() & MXCSR_MASK;
    }

    private static void putLong(byte[] b, int o, long v) {
        for (int i = 0; i < 8; i++) {
            b[o + i] = (byte) (v >>> (8 * i));
        }
    }

    private static long getLong(byte[] b, int o) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v |= (b[o + i] & 0xffL) << (8 * i);
        }
        return v;
    }
}
