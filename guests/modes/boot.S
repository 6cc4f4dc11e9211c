/*
 * modes.mb start-up code: multiboot v1 (a.out kludge) entry in 32-bit protected mode, a trip through real mode
 * and back, the switch to long mode on our own page tables, and the AP trampoline (real mode -> long mode).
 *
 * Low-memory code (0x2000: real-mode thunk, 0x3000: AP trampoline) is linked at its run address and copied
 * there from the image by the BSP; see modes.ld.
 */
#include "layout.h"

#define MB_MAGIC        0x1BADB002
#define MB_FLAGS        0x00010000      /* bit 16: a.out kludge, addresses below */

#define SEL_CODE32      0x08
#define SEL_DATA        0x10
#define SEL_CODE64      0x18
#define SEL_CODE16      0x20
#define SEL_DATA16      0x28

#define COM1            0x3F8
#define COM1_LSR        0x3FD
#define DEBUG_EXIT      0xF4

#define MSR_EFER        0xC0000080
#define EFER_LME        0x100
#define CR0_PE          0x1
#define CR0_PG          0x80000000
#define CR4_PAE         0x20

/* 32-bit protected mode -> long mode on page_tables, then far jump to target (a 64-bit address < 4 GiB). */
.macro ENTER_LONG_MODE target
        mov     $pml4, %eax
        mov     %eax, %cr3
        mov     %cr4, %eax
        or      $CR4_PAE, %eax
        mov     %eax, %cr4
        mov     $MSR_EFER, %ecx
        rdmsr
        or      $EFER_LME, %eax
        wrmsr
        mov     %cr0, %eax
        or      $CR0_PG, %eax
        mov     %eax, %cr0
        ljmp    $SEL_CODE64, $\target
.endm

/* ------------------------------------------------------------------------------------------------------ */
        .section .text.multiboot, "ax"
        .code32
        .balign 4
mb_header:
        .long   MB_MAGIC
        .long   MB_FLAGS
        .long   -(MB_MAGIC + MB_FLAGS)
        .long   mb_header               /* header_addr */
        .long   __load_start            /* load_addr */
        .long   __load_end              /* load_end_addr */
        .long   __image_end             /* bss_end_addr */
        .long   _start                  /* entry_addr */

        .globl  _start
_start:
        cli
        cld
        /* The multiboot spec leaves GDTR undefined: load ours before touching a segment register. */
        lgdt    gdt_desc
        ljmp    $SEL_CODE32, $1f
1:      mov     $SEL_DATA, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %fs
        mov     %ax, %gs
        mov     %ax, %ss
        mov     $bsp_stack_top, %esp

        /* bss (page tables, variables; not the stacks) */
        mov     $__bss_start, %edi
        mov     $__bss_end, %ecx
        sub     %edi, %ecx
        shr     $2, %ecx
        xor     %eax, %eax
        rep stosl
        /* low-memory code */
        mov     $__realmode_lma, %esi
        mov     $__realmode_vma, %edi
        mov     $__realmode_size, %ecx
        rep movsb
        mov     $__trampoline_lma, %esi
        mov     $__trampoline_vma, %edi
        mov     $__trampoline_size, %ecx
        rep movsb

        mov     $msg_pm32, %esi
        call    puts32

        /* Down to real mode: first a 16-bit protected-mode segment (base 0, limit 64 KiB) running below 64 KiB. */
        ljmp    $SEL_CODE16, $rm_thunk

        /* Back from real mode (ljmpl from the thunk). */
pm32_again:
        mov     $SEL_DATA, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %fs
        mov     %ax, %gs
        mov     %ax, %ss
        mov     $bsp_stack_top, %esp
        mov     %cr0, %eax
        test    $CR0_PE, %eax
        jz      fail32
        mov     $msg_pm32_again, %esi
        call    puts32

        call    build_page_tables
        ENTER_LONG_MODE bsp_long64

/* AP path, from the trampoline: protected mode with paging off, no stack. */
        .globl  ap_pm32
ap_pm32:
        mov     $SEL_DATA, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %ss
        ENTER_LONG_MODE ap_long64

/* Prints the NUL-terminated string at %esi on COM1. Clobbers eax, edx, esi. */
puts32:
1:      mov     $COM1_LSR, %dx
2:      in      %dx, %al
        test    $0x20, %al
        jz      2b
        lodsb
        test    %al, %al
        jz      3f
        mov     $COM1, %dx
        out     %al, %dx
        jmp     1b
3:      ret

fail32:
        mov     $msg_fail32, %esi
        call    puts32
        mov     $DEBUG_EXIT, %dx
        mov     $1, %eax
        out     %eax, %dx
4:      hlt
        jmp     4b

/*
 * Identity map of the first 4 GiB with 2 MiB pages: PML4[0] -> PDPT, PDPT[0..3] -> pd[0..3].
 * The top GiB (MMIO hole: IOAPIC, LAPIC) is mapped uncached.
 */
build_page_tables:
        movl    $pdpt + 0x3, pml4       /* present, writable */
        mov     $pd, %eax
        or      $0x3, %eax
        xor     %ecx, %ecx
1:      mov     %eax, pdpt(,%ecx,8)
        add     $0x1000, %eax
        inc     %ecx
        cmp     $4, %ecx
        jb      1b
        xor     %ecx, %ecx              /* entry index 0..2047 */
