/*
 * hello64.elf entry: jkvm's LINUX_64 entry state (long mode, paging on, RSI = zero page).
 * Records the registers as found, before touching anything, then calls main() on its own stack.
 */
        .code64
        .section .text.entry, "ax"
        .globl  _start
_start:
        mov     %rsp, entry_state + 0
        mov     %rsi, entry_state + 8
        pushfq                          /* the entry stack at 0x8ff0 is usable by contract */
        popq    entry_state + 16
        xor     %eax, %eax
        mov     %cs, %ax
        mov     %rax, entry_state + 24
        mov     %ds, %ax
        mov     %rax, entry_state + 32
        mov     %es, %ax
        mov     %rax, entry_state + 40
        mov     %ss, %ax
        mov     %rax, entry_state + 48
        mov     %fs, %ax
        mov     %rax, entry_state + 56
        mov     %gs, %ax
        mov     %rax, entry_state + 64
        mov     %cr0, %rax
        mov     %rax, entry_state + 72
        mov     %cr3, %rax
        mov     %rax, entry_state + 80
        mov     %cr4, %rax
        mov     %rax, entry_state + 88
        mov     $0xC0000080, %ecx       /* IA32_EFER */
        rdmsr
        shl     $32, %rdx
        or      %rdx, %rax
        mov     %rax, entry_state + 96
        sgdt    entry_state + 104       /* 2-byte limit, 8-byte base */
        lea     stack_top(%rip), %rsp
        mov     entry_state + 8, %rdi
        call    main
1:      cli
        hlt
        jmp     1b

        .section .bss
        .balign 16
        .globl  entry_state
entry_state:
        .skip   128
        .balign 16
stack:  .skip   16384
stack_top:
