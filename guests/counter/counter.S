/*
 * counter.elf: the snapshot test guest (64-bit ELF, jkvm's LINUX_64 entry). PIT channel 0 at 100 Hz reaches the
 * local APIC through IOAPIC pin 2 as vector 0x41; the guest halts between ticks and every 10 ticks prints
 *   "count N"
 * on COM1, N = 1, 2, 3, ... forever. N lives in three places that must agree: R12, the memory word `shown`, and
 * R13 (N XOR a pattern); a mismatch prints "count: FAIL: ..." and exits 1 through isa-debug-exit. (No SSE:
 * kvm_pvm's instruction emulator has none.) So a restored snapshot shows that registers, RAM, the IOAPIC, the
 * local APIC and the PIT came back:
 * the numbers go on from where they were. A byte received on COM1 is echoed as "rx X" (the console after restore).
 */
#define COM1      0x3F8
#define LAPIC     0xFEE00000
#define IOAPIC    0xFEC00000
#define VECTOR    0x41

        .code64
        .section .text, "ax"
        .globl  _start
_start:
        mov     $0x8ff0, %rsp
        mov     $0xFF, %al              /* mask both 8259As */
        out     %al, $0x21
        out     %al, $0xA1

        lea     timer_handler(%rip), %rax
        lea     idt + VECTOR * 16(%rip), %rdi
        mov     %ax, (%rdi)
        mov     %cs, %bx
        mov     %bx, 2(%rdi)
        movw    $0x8E00, 4(%rdi)
        shr     $16, %rax
        mov     %ax, 6(%rdi)
        shr     $16, %rax
        mov     %eax, 8(%rdi)
        movl    $0, 12(%rdi)
        lidt    idt_desc(%rip)

        mov     $LAPIC, %rbx            /* software enable, spurious 0xFF, TPR 0 */
        movl    $0x1FF, 0xF0(%rbx)
        movl    $0, 0x80(%rbx)

        mov     $IOAPIC, %rbx           /* pin 2 -> vector 0x41, fixed, edge, APIC 0 */
        movl    $0x11 + 2 * 2, (%rbx)
        movl    $0, 0x10(%rbx)
        movl    $0x10 + 2 * 2, (%rbx)
        movl    $VECTOR, 0x10(%rbx)

        mov     $COM1 + 1, %dx          /* COM1: no UART interrupts (input is polled) */
        xor     %al, %al
        out     %al, %dx

        mov     $0x34, %al              /* PIT channel 0, lobyte/hibyte, mode 2, 100 Hz */
        out     %al, $0x43
        mov     $11932, %ax
        out     %al, $0x40
        mov     %ah, %al
        out     %al, $0x40

        xor     %r12, %r12              /* N */
        mov     $0x5a5a5a5a5a5a5a5a, %r13 /* R13 = N ^ this pattern */
        movl    $10, next(%rip)

loop:   sti
        hlt
        cli
        call    poll_input
        mov     ticks(%rip), %eax
        cmp     next(%rip), %eax
        jb      loop
        addl    $10, next(%rip)
        /* the three copies of N must agree before the step */
        mov     shown(%rip), %rax
        cmp     %rax, %r12
        jne     fail
        mov     %r13, %rax
        xor     pattern(%rip), %rax
        cmp     %rax, %r12
        jne     fail
        inc     %r12
        mov     %r12, %r13
        xor     pattern(%rip), %r13
        mov     %r12, shown(%rip)
        lea     count_msg(%rip), %rsi
        mov     $count_len, %ecx
        call    print
        mov     %r12, %rax
        call    putdec
        mov     $'\n', %al
        call    putc
        jmp     loop

fail:   lea     fail_msg(%rip), %rsi
        mov     $fail_len, %ecx
        call    print
        mov     $1, %eax
        mov     $0xF4, %dx
        out     %eax, %dx
1:      hlt
        jmp     1b

/* A byte waiting on COM1 is echoed as "rx X". */
poll_input:
        mov     $COM1 + 5, %dx
        in      %dx, %al
        test    $1, %al
        jz      2f
        mov     $COM1, %dx
        in      %dx, %al
        push    %rax
        lea     rx_msg(%rip), %rsi
        mov     $rx_len, %ecx
        call    print
        pop     %rax
        call    putc
        mov     $'\n', %al
        call    putc
2:      ret

timer_handler:
        push    %rax
        incl    ticks(%rip)
        mov     $LAPIC, %rax
        movl    $0, 0xB0(%rax)          /* EOI */
        pop     %rax
        iretq

/* RAX in decimal */
putdec: push    %rbx
        push    %rcx
        push    %rdx
        mov     $10, %rbx
        xor     %ecx, %ecx
1:      xor     %edx, %edx
        div     %rbx
        push    %rdx
        inc     %ecx
        test    %rax, %rax
        jnz     1b
2:      pop     %rax
        add     $'0', %al
        call    putc
        loop    2b
        pop     %rdx
        pop     %rcx
        pop     %rbx
        ret

/* print ECX bytes at RSI on COM1 */
print:  lodsb
        call    putc
        loop    print
        ret

putc:   push    %rdx
        push    %rax
        mov     $COM1 + 5, %dx
1:      in      %dx, %al
        test    $0x20, %al
        jz      1b
        pop     %rax
        mov     $COM1, %dx
        out     %al, %dx
        pop     %rdx
        ret

count_msg: .ascii "count "
        .set    count_len, . - count_msg
rx_msg:   .ascii "rx "
        .set    rx_len, . - rx_msg
fail_msg: .ascii "count: FAIL: R12, memory and R13 disagree\n"
        .set    fail_len, . - fail_msg

        .balign 8
pattern: .quad  0x5a5a5a5a5a5a5a5a
idt_desc:
        .word   256 * 16 - 1
        .quad   idt

        .section .bss
        .balign 16
ticks:  .long   0
next:   .long   0
shown:  .quad   0
        .balign 16
idt:    .space  256 * 16
