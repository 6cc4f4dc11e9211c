package org.jkvm.emu;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

import org.jkvm.hypervisor.Regs;
import org.jkvm.hypervisor.Sregs;
import org.jkvm.hypervisor.VcpuExit;
import org.jkvm.sys.NativeCode;

/**
 * Runs a snippet on the host CPU and on the emulator with the same general registers, flags, x87/SSE state (an
 * FXSAVE image) and a 64-byte data buffer that RSI points to, and reports the differences: registers but RSP and RSI,
 * the flags in a mask, the FXSAVE image after the snippet (but FOP/FIP/FDP, which hold host addresses natively, and
 * MXCSR_MASK, a model constant) and the data buffer. On the emulator the snippet runs between FXRSTOR64 and FXSAVE64
 * with RIP-relative operands, so those two instructions are exercised by every case.
 */
final class FpuHarness implements AutoCloseable {
    static final long IMAGE = 0x200000, DATA = 0x201000;
    static final int DATA_BYTES = 128;

    final NativeCode nat = new NativeCode();
    final TestMachine emu = TestMachine.longMode();
    final Arena arena = Arena.ofConfined();
    final MemorySegment block = arena.allocate(NativeCode.FPU_BLOCK_BYTES, 64);
    final MemorySegment data = arena.allocate(DATA_BYTES, 64);

    final long[] gpr = new long[16];
    /** FSW bits compared (x87 condition codes the SDM leaves undefined are cleared by the caller). */
    int fswMask = 0xffff;
    long flagsIn = 2;
    final byte[] image = new byte[512];
    final byte[] dataIn = new byte[DATA_BYTES];

    // Results
    final long[] natGpr = new long[17], emuGpr = new long[17];
    final byte[] natImage = new byte[512], emuImage = new byte[512];
    final byte[] natData = new byte[DATA_BYTES], emuData = new byte[DATA_BYTES];

    FpuHarness() {
        Sregs s = emu.cpu.getSregs();
        emu.cpu.setSregs(s.withControl(s.cr0(), s.cr3(), s.cr4() | 0x600, s.efer()));
    }

    /** A default image: FCW 0x37F, MXCSR 0x1F80, everything else zero. */
    void resetImage() {
        java.util.Arrays.fill(image, (byte) 0);
        putShort(image, 0, 0x37f);
        putInt(image, 24, 0x1f80);
    }

