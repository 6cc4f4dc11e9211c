/*
 * irq.elf: a device interrupt through the IOAPIC and the local APIC, in long mode (64-bit ELF, entered per jkvm's
 * LINUX_64 entry state: paging on with the first 4 GiB identity-mapped, so the LAPIC and IOAPIC pages are reachable).
 * COM1's "transmitter empty" interrupt (IER bit 1, gated by MCR OUT2) is ISA IRQ 4. The guest masks the 8259A pair,
 * enables its local APIC, programs IOAPIC pin 4 to vector 0x40 (fixed, physical, edge, destination APIC 0), installs
 * a 64-bit IDT gate for 0x40 and waits with interrupts on. The handler acknowledges the UART (reads IIR), disables the
 * interrupt, writes the LAPIC EOI and counts; IRETQ returns. Then it prints
 *   "irq: COM1 interrupt via IOAPIC pin 4, vector 0x40, taken 1 time(s)"
 * Then the timer: PIT channel 0 in mode 2 at 100 Hz, IRQ 0 arriving on IOAPIC pin 2 (the MADT's override) as vector
 * 0x41; the guest halts until three ticks have come and prints
 *   "irq: PIT channel 0 via IOAPIC pin 2, vector 0x41, 3 ticks"
 * and exits 0 through isa-debug-exit; after a bounded wait without the COM1 interrupt it prints "irq: FAIL: ..." and
 * exits 1 (a missing timer interrupt leaves it halted: the harness's timeout catches that).
 * (Long mode, not 32-bit protected mode: kvm_pvm cannot emulate a 32-bit IRET.)
 */
#define COM1      0x3F8
#define LAPIC     0xFEE00000
#define IOAPIC    0xFEC00000
#define VECTOR    0x40

        .code64
        .section .text, "ax"
        .globl  _start
_start:
        mov     $0x8ff0, %rsp
        /* Mask both 8259As: interrupts flow through the IOAPIC. */
        mov     $0xFF, %al
        out     %al, $0x21
        out     %al, $0xA1

        /* 64-bit interrupt gate for VECTOR: present, DPL 0, selector = our CS. */
        lea     handler(%rip), %rax
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
        lea     timer_handler(%rip), %rax
        lea     idt + (VECTOR + 1) * 16(%rip), %rdi
        mov     %ax, (%rdi)
        mov     %bx, 2(%rdi)
        movw    $0x8E00, 4(%rdi)
        shr     $16, %rax
        mov     %ax, 6(%rdi)
        shr     $16, %rax
        mov     %eax, 8(%rdi)
        movl    $0, 12(%rdi)
        lidt    idt_desc(%rip)

        /* Local APIC: software enable, spurious vector 0xFF; TPR 0. */
        mov     $LAPIC, %rbx
        movl    $0x1FF, 0xF0(%rbx)
        movl    $0, 0x80(%rbx)

        /* IOAPIC pin 4: high dword (destination APIC ID 0), then low dword (vector, fixed, edge, unmasked). */
        mov     $IOAPIC, %rbx
        movl    $0x11 + 2 * 4, (%rbx)
        movl    $0, 0x10(%rbx)
        movl    $0x10 + 2 * 4, (%rbx)
        movl    $VECTOR, 0x10(%rbx)

        /* COM1: OUT2 gates the IRQ to the interrupt controller; then enable the THR-empty interrupt. */
        mov     $COM1 + 4, %dx
        mov     $0x08, %al
        out     %al, %dx
        sti
        mov     $COM1 + 1, %dx
        mov     $0x02, %al
        out     %al, %dx

        /* Wait for the handler (bounded, far more than needed even on a slow CPU). */
        mov     $2000000, %ecx
1:      cmpl    $0, count(%rip)
        jne     2f
        pause
        loop    1b
        cli
        lea     fail_msg(%rip), %rsi
        mov     $fail_len, %ecx
        call    print
        mov     $1, %eax
        jmp     exit

2:      cli
        lea     ok_msg(%rip), %rsi
        mov     $ok_len, %ecx
        call    print
        mov     count(%rip), %eax
        add     $'0', %al
        call    putc
        lea     ok2_msg(%rip), %rsi
        mov     $ok2_len, %ecx
        call    print

        /* IOAPIC pin 2 (ISA IRQ 0 by the source override) -> vector 0x41; PIT channel 0, mode 2, 100 Hz. */
        mov     $IOAPIC, %rbx
        movl    $0x11 + 2 * 2, (%rbx)
        movl    $0, 0x10(%rbx)
        movl    $0x10 + 2 * 2, (%rbx)
        movl    $VECTOR + 1, 0x10(%rbx)
        mov     $0x34, %al              /* channel 0, lobyte/hibyte, mode 2, binary */
        out     %al, $0x43
        mov     $11932, %ax             /* 1193182 Hz / 11932 = 100 Hz */
        out     %al, $0x40
        mov     %ah, %al
        out     %al, $0x40
4:      sti
        hlt
        cli
        cmpl    $3, ticks(%rip)
        jb      4b
        mov     $0x30, %al              /* channel 0 back to mode 0: no more periodic interrupts */
        out     %al, $0x43
        lea     pit_msg(%rip), %rsi
        mov     $pit_len, %ecx
        call    print
        xor     %eax, %eax
exit:   mov     $0xF4, %dx
        out     %eax, %dx
3:      cli
        hlt
        jmp     3b

handler:
        push    %rax
        push    %rdx
        mov     $COM1 + 2, %dx          /* IIR: reading it with THRE pending acknowledges that interrupt */
        in      %dx, %al
        mov     $COM1 + 1, %dx          /* IER = 0: no more UART interrupts */
        xor     %al, %al
        out     %al, %dx
        incl    count(%rip)
        mov     $LAPIC, %rax
        movl    $0, 0xB0(%rax)          /* EOI */
        pop     %rdx
        pop     %rax
        iretq

timer_handler:
        push    %rax
        incl    ticks(%rip)
        mov     $LAPIC, %rax
        movl    $0, 0xB0(%rax)          /* EOI */
        pop     %rax
        iretq

/* print ECX bytes at RSI on COM1 */
print:  lodsb
        call    putc
        loop    print
        ret

putc:   push    %rax
        mov     $COM1 + 5, %dx
1:      in      %dx, %al
        test    $0x20, %al
        jz      1b
        pop     %rax
        mov     $COM1, %dx
        out     %al, %dx
        ret

ok_msg:   .ascii "irq: COM1 interrupt via IOAPIC pin 4, vector 0x40, taken "
        .set    ok_len, . - ok_msg
ok2_msg:  .ascii " time(s)\n"
        .set    ok2_len, . - ok2_msg
pit_msg:  .ascii "irq: PIT channel 0 via IOAPIC pin 2, vector 0x41, 3 ticks\n"
        .set    pit_len, . - pit_msg
fail_msg: .ascii "irq: FAIL: no interrupt from COM1 through the IOAPIC\n"
        .set    fail_len, . - fail_msg

        .balign 8
idt_desc:
        .word   256 * 16 - 1
        .quad   idt

        .section .bss
        .balign 16
count:  .long   0
ticks:  .long   0
        .balign 16
idt:    .space  256 * 16
