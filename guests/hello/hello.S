/*
 * hello.mb: the smallest multiboot v1 guest, jkvm's start-up benchmark.
 * Multiboot a.out kludge (header flag bit 16): a flat binary loaded at 1 MiB, entered in 32-bit protected mode.
 * Prints one line on COM1 and writes 0 to isa-debug-exit (the VMM exits with status 1).
 * It never reloads a segment register, so it needs no GDT of its own.
 */
#define MB_MAGIC  0x1BADB002
#define MB_FLAGS  0x00010000            /* bit 16: load/entry addresses are in the header */

        .code32
        .section .text, "ax"
        .globl  _start
mb_header:
        .long   MB_MAGIC
        .long   MB_FLAGS
        .long   -(MB_MAGIC + MB_FLAGS)
        .long   mb_header               /* header_addr */
        .long   __load_start            /* load_addr */
        .long   __load_end              /* load_end_addr */
        .long   __bss_end               /* bss_end_addr */
        .long   _start                  /* entry_addr */

_start:
        mov     $msg, %esi
        mov     $msg_len, %ecx
1:      mov     $0x3FD, %dx             /* COM1 LSR */
2:      in      %dx, %al
        test    $0x20, %al              /* THR empty */
        jz      2b
        mov     $0x3F8, %dx
        lodsb
        out     %al, %dx
        loop    1b
        mov     $0xF4, %dx              /* isa-debug-exit */
        xor     %eax, %eax
        out     %eax, %dx
3:      cli
        hlt
        jmp     3b

msg:    .ascii  "jkvm: hello from a multiboot guest\n"
        .set    msg_len, . - msg