    /** Runs {@code code} on both; returns a description of the differences, or null. */
    String run(byte[] code, long flagMask) {
        for (int i = 0; i < 16; i++) {
            block.set(ValueLayout.JAVA_LONG, 8L * i, i == 6 ? data.address() : gpr[i]);
        }
        block.set(ValueLayout.JAVA_LONG, NativeCode.RFLAGS_OFFSET, flagsIn);
        MemorySegment.copy(image, 0, block, ValueLayout.JAVA_BYTE, NativeCode.FXSAVE_OFFSET, 512);
        MemorySegment.copy(dataIn, 0, data, ValueLayout.JAVA_BYTE, 0, DATA_BYTES);
        nat.runWithFpu(code, block);
        for (int i = 0; i < 16; i++) {
            natGpr[i] = block.get(ValueLayout.JAVA_LONG, 8L * i);
        }
        natGpr[16] = block.get(ValueLayout.JAVA_LONG, NativeCode.RFLAGS_OFFSET);
        MemorySegment.copy(block, ValueLayout.JAVA_BYTE, NativeCode.FXSAVE_OFFSET, natImage, 0, 512);
        MemorySegment.copy(data, ValueLayout.JAVA_BYTE, 0, natData, 0, DATA_BYTES);

        ByteArrayOutputStream b = new ByteArrayOutputStream();
        long start = TestMachine.CODE;
        // fxrstor64 [rip + disp32]
        b.writeBytes(new byte[] {0x48, 0x0f, (byte) 0xae, 0x0d});
        writeInt(b, (int) (IMAGE - (start + 8)));
        b.writeBytes(code);
        long next = start + b.size() + 8;
        b.writeBytes(new byte[] {0x48, 0x0f, (byte) 0xae, 0x05});
        writeInt(b, (int) (IMAGE - next));
        b.write(0xf4);
        byte[] prog = b.toByteArray();
        emu.load(start, prog);
        emu.mem.write(IMAGE, image);
        emu.mem.write(DATA, dataIn);
        long[] in = gpr;
        emu.cpu.setRegs(new Regs(in[0], in[3], in[1], in[2], DATA, in[7], 0x8ff0, in[5], in[8], in[9], in[10],
                in[11], in[12], in[13], in[14], in[15], start, flagsIn));
        VcpuExit exit = emu.run();
        Regs g = emu.cpu.getRegs();
        long[] e = {g.rax(), g.rcx(), g.rdx(), g.rbx(), g.rsp(), g.rbp(), g.rsi(), g.rdi(), g.r8(), g.r9(),
                g.r10(), g.r11(), g.r12(), g.r13(), g.r14(), g.r15(), g.rflags()};
        System.arraycopy(e, 0, emuGpr, 0, 17);
        emu.mem.read(IMAGE, emuImage, 0, 512);
        emu.mem.read(DATA, emuData, 0, DATA_BYTES);

        StringBuilder diff = new StringBuilder();
        if (exit != VcpuExit.HLT || g.rip() != start + prog.length) {
            diff.append(" exit=").append(exit).append(" rip=").append(Long.toHexString(g.rip())).append(' ')
                    .append(emu.cpu.lastExitDetail());
            return diff.toString();
        }
        for (int i = 0; i < 16; i++) {
            if (i != 4 && i != 6 && natGpr[i] != emuGpr[i]) {
                diff.append(" r").append(i).append(" native=").append(Long.toHexString(natGpr[i]))
                        .append(" emu=").append(Long.toHexString(emuGpr[i]));
            }
        }
        if (((natGpr[16] ^ emuGpr[16]) & flagMask) != 0) {
            diff.append(" flags native=").append(Long.toHexString(natGpr[16] & flagMask)).append(" emu=")
                    .append(Long.toHexString(emuGpr[16] & flagMask));
        }
        for (int off = 0; off < 512; off += 16) {
            boolean differs = false;
            for (int k = off; k < off + 16; k++) {
                int m = k == 2 ? fswMask & 0xff : k == 3 ? fswMask >>> 8 : 0xff;
                if (!(k >= 6 && k < 24) && !(k >= 28 && k < 32) && ((natImage[k] ^ emuImage[k]) & m) != 0) {
                    differs = true;
                }
            }
            if (differs) {
                diff.append("\n    image+").append(off).append(" native=").append(hex(natImage, off, 16))
                        .append(" emu=").append(hex(emuImage, off, 16));
            }
        }
        if (!java.util.Arrays.equals(natData, emuData)) {
            diff.append("\n    data native=").append(hex(natData, 0, DATA_BYTES)).append(" emu=")
                    .append(hex(emuData, 0, DATA_BYTES));
        }
        return diff.isEmpty() ? null : diff.toString();
    }

    /** A description of the inputs for a failure message. */
    String inputs(byte[] code) {
        return "[" + hex(code, 0, code.length) + "] flags=" + Long.toHexString(flagsIn) + "\n    image in: fcw/fsw/ftw="
                + hex(image, 0, 6) + " mxcsr=" + hex(image, 24, 4) + "\n    st: " + hex(image, 32, 128)
                + "\n    xmm: " + hex(image, 160, 256) + "\n    data: " + hex(dataIn, 0, DATA_BYTES)
                + "\n    gpr: rax=" + Long.toHexString(gpr[0]) + " rcx=" + Long.toHexString(gpr[1]) + " rdx="
                + Long.toHexString(gpr[2]) + " rbx=" + Long.toHexString(gpr[3]);
    }

