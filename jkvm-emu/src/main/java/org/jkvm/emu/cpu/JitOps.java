package org.jkvm.emu.cpu;

/**
 * Small single-purpose forms of {@link Alu}'s operations for {@link Translator}'s code: each is called with a
 * constant operand size (and count), is small enough for HotSpot to inline at every call site, and records the flags
 * exactly as {@link Alu#alu} and {@link Alu#shift} do (the differential tests run both paths).
 */
public final class JitOps {
    private JitOps() {}

    public static long add(Cpu c, int size, long dst, long src) {
        long res = dst + src;
        c.fOp = Flags.ADD;
        c.fSize = size;
        c.fDst = dst;
        c.fSrc = src;
        c.fRes = res;
        c.fAux = 0;
        return res & Flags.mask(size);
    }

    public static long sub(Cpu c, int size, long dst, long src) {
        long res = dst - src;
        c.fOp = Flags.SUB;
        c.fSize = size;
        c.fDst = dst;
        c.fSrc = src;
        c.fRes = res;
        c.fAux = 0;
        return res & Flags.mask(size);
    }

    /** AND, OR, XOR, TEST: the result is already computed. */
    public static long logic(Cpu c, int size, long res) {
        c.fOp = Flags.LOGIC;
        c.fSize = size;
        c.fRes = res;
        return res & Flags.mask(size);
    }

    /** SHL/SAL by a count in 1..31 (or 1..63 at size 8), as Alu.shift. */
    public static long shl(Cpu c, int size, long v, int count) {
        int bits = size * 8;
        long m = Flags.mask(size);
        v &= m;
        long res;
        boolean cf;
        if (count > bits) {
            res = 0;
            cf = false;
        } else {
            res = count == 64 ? 0 : (v << count) & m;
            cf = ((v >>> (bits - count)) & 1) != 0;
        }
        boolean of = ((res & Flags.signBit(size)) != 0) ^ cf;
        Flags.setArith(c, (cf ? Cpu.CF : 0) | (of ? Cpu.OF : 0) | Flags.szp(res, size));
        return res;
    }

    public static long shr(Cpu c, int size, long v, int count) {
        int bits = size * 8;
        v &= Flags.mask(size);
        long res;
        boolean cf;
        if (count > bits) {
            res = 0;
            cf = false;
        } else {
            res = count == 64 ? 0 : v >>> count;
            cf = ((v >>> (count - 1)) & 1) != 0;
        }
        boolean of = (v & Flags.signBit(size)) != 0;
        Flags.setArith(c, (cf ? Cpu.CF : 0) | (of ? Cpu.OF : 0) | Flags.szp(res, size));
        return res;
    }

    public static long sar(Cpu c, int size, long v, int count) {
        int bits = size * 8;
        long m = Flags.mask(size);
        v &= m;
        long sv = (v << (64 - bits)) >> (64 - bits);
        int n = Math.min(count, bits - 1);
        long res = (sv >> n) & m;
        boolean cf = count >= bits ? (v & Flags.signBit(size)) != 0 : ((sv >> (count - 1)) & 1) != 0;
        Flags.setArith(c, (cf ? Cpu.CF : 0) | Flags.szp(res, size));
        return res;
    }

    /** ROL/ROR: only CF and OF change, so the other flags are made explicit first. */
    public static long rol(Cpu c, int size, long v, int count) {
        int bits = size * 8;
        long m = Flags.mask(size);
        v &= m;
        int n = count & (bits - 1);
        long res = n == 0 ? v : ((v << n) | (v >>> (bits - n))) & m;
        boolean cf = (res & 1) != 0;
        boolean of = ((res & Flags.signBit(size)) != 0) ^ cf;
        rotateFlags(c, cf, of);
        return res;
    }

    public static long ror(Cpu c, int size, long v, int count) {
        int bits = size * 8;
        long m = Flags.mask(size);
        v &= m;
        int n = count & (bits - 1);
        long res = n == 0 ? v : ((v >>> n) | (v << (bits - n))) & m;
        long sb = Flags.signBit(size);
        boolean cf = (res & sb) != 0;
        boolean of = cf ^ ((res & (sb >>> 1)) != 0);
        rotateFlags(c, cf, of);
        return res;
    }

    private static void rotateFlags(Cpu c, boolean cf, boolean of) {
        long f = Flags.arith(c) & ~(Cpu.CF | Cpu.OF);
        c.fOp = Flags.NONE;
        c.fAux = f | (cf ? Cpu.CF : 0) | (of ? Cpu.OF : 0);
    }
}
