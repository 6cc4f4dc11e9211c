/*
 * hello64-qemu.mb: a test aid, not a jkvm guest. QEMU cannot boot a 64-bit ELF with -kernel, so this multiboot
 * image carries hello64.elf and recreates jkvm's LINUX_64 entry state for it (GDT at 0x500, zero page at 0x7000,
 * command line at 0x20000, page tables at 0x9000-0xEFFF, CS=0x10, data 0x18, RSP=0x8ff0, RSI=0x7000, RFLAGS=0x2),
 * so hello64.elf itself can be checked under QEMU. Loaded at 4 MiB, clear of hello64's image at 1 MiB.
 */
#define MB_MAGIC        0x1BADB002
#define MB_FLAGS        0x00010000

        .section .text.multiboot, "ax"
        .code32
        .balign 4
mb_header:
        .long   MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)
        .long   mb_header, __load_start, __load_end, __image_end, _start

        .globl  _start
_start:
        cli
        cld
        lgdt    shim_gdt_desc
        ljmp    $0x08, $1f
1:      mov     $0x18, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %ss
        mov     $stack_top, %esp
        mov     %ebx, mbi_gpa
        /* Temporary identity map (4 GiB, 2 MiB pages) in our bss. */
        movl    $pdpt + 3, pml4
        mov     $pd + 3, %eax
        xor     %ecx, %ecx
2:      mov     %eax, pdpt(,%ecx,8)
        add     $0x1000, %eax
        inc     %ecx
        cmp     $4, %ecx
        jb      2b
        xor     %ecx, %ecx
3:      mov     %ecx, %eax
        shl     $21, %eax
        or      $0x83, %eax
        mov     %eax, pd(,%ecx,8)
        inc     %ecx
        cmp     $2048, %ecx
        jb      3b
        mov     $pml4, %eax
        mov     %eax, %cr3
        mov     %cr4, %eax
        or      $0x20, %eax
        mov     %eax, %cr4
        mov     $0xC0000080, %ecx
        rdmsr
        or      $0x100, %eax
        wrmsr
        mov     %cr0, %eax
        or      $0x80000000, %eax
        mov     %eax, %cr0
        ljmp    $0x10, $long64

        .code64
long64:
        mov     $0x18, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %ss
        mov     $stack_top, %rsp
        mov     mbi_gpa, %edi
        call    shim_main               /* builds the low-memory state, loads hello64; returns its entry */
        mov     %rax, %r15
        mov     $0x9000, %eax           /* jkvm's page tables, same identity map */
        mov     %rax, %cr3
        lgdt    jkvm_gdt_desc           /* GDT at 0x500 */
        pushq   $0x10
        pushq   $4f
        lretq
4:      mov     $0x18, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %fs
        mov     %ax, %gs
        mov     %ax, %ss
        mov     $0x8ff0, %rsp
        pushq   $0x2
        popfq
        mov     $0x7000, %esi
        xor     %eax, %eax
        jmp     *%r15

        .section .rodata
        .balign 8
shim_gdt:                               /* the same layout as jkvm's GDT at 0x500 */
        .quad   0, 0x00CF9A000000FFFF, 0x00AF9A000000FFFF, 0x00CF92000000FFFF, 0
shim_gdt_desc:
        .word   shim_gdt_desc - shim_gdt - 1
        .long   shim_gdt
        .globl  jkvm_gdt_desc
jkvm_gdt_desc:
        .word   0x27
        .quad   0x500
        .globl  payload, payload_end
        .balign 16
payload:
        .incbin PAYLOAD
payload_end:

        .section .bss
        .balign 4096
pml4:   .skip   4096
pdpt:   .skip   4096
pd:     .skip   4 * 4096
mbi_gpa: .long  0
        .balign 16
        .skip   16384
stack_top:
