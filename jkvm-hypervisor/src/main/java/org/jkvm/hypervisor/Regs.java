package org.jkvm.hypervisor;

/** General-purpose registers, RIP and RFLAGS: struct kvm_regs. */
public record Regs(long rax, long rbx, long rcx, long rdx, long rsi, long rdi, long rsp, long rbp,
                   long r8, long r9, long r10, long r11, long r12, long r13, long r14, long r15,
                   long rip, long rflags) {
    /** All zero, RFLAGS with its reserved bit 1 set (the reset value). */
    public static final Regs RESET = new Regs(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfff0, 2);

    public Regs withRip(long value) {
        return new Regs(rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp, r8, r9, r10, r11, r12, r13, r14, r15, value, rflags);
    }

    /** The same registers with the boot-protocol values set: RIP, RSP, RSI, RAX, RBX, RFLAGS. */
    public static Regs boot(long rip, long rsp, long rsi, long rax, long rbx) {
        return new Regs(rax, rbx, 0, 0, rsi, 0, rsp, 0, 0, 0, 0, 0, 0, 0, 0, 0, rip, 2);
    }
}
