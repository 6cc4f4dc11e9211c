package org.jkvm.emu.cpu;

/**
 * A basic block translated to JVM bytecode by {@link Translator}: one hidden class per block. {@link #run} has the
 * effect of interpreting the block's instructions: RIP, {@code insnRip} and the retired count are kept as the
 * interpreter keeps them, a {@link CpuFault} leaves {@code insnRip} at the faulting instruction, and it returns early
 * when an instruction sets {@code Cpu.stop}.
 */
public interface CompiledBlock {
    /** Runs the block once; {@code insns} are the block's decoded instructions (for those run by the interpreter). */
    void run(Cpu c, Insn[] insns);
}