2:      mov     %ecx, %eax
        shl     $21, %eax               /* low 32 bits of the 2 MiB frame */
        or      $0x83, %eax             /* present, writable, PS */
        cmp     $1536, %ecx
        jb      3f
        or      $0x18, %eax             /* PWT | PCD above 3 GiB */
3:      mov     %eax, pd(,%ecx,8)
        inc     %ecx
        cmp     $2048, %ecx
        jb      2b
        ret

/* ------------------------------------------------------------------------------------------------------ */
        .code64
bsp_long64:
        mov     $SEL_DATA, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %ss
        mov     $bsp_stack_top, %rsp
        call    bsp_main
        jmp     halt64

ap_long64:
        mov     $SEL_DATA, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %ss
        mov     $1, %eax
        lock xadd %eax, ap_ticket       /* 0, 1, 2, ... in start-up order: picks this AP's stack */
        cmp     $MAX_APS, %eax
        jae     halt64
        inc     %eax
        shl     $AP_STACK_SHIFT, %rax
        lea     ap_stacks(%rax), %rsp
        call    ap_main
halt64:
        cli
        hlt
        jmp     halt64

/* ------------------------------------------------------------------------------------------------------ */
        .section .rodata
        .balign 8
gdt:
        .quad   0
        .quad   0x00CF9A000000FFFF      /* 0x08 code32, flat */
        .quad   0x00CF92000000FFFF      /* 0x10 data, flat */
        .quad   0x00AF9A000000FFFF      /* 0x18 code64 (L=1) */
        .quad   0x00009A000000FFFF      /* 0x20 code16, base 0, limit 64 KiB */
        .quad   0x000092000000FFFF      /* 0x28 data16, base 0, limit 64 KiB */
gdt_end:
gdt_desc:
        .word   gdt_end - gdt - 1
        .long   gdt

msg_pm32:       .asciz "mode: protected32\n"
msg_pm32_again: .asciz "mode: protected32 again\n"
msg_fail32:     .asciz "FAIL: not in protected mode after the real-mode trip\n"

/* ------------------------------------------------------------------------------------------------------ */
/* Real-mode thunk, runs at 0x2000 (below 64 KiB, so 16-bit offsets reach it). */
        .section .realmode, "ax"
        .code16
rm_thunk:
        mov     $SEL_DATA16, %ax        /* real-mode-compatible limits before PE goes off */
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %fs
        mov     %ax, %gs
        mov     %ax, %ss
        mov     %cr0, %eax
        and     $~CR0_PE, %eax
        mov     %eax, %cr0
        ljmp    $0, $rm_real
rm_real:
        xor     %ax, %ax
        mov     %ax, %ds
        mov     %ax, %ss
        mov     $0x1FF0, %sp
        /* Prove real-mode addressing: ES=0x100 makes ES:0 the linear address 0x1000. In protected mode
         * 0x100 would be a selector (and fault). */
        mov     $0x100, %ax
        mov     %ax, %es
        movw    $0x5AA5, %es:0
        cmpw    $0x5AA5, 0x1000
        jne     rm_fail
        mov     $rm_msg, %si
        call    rm_puts
        /* Back to protected mode: the GDT is still loaded; reload it anyway from a low copy of its descriptor. */
        lgdtl   rm_gdt_desc
        mov     %cr0, %eax
        or      $CR0_PE, %eax
        mov     %eax, %cr0
        ljmpl   $SEL_CODE32, $pm32_again

rm_fail:
        mov     $rm_fail_msg, %si
        call    rm_puts
        mov     $DEBUG_EXIT, %dx
        mov     $1, %eax
        outl    %eax, %dx
1:      hlt
        jmp     1b

rm_puts:
1:      mov     $COM1_LSR, %dx
2:      in      %dx, %al
        test    $0x20, %al
        jz      2b
        lodsb
        test    %al, %al
        jz      3f
        mov     $COM1, %dx
        out     %al, %dx
        jmp     1b
3:      ret

        .balign 4
rm_gdt_desc:
        .word   gdt_end - gdt - 1
        .long   gdt
rm_msg:         .asciz "mode: real16\n"
rm_fail_msg:    .asciz "FAIL: real-mode segment arithmetic\n"

/* ------------------------------------------------------------------------------------------------------ */
/* AP trampoline at 0x3000: SIPI vector 0x03 starts an AP here with CS=0x0300, IP=0, in real mode. */
        .section .trampoline, "ax"
        .code16
        .globl  ap_trampoline
ap_trampoline:
        cli
        ljmp    $0, $1f                 /* CS=0: offsets below are linear addresses */
1:      xor     %ax, %ax
        mov     %ax, %ds
        lgdtl   ap_gdt_desc
        mov     %cr0, %eax
        or      $CR0_PE, %eax
        mov     %eax, %cr0
        ljmpl   $SEL_CODE32, $ap_pm32

        .balign 4
ap_gdt_desc:
        .word   gdt_end - gdt - 1
        .long   gdt

/* ------------------------------------------------------------------------------------------------------ */
        .section .bss
        .balign 4096
        .globl  pml4
pml4:   .skip   4096
pdpt:   .skip   4096
pd:     .skip   4 * 4096
        .globl  ap_ticket
ap_ticket:
        .long   0

/* Stacks: not cleared by _start (they need not be zero), still inside the multiboot bss range. */
        .section .stacks, "aw", @nobits
        .balign 4096
bsp_stack:
        .skip   16384
bsp_stack_top:
ap_stacks:
        .skip   MAX_APS << AP_STACK_SHIFT
