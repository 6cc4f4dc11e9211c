package org.jkvm.emu.cpu;

/**
 * A basic block translated to JVM bytecode by {@link Translator}: one hidden class per block. {@link #run} has the
 * effect of interpreting the block's instructions: RIP, {@code insnRip} and the retired count are kept as the
 * interpreter keeps them, a {@link CpuFault} leaves {@code insnRip} at the faulting instruction, and it returns early
 * when an instruction sets {@code Cpu.stop}. {@code Cpu.rip} is exact at its return;
 * inside, only where an instruction run by the interpreter or a fault needs it.
 */
public interface CompiledBlock {
    /**
     * Runs block {@code b} (whose instructions it calls the interpreter for), and again while it branches back to
     * its own start with nothing for the run loop of {@code in} to do and its bytes unchanged.
     */
    void run(Cpu c, Block b, Interpreter in);
}
