/*
 * bench-compute.mb / bench-memory.mb: fixed instruction counts for emu speed measurements (bench/emu-mips.sh).
 * Multiboot v1, a.out kludge, entered in 32-bit protected mode with paging off; no output at all, then 0 to
 * isa-debug-exit (the VMM exits with status 1). One source, two images: -DMEMORY selects the memory loop.
 *
 *   compute: 100,000,000 iterations of 6 register instructions (ADD, XOR, IMUL, ROL, DEC, JNZ) = 600,000,000
 *   memory:   80,000,000 iterations of 7 instructions (load, ADD, store, ADD, AND, DEC, JNZ)    = 560,000,000
 *            over 16 MiB at 4 MiB with a stride of 68 bytes (every 4 KiB page ~60 times per pass, 5.5 passes)
 *
 * plus 8 instructions around the loop up to the debug-exit OUT. Keep these numbers in step with bench/emu-mips.sh.
 * (QEMU TCG runs this compute loop at about 2 billion instructions per second, so shorter loops would measure
 * little but its start-up.)
 */
#define MB_MAGIC  0x1BADB002
#define MB_FLAGS  0x00010000            /* bit 16: load/entry addresses are in the header */

#define COMPUTE_ITERATIONS  100000000
#define MEMORY_ITERATIONS   80000000
#define BUFFER_GPA          0x400000
#define BUFFER_DWORDS_MASK  0x3FFFFF    /* 4 Mi dwords = 16 MiB */

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
        xor     %eax, %eax
        mov     $1, %ebx
        xor     %edx, %edx
        xor     %edi, %edi
#ifndef MEMORY
        mov     $COMPUTE_ITERATIONS, %ecx
1:      add     %eax, %ebx
        xor     %ebx, %edx
        imul    $3, %edx, %eax
        rol     $3, %ebx
        dec     %ecx
        jnz     1b
#else
        mov     $MEMORY_ITERATIONS, %ecx
1:      mov     BUFFER_GPA(,%edi,4), %eax
        add     %eax, %edx
        mov     %edx, BUFFER_GPA+4(,%edi,4)
        add     $17, %edi
        and     $BUFFER_DWORDS_MASK, %edi
        dec     %ecx
        jnz     1b
#endif
        mov     $0xF4, %dx              /* isa-debug-exit */
        xor     %eax, %eax
        out     %eax, %dx
2:      cli
        hlt
        jmp     2b
