/*
 * hello64.elf: checks jkvm's LINUX_64 entry state and the zero page (struct boot_params), then prints
 * the hello line, the kernel command line and the number of e820 entries.
 * Offsets: Documentation/arch/x86/zero-page.rst and boot.rst in the Linux tree.
 */
#include "../lib/io.h"

struct entry_state {
    u64 rsp, rsi, rflags, cs, ds, es, ss, fs, gs, cr0, cr3, cr4, efer;
    u16 gdt_limit;
    u16 gdt_base_lo;    /* sgdt stores limit (2) then base (8): unaligned base, read it byte-wise */
    u8 gdt_base_rest[6];
};
extern struct entry_state entry_state;

#define ZP_EXT_CMD_LINE_PTR 0x0c8   /* u32: high half of cmd_line_ptr */
#define ZP_E820_ENTRIES     0x1e8   /* u8 */
#define ZP_BOOT_FLAG        0x1fe   /* u16: 0xAA55 */
#define ZP_HEADER           0x202   /* u32: "HdrS" */
#define ZP_CMD_LINE_PTR     0x228   /* u32 */
#define ZP_CMDLINE_SIZE     0x238   /* u32: max length, not counting the NUL */
#define E820_MAX_ZEROPAGE   128

static u16 rd16(const u8 *p) { return (u16)(p[0] | p[1] << 8); }
static u32 rd32(const u8 *p) { return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24; }

static void check_entry_state(const struct entry_state *s)
{
    const u8 *b = (const u8 *)&s->gdt_base_lo;
    u64 gdt_base = 0;
    for (int i = 7; i >= 0; i--)
        gdt_base = gdt_base << 8 | b[i];

    if (s->rsi != 0x7000) fail("entry RSI is not 0x7000");
    if (s->rsp != 0x8ff0) fail("entry RSP is not 0x8ff0");
    if (s->cs != 0x10) fail("entry CS is not 0x10");
    if (s->ds != 0x18 || s->es != 0x18 || s->ss != 0x18 || s->fs != 0x18 || s->gs != 0x18)
        fail("entry DS/ES/SS/FS/GS are not 0x18");
    if (s->rflags & (1u << 9)) fail("entry RFLAGS.IF is set");
    if ((s->cr0 & 0x80000001u) != 0x80000001u) fail("entry CR0.PE/PG not set");
    if (!(s->cr4 & (1u << 5))) fail("entry CR4.PAE not set");
    if ((s->efer & 0x500) != 0x500) fail("entry EFER.LME/LMA not set");
    if ((s->cr3 & ~0xfffUL) != 0x9000) fail("entry CR3 is not 0x9000");
    if (gdt_base != 0x500) fail("entry GDT base is not 0x500");
    if (s->gdt_limit < 0x27) fail("entry GDT limit too small for 5 descriptors");
}

void main(const u8 *zp)
{
    check_entry_state(&entry_state);
    if (rd16(zp + ZP_BOOT_FLAG) != 0xAA55) fail("zero page boot_flag is not 0xAA55");
    if (memcmp(zp + ZP_HEADER, "HdrS", 4) != 0) fail("zero page header is not HdrS");

    puts("jkvm: hello from long mode\n");

    u64 cmdline = rd32(zp + ZP_CMD_LINE_PTR) | (u64)rd32(zp + ZP_EXT_CMD_LINE_PTR) << 32;
    u32 max = rd32(zp + ZP_CMDLINE_SIZE);
    if (max == 0 || max > 65535)
        max = 65535;
    puts("cmdline: ");
    if (cmdline) {
        if (cmdline >= 0x100000000UL) fail("cmd_line_ptr above the 4 GiB identity map");
        const char *p = (const char *)cmdline;
        for (u32 i = 0; i < max && p[i]; i++)
            putc(p[i]);
    }
    putc('\n');

    u32 n = zp[ZP_E820_ENTRIES];
    puts("e820: ");
    put_dec(n);
    puts(" entries\n");
    if (n == 0 || n > E820_MAX_ZEROPAGE) fail("e820 entry count out of range");
    debug_exit(0);
}
