package org.jkvm.sys;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;

/**
 * Runs a snippet of x86-64 machine code on the host CPU with all general-purpose registers and RFLAGS taken from and
 * returned to a register block: the reference side of jkvm-emu's differential tests. The code lives in one private
 * anonymous mapping made executable with mmap/mprotect, called through an FFM downcall as {@code void f(block*)}.
 *
 * <p>Block layout ({@link #BLOCK_BYTES} bytes): 16 longs RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8-R15 (register
 * encoding order; the RSP slot is neither loaded nor stored), then RFLAGS at {@link #RFLAGS_OFFSET}. The stub saves and
 * restores the callee-saved registers and clears DF before returning. Snippets must not touch RSP, must not fault and
 * must not set TF: a fault in host code ends the JVM. This is test machinery; nothing in jkvm's run time uses it.
 *
 * <p>{@link #runWithFpu} takes a larger block ({@link #FPU_BLOCK_BYTES}, 16-byte aligned): after the registers, a
 * 512-byte FXSAVE image at {@link #FXSAVE_OFFSET} that is loaded with FXRSTOR64 before the snippet and stored with
 * FXSAVE64 after it, then 512 bytes where the stub keeps the caller's own x87/SSE state (restored before returning,
 * so a snippet may change MXCSR and the x87 control word freely). Snippets must not unmask floating-point
 * exceptions they then raise.
 */
public final class NativeCode implements AutoCloseable {
    public static final int RFLAGS_OFFSET = 128;
    public static final int BLOCK_BYTES = 136;
    public static final int FXSAVE_OFFSET = 144;
    private static final int HOST_FXSAVE_OFFSET = FXSAVE_OFFSET + 512;
    public static final int FPU_BLOCK_BYTES = HOST_FXSAVE_OFFSET + 512;
    private static final long SIZE = 64 * 1024;

    private final long base;
    private final MemorySegment mem;
    private final MethodHandle entry;
    private boolean closed;

    public NativeCode() {
        base = Libc.mmap(0, SIZE, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS, -1, 0);
        mem = Libc.segment(base, SIZE);
        entry = Linker.nativeLinker().downcallHandle(MemorySegment.ofAddress(base), FunctionDescriptor.ofVoid(ADDRESS));
    }

    /** Runs {@code snippet} with registers from {@code block} and stores the resulting registers back into it. */
    public void run(byte[] snippet, MemorySegment block) {
        call(snippet, block, false);
    }

    /** As {@link #run}, with the x87/SSE state also taken from and returned to the block's FXSAVE image. */
    public void runWithFpu(byte[] snippet, MemorySegment block) {
        if (block.byteSize() < FPU_BLOCK_BYTES || (block.address() & 15) != 0) {
            throw new IllegalArgumentException("register block must be " + FPU_BLOCK_BYTES + " bytes, 16-aligned");
        }
        call(snippet, block, true);
    }

    private void call(byte[] snippet, MemorySegment block, boolean fpu) {
        if (closed) {
            throw new IllegalStateException("closed");
        }
        if (block.byteSize() < BLOCK_BYTES) {
            throw new IllegalArgumentException("register block must be " + BLOCK_BYTES + " bytes");
        }
        byte[] code = wrap(snippet, fpu);
        if (code.length > SIZE) {
            throw new IllegalArgumentException("snippet too long");
        }
        Libc.mprotect(base, SIZE, Libc.PROT_READ | Libc.PROT_WRITE);
        MemorySegment.copy(code, 0, mem, ValueLayout.JAVA_BYTE, 0, code.length);
        Libc.mprotect(base, SIZE, Libc.PROT_READ | Libc.PROT_EXEC);
        try {
            entry.invokeExact(block);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static byte[] wrap(byte[] snippet, boolean fpu) {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        // push rbx, rbp, r12-r15; push rdi (the block pointer)
        put(b, 0x53, 0x55, 0x41, 0x54, 0x41, 0x55, 0x41, 0x56, 0x41, 0x57, 0x57);
        if (fpu) {
            fx(b, 0x87, HOST_FXSAVE_OFFSET); // fxsave64 [rdi+host]
            fx(b, 0x8f, FXSAVE_OFFSET); // fxrstor64 [rdi+image]
        }
        // push qword [rdi+128]; popfq
        put(b, 0xff, 0xb7, 0x80, 0x00, 0x00, 0x00, 0x9d);
        for (int r = 0; r < 16; r++) {
            if (r != 4 && r != 7) {
                movLoad(b, r);
            }
        }
        movLoad(b, 7);
        b.writeBytes(snippet);
        // push rdi (the snippet's RDI); mov rdi, [rsp+8]
        put(b, 0x57, 0x48, 0x8b, 0x7c, 0x24, 0x08);
        if (fpu) {
            fx(b, 0x87, FXSAVE_OFFSET); // fxsave64 [rdi+image]
        }
        for (int r = 0; r < 16; r++) {
            if (r != 4 && r != 7) {
                movStore(b, r);
            }
        }
        // pushfq; pop rax; mov [rdi+128], rax
        put(b, 0x9c, 0x58, 0x48, 0x89, 0x87, 0x80, 0x00, 0x00, 0x00);
        // pop rax (snippet RDI); mov [rdi+56], rax
        put(b, 0x58, 0x48, 0x89, 0x47, 56);
        if (fpu) {
            fx(b, 0x8f, HOST_FXSAVE_OFFSET); // fxrstor64 [rdi+host]
        }
        // cld; pop rdi; pop r15, r14, r13, r12, rbp, rbx; ret
        put(b, 0xfc, 0x5f, 0x41, 0x5f, 0x41, 0x5e, 0x41, 0x5d, 0x41, 0x5c, 0x5d, 0x5b, 0xc3);
        return b.toByteArray();
    }

    /** fxsave64/fxrstor64 [rdi + disp32] (ModRM 0x87 or 0x8F). */
    private static void fx(java.io.ByteArrayOutputStream b, int modrm, int disp) {
        put(b, 0x48, 0x0f, 0xae, modrm, disp & 0xff, (disp >>> 8) & 0xff, 0, 0);
    }

    /** mov reg, [rdi + 8*reg] */
    private static void movLoad(java.io.ByteArrayOutputStream b, int r) {
        put(b, 0x48 | (r >= 8 ? 4 : 0), 0x8b, 0x47 | ((r & 7) << 3), r * 8);
    }

    /** mov [rdi + 8*reg], reg */
    private static void movStore(java.io.ByteArrayOutputStream b, int r) {
        put(b, 0x48 | (r >= 8 ? 4 : 0), 0x89, 0x47 | ((r & 7) << 3), r * 8);
    }

    private static void put(java.io.ByteArrayOutputStream b, int... bytes) {
        for (int x : bytes) {
            b.write(x);
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            Libc.munmap(base, SIZE);
        }
    }
}
