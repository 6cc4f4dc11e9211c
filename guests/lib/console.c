/* COM1 output by polling (no interrupts, no FIFO setup: jkvm's and QEMU's 16550A work from reset state). */
#include "io.h"

void putc(char c)
{
    while (!(inb(COM1_LSR) & LSR_THR_EMPTY))
        cpu_relax();
    outb(COM1_PORT, (u8)c);
}

void puts(const char *s)
{
    while (*s)
        putc(*s++);
}

void put_dec(u64 v)
{
    char buf[21];
    int i = 0;
    do {
        buf[i++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (i)
        putc(buf[--i]);
}

void put_dec2(u32 v)
{
    putc((char)('0' + (v / 10) % 10));
    putc((char)('0' + v % 10));
}

void put_hex(u64 v)
{
    int shift = 60;
    puts("0x");
    while (shift > 0 && !((v >> shift) & 0xF))
        shift -= 4;
    for (; shift >= 0; shift -= 4)
        putc("0123456789abcdef"[(v >> shift) & 0xF]);
}

void debug_exit(u32 code)
{
    outl(DEBUG_EXIT_PORT, code);
    /* Not reached under jkvm/QEMU. Without the device, stop here. */
    for (;;)
        __asm__ volatile("cli; hlt");
}

void fail(const char *what)
{
    puts("FAIL: ");
    puts(what);
    putc('\n');
    debug_exit(1);
}

void *memcpy(void *dst, const void *src, usize n)
{
    u8 *d = dst;
    const u8 *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

void *memset(void *dst, int c, usize n)
{
    u8 *d = dst;
    while (n--)
        *d++ = (u8)c;
    return dst;
}

int memcmp(const void *a, const void *b, usize n)
{
    const u8 *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x < *y ? -1 : 1;
    return 0;
}
