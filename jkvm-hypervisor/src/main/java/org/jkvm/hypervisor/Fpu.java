package org.jkvm.hypervisor;

/**
 * x87 and SSE state: struct kvm_fpu. {@code fpr} is 8 registers of 16 bytes (80-bit values, padded), {@code xmm}
 * is 16 registers of 16 bytes.
 */
public record Fpu(byte[] fpr, int fcw, int fsw, int ftwx, int lastOpcode, long lastIp, long lastDp,
                  byte[] xmm, int mxcsr) {
    public Fpu {
        if (fpr.length != 128 || xmm.length != 256) {
            throw new IllegalArgumentException("fpr must be 128 bytes and xmm 256");
        }
        fpr = fpr.clone();
        xmm = xmm.clone();
    }

    /** The state after FINIT and a reset MXCSR: what Linux's boot protocol expects. */
    public static Fpu initial() {
        return new Fpu(new byte[128], 0x37f, 0, 0, 0, 0, 0, new byte[256], 0x1f80);
    }

    @Override
    public byte[] fpr() {
        return fpr.clone();
    }

    @Override
    public byte[] xmm() {
        return xmm.clone();
    }
}
