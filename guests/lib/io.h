/* Port I/O, MMIO and the two devices every jkvm test guest uses: COM1 and isa-debug-exit. */
#ifndef JKVM_GUEST_IO_H
#define JKVM_GUEST_IO_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long u64;
typedef unsigned long usize;

#define COM1_PORT        0x3F8
#define COM1_LSR         (COM1_PORT + 5)
#define LSR_THR_EMPTY    0x20
#define DEBUG_EXIT_PORT  0xF4

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(u16 port, u32 v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) { u8 v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static inline u32 mmio_read32(u64 gpa) { return *(volatile u32 *)gpa; }
static inline void mmio_write32(u64 gpa, u32 v) { *(volatile u32 *)gpa = v; }

static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }

static inline u64 rdmsr(u32 msr)
{
    u32 lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((u64)hi << 32) | lo;
}

/* console.c */
void putc(char c);
void puts(const char *s);           /* no newline added */
void put_dec(u64 v);
void put_hex(u64 v);                /* "0x..." */
void put_dec2(u32 v);               /* two digits, zero padded */

/* Writes code to isa-debug-exit: the VMM exits with status (code << 1) | 1. Never returns. */
__attribute__((noreturn)) void debug_exit(u32 code);
/* Prints "FAIL: <what>\n" and exits with code 1. */
__attribute__((noreturn)) void fail(const char *what);

void *memcpy(void *dst, const void *src, usize n);
void *memset(void *dst, int c, usize n);
int memcmp(const void *a, const void *b, usize n);

#endif
