/*
 * ACPI: RSDP -> XSDT (or RSDT) -> MADT, counting enabled processors (ACPI 6.x sections 5.2.5, 5.2.7, 5.2.8,
 * 5.2.12). Makes no assumption about where the tables are beyond the spec: the RSDP is searched in the first
 * KiB of the EBDA and in 0xE0000-0xFFFFF on 16-byte boundaries; every table's checksum is checked.
 */
#include "modes.h"

static u32 rd32(const u8 *p) { return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24; }
static u64 rd64(const u8 *p) { return rd32(p) | (u64)rd32(p + 4) << 32; }

static int sum_ok(const u8 *p, u32 len)
{
    u8 s = 0;
    while (len--)
        s = (u8)(s + *p++);
    return s == 0;
}

static const u8 *rsdp_scan(u64 from, u64 to)
{
    for (u64 a = from; a + 20 <= to; a += 16) {
        const u8 *p = (const u8 *)a;
        if (memcmp(p, "RSD PTR ", 8) != 0 || !sum_ok(p, 20))
            continue;
        if (p[15] >= 2) {                       /* ACPI 2.0+: 36-byte structure, extended checksum */
            u32 len = rd32(p + 20);
            if (len < 36 || len > 4096 || !sum_ok(p, len))
                continue;
        }
        return p;
    }
    return 0;
}

static const u8 *find_rsdp(void)
{
    u64 ebda = (u64)*(const volatile u16 *)0x40E << 4;     /* BIOS data area: EBDA segment */
    if (ebda >= 0x80000 && ebda < 0xA0000) {
        const u8 *p = rsdp_scan(ebda, ebda + 1024);
        if (p)
            return p;
    }
    return rsdp_scan(0xE0000, 0x100000);
}

/* A system description table header at gpa, checked; 0 if unusable. */
static const u8 *sdt(u64 gpa, const char *sig)
{
    if (gpa == 0 || gpa >= 0x100000000UL)       /* only the first 4 GiB are mapped */
        return 0;
    const u8 *p = (const u8 *)gpa;
    u32 len = rd32(p + 4);
    if (len < 36 || len > (1u << 20) || gpa + len > 0x100000000UL)
        return 0;
    if (sig && memcmp(p, sig, 4) != 0)
        return 0;
    return sum_ok(p, len) ? p : 0;
}

static const char *parse_madt(const u8 *madt, struct cpu_list *cpus)
{
    u32 len = rd32(madt + 4);
    cpus->count = 0;
    cpus->lapic_gpa = rd32(madt + 36);
    for (u32 off = 44; off + 2 <= len;) {
        const u8 *e = madt + off;
        u32 elen = e[1];
        if (elen < 2 || off + elen > len)
            return "acpi: malformed MADT entry";
        u32 id = 0, flags = 0;
        int is_cpu = 0;
        if (e[0] == 0 && elen >= 8) {           /* Processor Local APIC */
            id = e[3];
            flags = rd32(e + 4);
            is_cpu = 1;
        } else if (e[0] == 9 && elen >= 16) {   /* Processor Local x2APIC */
            id = rd32(e + 4);
            flags = rd32(e + 8);
            is_cpu = 1;
        } else if (e[0] == 5 && elen >= 12) {   /* Local APIC Address Override */
            cpus->lapic_gpa = rd64(e + 4);
        }
        if (is_cpu && (flags & 1)) {
            if (id > 254)
                return "acpi: x2APIC id above 254 cannot be started through the xAPIC";
            if (cpus->count == MAX_CPUS)
                return "acpi: more enabled CPUs than this guest supports (64)";
            cpus->apic_id[cpus->count++] = id;
        }
        off += elen;
    }
    if (cpus->count == 0)
        return "acpi: MADT lists no enabled processor";
    return 0;
}

const char *acpi_find_cpus(struct cpu_list *cpus)
{
    const u8 *rsdp = find_rsdp();
    if (!rsdp)
        return "acpi: no RSDP in the EBDA or 0xE0000-0xFFFFF";
    const u8 *root;
    int wide;
    if (rsdp[15] >= 2 && rd64(rsdp + 24) != 0) {
        root = sdt(rd64(rsdp + 24), "XSDT");
        wide = 1;
    } else {
        root = sdt(rd32(rsdp + 16), "RSDT");
        wide = 0;
    }
    if (!root)
        return "acpi: RSDT/XSDT missing or bad checksum";
    u32 n = (rd32(root + 4) - 36) / (wide ? 8 : 4);
    for (u32 i = 0; i < n; i++) {
        const u8 *ent = root + 36 + i * (wide ? 8 : 4);
        const u8 *t = sdt(wide ? rd64(ent) : rd32(ent), 0);
        if (t && memcmp(t, "APIC", 4) == 0)
            return parse_madt(t, cpus);
    }
    return "acpi: no MADT (APIC) table";
}
