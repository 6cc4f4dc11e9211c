package org.jkvm.emu.cpu;

import static java.lang.constant.ConstantDescs.CD_Object;
import static java.lang.constant.ConstantDescs.CD_boolean;
import static java.lang.constant.ConstantDescs.CD_int;
import static java.lang.constant.ConstantDescs.CD_long;
import static java.lang.constant.ConstantDescs.CD_void;
import static java.lang.constant.ConstantDescs.INIT_NAME;
import static java.lang.constant.ConstantDescs.MTD_void;

import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassHierarchyResolver;
import java.lang.classfile.CodeBuilder;
import java.lang.classfile.Label;
import java.lang.constant.ClassDesc;
import java.lang.constant.MethodTypeDesc;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * Translates a hot basic block to JVM bytecode (java.lang.classfile, JDK 25): one hidden class per block
 * implementing {@link CompiledBlock}, which HotSpot then compiles like any other code. The translation is a
 * template expander: the common integer instructions (MOV, LEA, ALU, TEST, INC/DEC, PUSH/POP, MOVZX/MOVSX, IMUL,
 * SETcc, shifts by an immediate, Jcc/JMP/CALL/RET) become straight-line code over {@link Cpu}'s fields with their
 * operand size, registers, displacement and immediates as constants, calling the same {@link Alu}, {@link Flags},
 * {@link Mmu} and {@link Cpu} methods the interpreter uses (so the semantics are the interpreter's, and HotSpot
 * inlines them with constant arguments). Every other instruction calls {@link Executor#exec} on its decoded
 * {@link Insn}.
 *
 * <p>Precise state: before each instruction the code stores {@code Cpu.insnRip} (its start) and {@code Cpu.rip}
 * (its end), exactly as the interpreter does, so a {@link CpuFault} thrown anywhere in it restarts that instruction
 * with every earlier instruction's effects complete and none of its own (each template computes before it writes,
 * in the interpreter's order). After an instruction run through {@link Executor#exec} the code returns when
 * {@code Cpu.stop} is set. The block's RIP at entry is a parameter ({@code Cpu.rip}), so a block translated once
 * serves wherever its physical page is mapped.
 */
final class Translator {
    private Translator() {}

    private static final ClassDesc CD_CPU = ClassDesc.of(Cpu.class.getName());
    private static final ClassDesc CD_INSN = ClassDesc.of(Insn.class.getName());
    private static final ClassDesc CD_MMU = ClassDesc.of(Mmu.class.getName());
    private static final ClassDesc CD_ALU = ClassDesc.of(Alu.class.getName());
    private static final ClassDesc CD_FLAGS = ClassDesc.of(Flags.class.getName());
    private static final ClassDesc CD_EXECUTOR = ClassDesc.of(Executor.class.getName());
    private static final ClassDesc CD_CONTROL = ClassDesc.of(ControlOps.class.getName());
    private static final ClassDesc CD_COMPILED = ClassDesc.of(CompiledBlock.class.getName());
    private static final ClassDesc CD_LONGS = CD_long.arrayType();

    private static final ClassDesc CD_BLOCK = ClassDesc.of(Block.class.getName());
    private static final ClassDesc CD_INTERP = ClassDesc.of(Interpreter.class.getName());
    private static final MethodTypeDesc MTD_RUN = MethodTypeDesc.of(CD_void, CD_CPU, CD_BLOCK, CD_INTERP);
    private static final MethodTypeDesc MTD_INT = MethodTypeDesc.of(CD_int);
    private static final ClassDesc CD_SEGMENT = ClassDesc.of("java.lang.foreign.MemorySegment");
    private static final ClassDesc CD_OFLONG = ClassDesc.of("java.lang.foreign.ValueLayout$OfLong");
    private static final MethodTypeDesc MTD_SEGGET = MethodTypeDesc.of(CD_long, CD_OFLONG, CD_long);
    private static final MethodTypeDesc MTD_BOOL = MethodTypeDesc.of(CD_boolean);
    private static final MethodTypeDesc MTD_EXEC = MethodTypeDesc.of(CD_void, CD_CPU, CD_INSN);
    private static final MethodTypeDesc MTD_GETREG = MethodTypeDesc.of(CD_long, CD_int, CD_int, CD_boolean);
    private static final MethodTypeDesc MTD_SETREG =
            MethodTypeDesc.of(CD_void, CD_int, CD_int, CD_boolean, CD_long);
    private static final MethodTypeDesc MTD_LINEAR = MethodTypeDesc.of(CD_long, CD_int, CD_long);
    private static final MethodTypeDesc MTD_READ = MethodTypeDesc.of(CD_long, CD_long, CD_int);
    private static final MethodTypeDesc MTD_WRITE = MethodTypeDesc.of(CD_void, CD_long, CD_int, CD_long);
    private static final ClassDesc CD_JITOPS = ClassDesc.of(JitOps.class.getName());
    private static final MethodTypeDesc MTD_ADDSUB = MethodTypeDesc.of(CD_long, CD_CPU, CD_int, CD_long, CD_long);
    private static final MethodTypeDesc MTD_LOGIC = MethodTypeDesc.of(CD_long, CD_CPU, CD_int, CD_long);
    private static final MethodTypeDesc MTD_JSHIFT = MethodTypeDesc.of(CD_long, CD_CPU, CD_int, CD_long, CD_int);
    private static final MethodTypeDesc MTD_PROBE = MethodTypeDesc.of(CD_void, CD_long, CD_int);
    private static final MethodTypeDesc MTD_PUSH = MethodTypeDesc.of(CD_void, CD_int, CD_long);
    private static final MethodTypeDesc MTD_POP = MethodTypeDesc.of(CD_long, CD_int);
    private static final MethodTypeDesc MTD_ALU =
            MethodTypeDesc.of(CD_long, CD_CPU, CD_int, CD_int, CD_long, CD_long);
    private static final MethodTypeDesc MTD_INCDEC = MethodTypeDesc.of(CD_long, CD_CPU, CD_int, CD_long);
    private static final MethodTypeDesc MTD_SHIFT =
            MethodTypeDesc.of(CD_long, CD_CPU, CD_int, CD_int, CD_long, CD_int);
    private static final MethodTypeDesc MTD_IMUL = MethodTypeDesc.of(CD_long, CD_CPU, CD_int, CD_long, CD_long);
    private static final MethodTypeDesc MTD_SETLOGIC = MethodTypeDesc.of(CD_void, CD_CPU, CD_int, CD_long);
    private static final MethodTypeDesc MTD_COND = MethodTypeDesc.of(CD_boolean, CD_CPU, CD_int);
    private static final MethodTypeDesc MTD_TARGET = MethodTypeDesc.of(CD_long, CD_CPU, CD_int, CD_long);

    private static final ClassFile CF = ClassFile.of(ClassFile.ClassHierarchyResolverOption.of(
            ClassHierarchyResolver.ofClassLoading(Translator.class.getClassLoader())));
    private static final MethodHandles.Lookup LOOKUP = MethodHandles.lookup();

    // Locals of run(Cpu c, Block b, Interpreter in): 0 this, 1 c, 2 b, 3 in, 4-5 the block's entry RIP, 6-7 a
    // linear address, 8-9 a temporary, 10 the block's memory segment.
    private static final int C = 1, BLOCK = 2, INTERP = 3, RIP0 = 4, LA = 6, TMP = 8, SEG = 10;

    /** Translates {@code b}; the hidden class is unloaded with the block once nothing references it. */
    static CompiledBlock compile(Block b) {
        byte[] bytes = generate(b);
        try {
            MethodHandles.Lookup l = LOOKUP.defineHiddenClass(bytes, true);
            return (CompiledBlock) l.findConstructor(l.lookupClass(), MethodType.methodType(void.class)).invoke();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("cannot define a translated block", t);
        }
    }

    /** The class file of {@code b}'s translation. */
    static byte[] generate(Block b) {
        ClassDesc name = ClassDesc.of(Translator.class.getPackageName() + ".TranslatedBlock");
        return CF.build(name, clb -> {
            clb.withFlags(ClassFile.ACC_FINAL | ClassFile.ACC_SUPER);
            clb.withInterfaceSymbols(CD_COMPILED);
            clb.withMethodBody(INIT_NAME, MTD_void, ClassFile.ACC_PUBLIC,
                    cob -> cob.aload(0).invokespecial(CD_Object, INIT_NAME, MTD_void).return_());
            clb.withMethodBody("run", MTD_RUN, ClassFile.ACC_PUBLIC, cob -> new Emitter(cob, b).body());
        });
    }

    /** How many of {@code b}'s instructions {@link #generate} expands inline (the rest call the interpreter). */
    static int inlined(Block b) {
        int n = 0;
        for (int k = 0; k < b.count; k++) {
            if (Emitter.supported(b.insns[k], b.mode)) {
                n++;
            }
        }
        return n;
    }

    private static final class Emitter {
        private final CodeBuilder cob;
        private final Block b;
        private final long ripMask;
        /** The end offset of the instruction being expanded (its RIP-relative base). */
        private int curEnd;

        Emitter(CodeBuilder cob, Block b) {
            this.cob = cob;
            this.b = b;
            this.ripMask = b.mode == Cpu.MODE64 ? -1L : b.mode == Cpu.MODE32 ? 0xffffffffL : 0xffff;
        }

        void body() {
            cob.aload(C).getfield(CD_CPU, "rip", CD_long).lstore(RIP0);
            Label top = cob.newLabel();
            cob.labelBinding(top);
            int start = 0;
            boolean writes = false;
            for (int k = 0; k < b.count; k++) {
                Insn d = b.insns[k];
                int end = start + d.len;
                boolean inline = supported(d, b.mode);
                // insnRip for whatever can fault (the run loop restarts from it and recomputes RIP); RIP itself
                // for the interpreter's instructions and at the block's end (the templates use constants).
                if (!inline || d.mem || stackOp(d.op)) {
                    cob.aload(C);
                    ripPlus(start);
                    cob.putfield(CD_CPU, "insnRip", CD_long);
                }
                if (!inline || k == b.count - 1) {
                    cob.aload(C);
                    ripPlus(end);
                    cob.putfield(CD_CPU, "rip", CD_long);
                }
                if (inline) {
                    curEnd = end;
                    insn(d, end);
                    writes |= d.mem || stackOp(d.op);
                } else {
                    writes = true;
                    cob.aload(C).aload(BLOCK).getfield(CD_BLOCK, "insns", CD_INSN.arrayType()).loadConstant(k)
                            .aaload().invokestatic(CD_EXECUTOR, "exec", MTD_EXEC);
                    Label go = cob.newLabel();
                    cob.aload(C).getfield(CD_CPU, "stop", CD_int).ifeq(go);
                    retire(k + 1);
                    cob.return_();
                    cob.labelBinding(go);
                }
                start = end;
            }
            retire(b.count);
            Insn last = b.insns[b.count - 1];
            if (supported(last, b.mode) && branchesToStart(last, start)) {
                // A loop onto itself: go round here while nothing needs the run loop (a kick or an interrupt
                // pending) and, if the block stores, while its bytes are unchanged.
                Label out = cob.newLabel();
                cob.aload(C).getfield(CD_CPU, "rip", CD_long).lload(RIP0).lcmp().ifne(out);
                cob.aload(INTERP).invokevirtual(CD_INTERP, "attention", MTD_INT).ifne(out);
                if (writes) {
                    bytesUnchanged(out);
                }
                cob.goto_(top);
                cob.labelBinding(out);
            }
            cob.return_();
        }

        /**
         * Jumps to {@code out} unless guest memory still holds the block's bytes ({@link Block#valid}, with the
         * words and offsets as constants).
         */
        private void bytesUnchanged(Label out) {
            long[] words = b.words;
            int nw = words.length;
            if (b.off + 8L * nw > b.seg.byteSize()) {
                cob.aload(BLOCK).invokevirtual(CD_BLOCK, "valid", MTD_BOOL).ifeq(out);
                return;
            }
            cob.aload(BLOCK).getfield(CD_BLOCK, "seg", CD_SEGMENT).astore(SEG);
            for (int i = 0; i < nw; i++) {
                cob.aload(SEG).getstatic(CD_BLOCK, "LONG", CD_OFLONG).loadConstant(b.off + 8L * i)
                        .invokeinterface(CD_SEGMENT, "get", MTD_SEGGET);
                if (i == nw - 1 && b.lastMask != -1L) {
                    cob.loadConstant(b.lastMask).land();
                }
                cob.loadConstant(words[i]).lcmp().ifne(out);
            }
        }

        /** Instructions that touch the stack (and so can fault) among those expanded inline. */
        private static boolean stackOp(int op) {
            return (op >= 0x50 && op <= 0x5f) || op == 0xe8 || op == 0xc3;
        }

        /** True if {@code d}, ending at {@code end} bytes into the block, is a direct branch to the block start. */
        private static boolean branchesToStart(Insn d, int end) {
            int op = d.op;
            boolean direct = (op >= 0x70 && op <= 0x7f) || (op >= 0x180 && op <= 0x18f) || op == 0xe9 || op == 0xeb;
            return direct && end + d.imm == 0;
        }

        private void retire(int n) {
            cob.aload(C).dup().getfield(CD_CPU, "retired", CD_long).loadConstant((long) n).ladd()
                    .putfield(CD_CPU, "retired", CD_long);
        }

        /** Pushes (entry RIP + off), truncated to the mode's RIP width. */
        private void ripPlus(long off) {
            cob.lload(RIP0);
            if (off != 0) {
                cob.loadConstant(off).ladd();
            }
            if (ripMask != -1L) {
                cob.loadConstant(ripMask).land();
            }
        }

        /** True if {@link #insn} expands {@code d} inline. */
        static boolean supported(Insn d, int mode) {
            if (d.lock) {
                return false;
            }
            int op = d.op;
            if (op < 0x40 && (op & 7) < 6) {
                return true;
            }
            return switch (op) {
                case 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f,
                        0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f,
                        0x69, 0x6b, 0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x7b, 0x7c, 0x7d,
                        0x7e, 0x7f, 0x84, 0x85, 0x88, 0x89, 0x8a, 0x8b, 0xa8, 0xa9, 0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5,
                        0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf, 0xc3, 0xe8, 0xe9, 0xeb,
                        0x180, 0x181, 0x182, 0x183, 0x184, 0x185, 0x186, 0x187, 0x188, 0x189, 0x18a, 0x18b, 0x18c,
                        0x18d, 0x18e, 0x18f, 0x190, 0x191, 0x192, 0x193, 0x194, 0x195, 0x196, 0x197, 0x198, 0x199,
                        0x19a, 0x19b, 0x19c, 0x19d, 0x19e, 0x19f, 0x1af, 0x1b6, 0x1b7, 0x1be, 0x1bf -> true;
                case 0x63 -> mode == Cpu.MODE64;
                case 0x80, 0x81, 0x83 -> true;
                case 0x8d -> d.mem;
                case 0xc0, 0xc1, 0xd0, 0xd1 -> true;
                case 0xc6, 0xc7 -> (d.reg & 7) == 0;
                case 0xf6, 0xf7 -> (d.reg & 7) < 2;
                case 0xfe -> (d.reg & 7) < 2;
                case 0xff -> (d.reg & 7) < 2;
                default -> false;
            };
        }

        private void insn(Insn d, int end) {
            int op = d.op;
            if (op < 0x40) {
                alu(d, (op >>> 3) & 7, op & 7);
                return;
            }
            switch (op) {
                case 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f -> {
                    int n = op & 7;
                    setReg(n, d.osz, false, () -> {
                        cob.aload(C).loadConstant(d.osz);
                        getReg(n, d.osz, false);
                        cob.invokestatic(CD_ALU, op < 0x48 ? "inc" : "dec", MTD_INCDEC);
                    });
                }
                case 0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57 -> {
                    cob.aload(C).loadConstant(d.osz64);
                    getReg(Executor.regB(d, op), d.osz64, true);
                    cob.invokevirtual(CD_CPU, "push", MTD_PUSH);
                }
                case 0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f -> {
                    cob.aload(C).loadConstant(d.osz64).invokevirtual(CD_CPU, "pop", MTD_POP).lstore(LA);
                    setReg(Executor.regB(d, op), d.osz64, true, () -> cob.lload(LA));
                }
                case 0x63 -> setReg(d.reg, d.osz, d.rex, () -> {
                    readE(d, 4);
                    if (d.osz == 8) {
                        cob.l2i().i2l();
                    }
                });
                case 0x69, 0x6b -> setReg(d.reg, d.osz, d.rex, () -> {
                    cob.aload(C).loadConstant(d.osz);
                    readE(d, d.osz);
                    cob.loadConstant(d.imm).invokestatic(CD_ALU, "imulTrunc", MTD_IMUL);
                });
                case 0x1af -> setReg(d.reg, d.osz, d.rex, () -> {
                    cob.aload(C).loadConstant(d.osz);
                    getReg(d.reg, d.osz, d.rex);
                    readE(d, d.osz);
                    cob.invokestatic(CD_ALU, "imulTrunc", MTD_IMUL);
                });
                case 0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x7b, 0x7c, 0x7d, 0x7e, 0x7f,
                        0x180, 0x181, 0x182, 0x183, 0x184, 0x185, 0x186, 0x187, 0x188, 0x189, 0x18a, 0x18b, 0x18c,
                        0x18d, 0x18e, 0x18f -> {
                    Label skip = cob.newLabel();
                    cob.aload(C).loadConstant(op & 0xf).invokestatic(CD_FLAGS, "cond", MTD_COND).ifeq(skip);
                    jumpTo(d, end);
                    cob.labelBinding(skip);
                }
                case 0xe9, 0xeb -> jumpTo(d, end);
                case 0xe8 -> {
                    target(d, end);
                    cob.lstore(LA);
                    cob.aload(C).loadConstant(d.osz64);
                    ripPlus(end);
                    cob.invokevirtual(CD_CPU, "push", MTD_PUSH);
                    cob.aload(C).lload(LA).putfield(CD_CPU, "rip", CD_long);
                }
                case 0xc3 -> {
                    // The interpreter peeks, then moves RSP: a read fault leaves RSP unchanged either way.
                    cob.aload(C).aload(C).loadConstant(d.osz64);
                    cob.aload(C).loadConstant(d.osz64).invokevirtual(CD_CPU, "pop", MTD_POP);
                    cob.invokestatic(CD_CONTROL, "target", MTD_TARGET).putfield(CD_CPU, "rip", CD_long);
                }
                case 0x80, 0x81, 0x83 -> aluToE(d, d.reg & 7, op == 0x80 ? 1 : d.osz, () -> cob.loadConstant(d.imm));
                case 0x84, 0x85 -> {
                    int size = op == 0x84 ? 1 : d.osz;
                    cob.aload(C).loadConstant(size);
                    readE(d, size);
                    getReg(d.reg, size, d.rex);
                    cob.land().invokestatic(CD_FLAGS, "setLogic", MTD_SETLOGIC);
                }
                case 0xa8, 0xa9 -> {
                    int size = op == 0xa8 ? 1 : d.osz;
                    cob.aload(C).loadConstant(size);
                    getReg(0, size, false);
                    cob.loadConstant(d.imm & Flags.mask(size)).land().invokestatic(CD_FLAGS, "setLogic", MTD_SETLOGIC);
                }
                case 0xf6, 0xf7 -> {
                    int size = op == 0xf6 ? 1 : d.osz;
                    cob.aload(C).loadConstant(size);
                    readE(d, size);
                    cob.loadConstant(d.imm & Flags.mask(size)).land().invokestatic(CD_FLAGS, "setLogic", MTD_SETLOGIC);
                }
                case 0x88, 0x89 -> {
                    int size = op == 0x88 ? 1 : d.osz;
                    writeE(d, size, () -> getReg(d.reg, size, d.rex));
                }
                case 0x8a, 0x8b -> {
                    int size = op == 0x8a ? 1 : d.osz;
                    setReg(d.reg, size, d.rex, () -> readE(d, size));
                }
                case 0x8d -> setReg(d.reg, d.osz, d.rex, () -> ea(d));
                case 0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7 ->
                        setReg(Executor.regB(d, op), 1, d.rex, () -> cob.loadConstant(d.imm));
                case 0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf ->
                        setReg(Executor.regB(d, op), d.osz, d.rex, () -> cob.loadConstant(d.imm));
                case 0xc6, 0xc7 -> writeE(d, op == 0xc6 ? 1 : d.osz, () -> cob.loadConstant(d.imm));
                case 0xc0, 0xc1, 0xd0, 0xd1 -> shift(d, op);
                case 0x190, 0x191, 0x192, 0x193, 0x194, 0x195, 0x196, 0x197, 0x198, 0x199, 0x19a, 0x19b, 0x19c,
                        0x19d, 0x19e, 0x19f -> writeE(d, 1, () -> {
                    cob.aload(C).loadConstant(op & 0xf).invokestatic(CD_FLAGS, "cond", MTD_COND).i2l();
                });
                case 0x1b6, 0x1b7 -> setReg(d.reg, d.osz, d.rex, () -> readE(d, op == 0x1b6 ? 1 : 2));
                case 0x1be, 0x1bf -> setReg(d.reg, d.osz, d.rex, () -> {
                    readE(d, op == 0x1be ? 1 : 2);
                    cob.l2i();
                    if (op == 0x1be) {
                        cob.i2b();
                    } else {
                        cob.i2s();
                    }
                    cob.i2l();
                });
                case 0xfe, 0xff -> {
                    int size = op == 0xfe ? 1 : d.osz;
                    boolean dec = (d.reg & 7) == 1;
                    rmwE(d, size, false, () -> {
                        // The value to change is on the stack; Alu.inc/dec want (c, size, v).
                        cob.lstore(TMP).aload(C).loadConstant(size).lload(TMP);
                        cob.invokestatic(CD_ALU, dec ? "dec" : "inc", MTD_INCDEC);
                    });
                }
                default -> throw new IllegalStateException("not translatable: 0x" + Integer.toHexString(op));
            }
        }

        /** The one-byte ALU forms 00-3D: op/size/direction from the opcode. */
        private void alu(Insn d, int aluOp, int form) {
            switch (form) {
                case 0, 1 -> {
                    int size = form == 0 ? 1 : d.osz;
                    aluToE(d, aluOp, size, () -> getReg(d.reg, size, d.rex));
                }
                case 2, 3 -> {
                    int size = form == 2 ? 1 : d.osz;
                    Runnable value = () -> aluOp(aluOp, size, () -> getReg(d.reg, size, d.rex), () -> readE(d, size));
                    if (aluOp == 7) {
                        value.run();
                        cob.pop2();
                    } else {
                        setReg(d.reg, size, d.rex, value);
                    }
                }
                default -> {
                    int size = form == 4 ? 1 : d.osz;
                    Runnable value = () -> aluOp(aluOp, size, () -> getReg(0, size, false),
                            () -> cob.loadConstant(d.imm));
                    if (aluOp == 7) {
                        value.run();
                        cob.pop2();
                    } else {
                        setReg(0, size, false, value);
                    }
                }
            }
        }

        /** E = E op src (no LOCK): src is pushed by {@code src}. */
        private void aluToE(Insn d, int aluOp, int size, Runnable src) {
            if (aluOp == 7) {
                aluOp(aluOp, size, () -> readE(d, size), src);
                cob.pop2();
                return;
            }
            rmwE(d, size, aluOp == 2 || aluOp == 3, () -> {
                cob.lstore(TMP);
                aluOp(aluOp, size, () -> cob.lload(TMP), src);
            });
        }

        /**
         * Pushes the result of ALU operation {@code aluOp} (the group-1 numbering) on the longs {@code dst} and
         * {@code src} push, recording the flags; ADD/SUB/CMP and the logic ops through {@link JitOps}.
         */
        private void aluOp(int aluOp, int size, Runnable dst, Runnable src) {
            switch (aluOp) {
                case 0, 5, 7 -> {
                    cob.aload(C).loadConstant(size);
                    dst.run();
                    src.run();
                    cob.invokestatic(CD_JITOPS, aluOp == 0 ? "add" : "sub", MTD_ADDSUB);
                }
                case 1, 4, 6 -> {
                    cob.aload(C).loadConstant(size);
                    dst.run();
                    src.run();
                    if (aluOp == 1) {
                        cob.lor();
                    } else if (aluOp == 4) {
                        cob.land();
                    } else {
                        cob.lxor();
                    }
                    cob.invokestatic(CD_JITOPS, "logic", MTD_LOGIC);
                }
                default -> {
                    cob.aload(C).loadConstant(aluOp).loadConstant(size);
                    dst.run();
                    src.run();
                    cob.invokestatic(CD_ALU, "alu", MTD_ALU);
                }
            }
        }

        /**
         * E = f(E): reads the operand, leaves it on the stack for {@code f}, which replaces it with the result, and
         * writes it back (memory operands through one linear address, read before written). With {@code probe} a
         * memory operand is checked writable first, so a write fault cannot follow a change of the flags that the
         * restarted instruction reads (ADC/SBB's carry in, the shifts' flags when the count is 0).
         */
        private void rmwE(Insn d, int size, boolean probe, Runnable f) {
            if (!d.mem) {
                setReg(d.rm, size, d.rex, () -> {
                    getReg(d.rm, size, d.rex);
                    f.run();
                });
                return;
            }
            linear(d);
            cob.lstore(LA);
            if (probe) {
                cob.aload(C).getfield(CD_CPU, "mmu", CD_MMU).lload(LA).loadConstant(size)
                        .invokevirtual(CD_MMU, "probeWrite", MTD_PROBE);
            }
            cob.aload(C).getfield(CD_CPU, "mmu", CD_MMU).lload(LA).loadConstant(size);
            cob.aload(C).getfield(CD_CPU, "mmu", CD_MMU).lload(LA).loadConstant(size)
                    .invokevirtual(CD_MMU, "read", MTD_READ);
            f.run();
            cob.invokevirtual(CD_MMU, "write", MTD_WRITE);
        }

        /** Shifts and rotates by 1 or an immediate (C0, C1, D0, D1), as Executor.group2. */
        private void shift(Insn d, int op) {
            int size = (op & 1) == 0 ? 1 : d.osz;
            int count = (op <= 0xc1 ? (int) d.imm : 1) & (size == 8 ? 63 : 31);
            int sub = d.reg & 7;
            if (count == 0) {
                if (d.mem) {
                    readE(d, size);
                    cob.pop2();
                } else if (size == 4) {
                    setReg(d.rm, 4, d.rex, () -> getReg(d.rm, 4, d.rex));
                }
                return;
            }
            String name = switch (sub) {
                case 0 -> "rol";
                case 1 -> "ror";
                case 4, 6 -> "shl";
                case 5 -> "shr";
                case 7 -> "sar";
                default -> null; // RCL, RCR
            };
            rmwE(d, size, true, () -> {
                if (name == null) {
                    cob.lstore(TMP).aload(C).loadConstant(sub).loadConstant(size).lload(TMP).loadConstant(count);
                    cob.invokestatic(CD_ALU, "shift", MTD_SHIFT);
                } else {
                    cob.lstore(TMP).aload(C).loadConstant(size).lload(TMP).loadConstant(count);
                    cob.invokestatic(CD_JITOPS, name, MTD_JSHIFT);
                }
            });
        }

        private void jumpTo(Insn d, int end) {
            cob.aload(C);
            target(d, end);
            cob.putfield(CD_CPU, "rip", CD_long);
        }

        /** Pushes ControlOps.target(c, osz64, next RIP + imm): the branch target, a constant offset from entry. */
        private void target(Insn d, int end) {
            cob.aload(C).loadConstant(d.osz64);
            ripPlus(end);
            cob.loadConstant(d.imm).ladd().invokestatic(CD_CONTROL, "target", MTD_TARGET);
        }

        // ---- Operands ----

        private void getReg(int n, int size, boolean rex) {
            if (size == 8 || size == 4) {
                cob.aload(C).getfield(CD_CPU, "r", CD_LONGS).loadConstant(n).laload();
                if (size == 4) {
                    cob.loadConstant(0xffffffffL).land();
                }
                return;
            }
            cob.aload(C).loadConstant(n).loadConstant(size).loadConstant(rex ? 1 : 0)
                    .invokevirtual(CD_CPU, "getReg", MTD_GETREG);
        }

        /** Register n = the long that {@code value} pushes. */
        private void setReg(int n, int size, boolean rex, Runnable value) {
            if (size == 8 || size == 4) {
                cob.aload(C).getfield(CD_CPU, "r", CD_LONGS).loadConstant(n);
                value.run();
                if (size == 4) {
                    cob.loadConstant(0xffffffffL).land();
                }
                cob.lastore();
                return;
            }
            cob.aload(C).loadConstant(n).loadConstant(size).loadConstant(rex ? 1 : 0);
            value.run();
            cob.invokevirtual(CD_CPU, "setReg", MTD_SETREG);
        }

        private void readE(Insn d, int size) {
            if (!d.mem) {
                getReg(d.rm, size, d.rex);
                return;
            }
            cob.aload(C).getfield(CD_CPU, "mmu", CD_MMU);
            linear(d);
            cob.loadConstant(size).invokevirtual(CD_MMU, "read", MTD_READ);
        }

        private void writeE(Insn d, int size, Runnable value) {
            if (!d.mem) {
                setReg(d.rm, size, d.rex, value);
                return;
            }
            // The address first (as the interpreter: addr(), then the value, then the write).
            linear(d);
            cob.lstore(LA);
            value.run();
            cob.lstore(TMP);
            cob.aload(C).getfield(CD_CPU, "mmu", CD_MMU).lload(LA).loadConstant(size).lload(TMP)
                    .invokevirtual(CD_MMU, "write", MTD_WRITE);
        }

        /** Pushes the linear address of the memory operand (Executor.addr). */
        private void linear(Insn d) {
            if (b.mode == Cpu.MODE64 && d.seg < Cpu.FS) {
                // effBase is 0 for ES/CS/SS/DS in 64-bit mode and linear() adds nothing else.
                ea(d);
                return;
            }
            cob.aload(C).loadConstant(d.seg);
            ea(d);
            cob.invokevirtual(CD_CPU, "linear", MTD_LINEAR);
        }

        /** Pushes the effective address (Executor.ea); RIP-relative uses {@code c.rip}, the next instruction. */
        private void ea(Insn d) {
            cob.loadConstant(d.disp);
            if (d.base >= 0) {
                if (d.base == Insn.RIP_BASE) {
                    ripPlus(curEnd);
                } else {
                    cob.aload(C).getfield(CD_CPU, "r", CD_LONGS).loadConstant(d.base).laload();
                }
                cob.ladd();
            }
            if (d.index >= 0) {
                cob.aload(C).getfield(CD_CPU, "r", CD_LONGS).loadConstant(d.index).laload();
                if (d.scale != 0) {
                    cob.loadConstant(d.scale).lshl();
                }
                cob.ladd();
            }
            if (d.asz == 4) {
                cob.loadConstant(0xffffffffL).land();
            } else if (d.asz == 2) {
                cob.loadConstant(0xffffL).land();
            }
        }
    }
}