    static String hex(byte[] b, int off, int n) {
        StringBuilder s = new StringBuilder();
        for (int i = off; i < off + n; i++) {
            s.append(String.format("%02x", b[i]));
            if ((i - off) % 8 == 7 && i + 1 < off + n) {
                s.append('_');
            }
        }
        return s.toString();
    }

    static void writeInt(ByteArrayOutputStream b, int v) {
        for (int i = 0; i < 4; i++) {
            b.write(v >>> (8 * i));
        }
    }

    static void putShort(byte[] b, int o, int v) {
        b[o] = (byte) v;
        b[o + 1] = (byte) (v >>> 8);
    }

    static void putInt(byte[] b, int o, int v) {
        for (int i = 0; i < 4; i++) {
            b[o + i] = (byte) (v >>> (8 * i));
        }
    }

    static void putLong(byte[] b, int o, long v) {
        for (int i = 0; i < 8; i++) {
            b[o + i] = (byte) (v >>> (8 * i));
        }
    }

    void setXmm(int n, long lo, long hi) {
        putLong(image, 160 + 16 * n, lo);
        putLong(image, 168 + 16 * n, hi);
    }

    // ---- Value generators ----

    /** A single-precision bit pattern biased to edge cases. */
    static long float32(Random r) {
        int s = r.nextBoolean() ? 0x80000000 : 0;
        int v = switch (r.nextInt(16)) {
            case 0 -> 0;
            case 1 -> 1 + r.nextInt(0x7fffff); // denormal
            case 2 -> 0x7f800000; // infinity
            case 3 -> 0x7fc00000 | r.nextInt(0x400000); // QNaN
            case 4 -> 0x7f800001 + r.nextInt(0x3fffff); // SNaN
            case 5 -> 0x7f7fffff - r.nextInt(4); // near max
            case 6 -> 0x00800000 + r.nextInt(4); // near min normal
            case 7 -> Float.floatToRawIntBits((float) (r.nextInt(2000) - 1000)) & 0x7fffffff;
            case 8 -> 0x4f000000 + r.nextInt(3) - 1; // near 2^31
            case 9 -> 0x5f000000 + r.nextInt(3) - 1; // near 2^63
            case 10 -> 0x3f000000 + r.nextInt(3) - 1; // near 0.5
            case 11 -> (r.nextInt(60) + 100) << 23 | r.nextInt(0x800000);
            default -> r.nextInt(0x7f800000);
        };
        return (s | v) & 0xffffffffL;
    }

    /** A double-precision bit pattern biased to edge cases. */
    static long float64(Random r) {
        long s = r.nextBoolean() ? Long.MIN_VALUE : 0;
        long v = switch (r.nextInt(16)) {
            case 0 -> 0;
            case 1 -> 1 + (r.nextLong() & 0xfffffffffffffL); // denormal
            case 2 -> 0x7ff0000000000000L;
            case 3 -> 0x7ff8000000000000L | (r.nextLong() & 0x7ffffffffffffL);
            case 4 -> 0x7ff0000000000001L + (r.nextLong() & 0x3ffffffffffffL);
            case 5 -> 0x7fefffffffffffffL - r.nextInt(4);
            case 6 -> 0x0010000000000000L + r.nextInt(4);
            case 7 -> Double.doubleToRawLongBits(r.nextInt(2000) - 1000) & Long.MAX_VALUE;
            case 8 -> 0x41e0000000000000L + r.nextInt(3) - 1 + (r.nextBoolean() ? 0x100000 : 0); // near 2^31
            case 9 -> 0x43e0000000000000L + r.nextInt(3) - 1; // near 2^63
            case 10 -> 0x3fe0000000000000L + r.nextInt(3) - 1;
            case 11 -> (long) (r.nextInt(100) + 980) << 52 | (r.nextLong() & 0xfffffffffffffL);
            case 12 -> 0x36a0000000000000L + (r.nextLong() & 0xfffffffffffffL); // results near single underflow
            default -> r.nextLong() & 0x7fefffffffffffffL;
        };
        return s | v;
    }

    @Override
    public void close() {
        nat.close();
        emu.close();
        arena.close();
    }
}
