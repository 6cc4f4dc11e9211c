/* hello64-qemu.mb: recreates jkvm's LINUX_64 boot state from QEMU's multiboot information (see boot.S). */
#include "../lib/io.h"

extern const u8 payload[], payload_end[];

static u32 rd32(const u8 *p) { return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24; }
static u64 rd64(const u8 *p) { return rd32(p) | (u64)rd32(p + 4) << 32; }
static u16 rd16(const u8 *p) { return (u16)(p[0] | p[1] << 8); }
static void wr16(u8 *p, u16 v) { p[0] = (u8)v; p[1] = (u8)(v >> 8); }
static void wr32(u8 *p, u32 v) { wr16(p, (u16)v); wr16(p + 2, (u16)(v >> 16)); }
static void wr64(u8 *p, u64 v) { wr32(p, (u32)v); wr32(p + 4, (u32)(v >> 32)); }

#define ZERO_PAGE   ((u8 *)0x7000)
#define CMDLINE     ((char *)0x20000)

u64 shim_main(u32 mbi_gpa)
{
    const u8 *mbi = (const u8 *)(u64)mbi_gpa;
    u32 flags = rd32(mbi);

    /* Read everything from the multiboot info first: QEMU keeps it at 0x9000, where the page tables go. */
    memset(ZERO_PAGE, 0, 4096);
    u32 n = 0;
    if (flags & (1u << 6)) {
        const u8 *e = (const u8 *)(u64)rd32(mbi + 48), *end = e + rd32(mbi + 44);
        for (; e < end && n < 128; e += rd32(e) + 4, n++) {
            u8 *z = ZERO_PAGE + 0x2d0 + 20 * n;
            wr64(z, rd64(e + 4));
            wr64(z + 8, rd64(e + 12));
            wr32(z + 16, rd32(e + 20));
        }
    }
    ZERO_PAGE[0x1e8] = (u8)n;
    u32 len = 0;
    if (flags & (1u << 2)) {
        const char *c = (const char *)(u64)rd32(mbi + 16);
        while (c[len] && len < 0xFFFF - 1) {
            CMDLINE[len] = c[len];
            len++;
        }
    }
    CMDLINE[len] = 0;
    wr16(ZERO_PAGE + 0x1fe, 0xAA55);
    memcpy(ZERO_PAGE + 0x202, "HdrS", 4);
    wr16(ZERO_PAGE + 0x206, 0x020f);
    ZERO_PAGE[0x210] = 0xff;                        /* type_of_loader: undefined */
    wr32(ZERO_PAGE + 0x228, 0x20000);
    wr32(ZERO_PAGE + 0x238, 0xFFFF - 1);

    static const u64 gdt[5] = { 0, 0x00CF9A000000FFFF, 0x00AF9A000000FFFF, 0x00CF92000000FFFF, 0 };
    memcpy((void *)0x500, gdt, sizeof gdt);

    u64 *pml4 = (u64 *)0x9000, *pdpt = (u64 *)0xA000, *pd = (u64 *)0xB000;
    memset(pml4, 0, 0x6000);
    pml4[0] = 0xA000 | 3;
    for (u64 i = 0; i < 4; i++)
        pdpt[i] = (0xB000 + i * 0x1000) | 3;
    for (u64 i = 0; i < 2048; i++)
        pd[i] = (i << 21) | 0x83;

    const u8 *elf = payload;
    if (memcmp(elf, "\177ELF", 4) || elf[4] != 2 || rd16(elf + 18) != 62)
        fail("shim: payload is not an x86-64 ELF64");
    u64 phoff = rd64(elf + 32);
    u16 phentsize = rd16(elf + 54), phnum = rd16(elf + 56);
    for (u16 i = 0; i < phnum; i++) {
        const u8 *ph = elf + phoff + (u64)i * phentsize;
        if (rd32(ph) != 1)
            continue;
        u64 off = rd64(ph + 8), paddr = rd64(ph + 24), filesz = rd64(ph + 32), memsz = rd64(ph + 40);
        if (paddr < 0x100000 || paddr + memsz > 0x400000 || elf + off + filesz > payload_end)
            fail("shim: PT_LOAD outside 1-4 MiB or beyond the file");
        memcpy((void *)paddr, elf + off, filesz);
        memset((u8 *)paddr + filesz, 0, memsz - filesz);
    }
    return rd64(elf + 24);
}
