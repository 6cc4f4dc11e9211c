/*
 * vblk.elf entry: jkvm's LINUX_64 entry state (long mode, first 4 GiB identity-mapped). Sets up a stack and an IDT
 * whose vector 0x50 is the virtio-blk queue's MSI-X interrupt: the handler counts into msix_count, writes the local
 * APIC EOI and returns; every other vector stays absent (a stray interrupt is a triple fault: the test sees it).
 */
#define LAPIC   0xFEE00000
#define VECTOR  0x50

        .code64
        .section .text.entry, "ax"
        .globl  _start
_start:
        lea     stack_top(%rip), %rsp
        lea     msix_handler(%rip), %rax
        lea     idt + VECTOR * 16(%rip), %rdi
        mov     %ax, (%rdi)
        mov     %cs, %bx
        mov     %bx, 2(%rdi)
        movw    $0x8E00, 4(%rdi)        /* present, DPL 0, 64-bit interrupt gate */
        shr     $16, %rax
        mov     %ax, 6(%rdi)
        shr     $16, %rax
        mov     %eax, 8(%rdi)
        movl    $0, 12(%rdi)
        lidt    idt_desc(%rip)
        call    main
1:      jmp     1b                      /* main ends through isa-debug-exit */

msix_handler:
        push    %rax
        lock incl msix_count(%rip)
        mov     $LAPIC, %eax
        movl    $0, 0xB0(%rax)          /* EOI */
        pop     %rax
        iretq

        .section .data
        .balign 8
idt_desc:
        .word   256 * 16 - 1
        .quad   idt
        .globl  msix_count
        .balign 4
msix_count:
        .long   0

        .section .bss
        .balign 16
idt:
        .skip   256 * 16
        .balign 16
        .skip   16384
stack_top:
