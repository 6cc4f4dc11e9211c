/*
 * vblk.elf: a minimal virtio 1.2 block driver over PCI (modern transport, split ring, MSI-X), freestanding.
 *
 * It proves the device path end to end on either backend: PCI configuration through ports 0xCF8/0xCFC, the
 * VMM-assigned BARs, the virtio vendor capabilities, feature negotiation, one virtqueue, a notification through the
 * notify BAR (an ioeventfd on KVM), and a completion interrupt through MSI-X (an irqfd route on KVM) into the IDT.
 * The disk is the first virtio-blk function (1AF4:1042). Prints one line per step, then exits 0 through
 * isa-debug-exit; on any failure a "FAIL: ..." line and exit 1.
 *   1. GET_ID: the serial number (--disk serial=...)
 *   2. read sector 0 and print its first 32 bytes (the test puts a text there)
 *   3. write sector 1 with a pattern (bytes i ^ 0x5A), FLUSH
 *   4. read sector 1 back and compare
 */
#include "../lib/io.h"

#define PCI_ADDR 0xCF8
#define PCI_DATA 0xCFC

#define VIRTIO_VENDOR 0x1AF4
#define VIRTIO_BLK_MODERN 0x1042

#define CAP_VENDOR 0x09
#define CAP_MSIX 0x11
#define CFG_COMMON 1
#define CFG_NOTIFY 2
#define CFG_DEVICE 4

#define STATUS_ACK 1
#define STATUS_DRIVER 2
#define STATUS_DRIVER_OK 4
#define STATUS_FEATURES_OK 8
#define STATUS_NEEDS_RESET 0x40

#define VIRTIO_F_VERSION_1 32

#define BLK_T_IN 0
#define BLK_T_OUT 1
#define BLK_T_FLUSH 4
#define BLK_T_GET_ID 8

#define QSIZE 8
#define VECTOR 0x50

#define DESC_F_NEXT 1
#define DESC_F_WRITE 2

struct desc { u64 addr; u32 len; u16 flags; u16 next; };
struct avail { u16 flags; u16 idx; u16 ring[QSIZE]; u16 used_event; };
struct used_elem { u32 id; u32 len; };
struct used { u16 flags; u16 idx; struct used_elem ring[QSIZE]; u16 avail_event; };
struct blk_req { u32 type; u32 reserved; u64 sector; };

static struct desc descs[QSIZE] __attribute__((aligned(4096)));
static struct avail avail_ring __attribute__((aligned(4096)));
static struct used used_ring __attribute__((aligned(4096)));
static struct blk_req req __attribute__((aligned(16)));
static u8 data[512] __attribute__((aligned(512)));
static volatile u8 status_byte;

/* Page-table pages for mapping BARs above the 4 GiB identity map. */
static u64 pt_pool[8][512] __attribute__((aligned(4096)));
static int pt_used;

extern volatile u32 msix_count;

static u32 pci_read32(int dev, int reg)
{
    outl(PCI_ADDR, 0x80000000u | ((u32)dev << 11) | (u32)(reg & 0xFC));
    u32 v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"((u16)PCI_DATA));
    return v;
}

static void pci_write32(int dev, int reg, u32 v)
{
    outl(PCI_ADDR, 0x80000000u | ((u32)dev << 11) | (u32)(reg & 0xFC));
    outl(PCI_DATA, v);
}

static u8 pci_read8(int dev, int reg) { return (u8)(pci_read32(dev, reg) >> ((reg & 3) * 8)); }
static u16 pci_read16(int dev, int reg) { return (u16)(pci_read32(dev, reg) >> ((reg & 2) * 8)); }

static void pci_write16(int dev, int reg, u16 v)
{
    u32 old = pci_read32(dev, reg);
    int sh = (reg & 2) * 8;
    pci_write32(dev, reg, (old & ~(0xFFFFu << sh)) | ((u32)v << sh));
}

/* Identity-maps the 2 MiB page holding gpa (needed for 64-bit BARs above the boot tables' 4 GiB). */
static void map_2m(u64 gpa)
{
    u64 cr3;
    __asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
    u64 *table = (u64 *)(cr3 & ~0xFFFul);
    for (int level = 3; level >= 2; level--) {
        int idx = (int)((gpa >> (12 + 9 * level)) & 511);
        if (!(table[idx] & 1)) {
            if (pt_used == 8) {
                fail("vblk: out of page-table pages");
            }
            table[idx] = (u64)pt_pool[pt_used++] | 3;
        } else if (table[idx] & 0x80) {
            return; /* already a large page */
        }
        table = (u64 *)(table[idx] & 0x000FFFFFFFFFF000ul);
    }
    table[(gpa >> 21) & 511] = (gpa & ~0x1FFFFFul) | 0x83; /* present, writable, 2 MiB */
    __asm__ volatile("mov %0, %%cr3" : : "r"(cr3) : "memory");
}

static u64 bar_address(int dev, int bar)
{
    u32 lo = pci_read32(dev, 0x10 + bar * 4);
    if (lo & 1) {
        fail("vblk: virtio structure in an I/O BAR");
    }
    u64 addr = lo & ~0xFul;
    if (((lo >> 1) & 3) == 2) {
        addr |= (u64)pci_read32(dev, 0x14 + bar * 4) << 32;
    }
    if (addr == 0) {
        fail("vblk: BAR not assigned");
    }
    return addr;
}

static u64 common, notify_base, device_cfg;
static u32 notify_mult;

static u8 r8(u64 a) { return *(volatile u8 *)a; }
static u16 r16(u64 a) { return *(volatile u16 *)a; }
static u32 r32(u64 a) { return *(volatile u32 *)a; }
static void w8(u64 a, u8 v) { *(volatile u8 *)a = v; }
static void w16(u64 a, u16 v) { *(volatile u16 *)a = v; }
static void w32(u64 a, u32 v) { *(volatile u32 *)a = v; }
static void w64(u64 a, u64 v) { w32(a, (u32)v); w32(a + 4, (u32)(v >> 32)); }

static u16 notify_off;
static u16 last_used;

/* Submits the chain starting at descriptor 0 and waits, halted, for its MSI-X interrupt and used entry. */
static void submit(const char *what)
{
    u32 irqs = msix_count;
    avail_ring.ring[avail_ring.idx % QSIZE] = 0;
    __asm__ volatile("mfence" ::: "memory");
    avail_ring.idx++;
    __asm__ volatile("mfence" ::: "memory");
    w16(notify_base + (u64)notify_off * notify_mult, 0);
    for (;;) {
        __asm__ volatile("cli" ::: "memory");
        if (msix_count != irqs) {
            break;
        }
        __asm__ volatile("sti; hlt" ::: "memory"); /* the completion's interrupt wakes it */
    }
    __asm__ volatile("sti" ::: "memory");
    if (*(volatile u16 *)&used_ring.idx != (u16)(last_used + 1)) {
        puts("vblk: used idx ");
        put_dec(used_ring.idx);
        puts("\n");
        fail(what);
    }
    last_used++;
    if (r8(common + 0x14) & STATUS_NEEDS_RESET) {
        fail("vblk: device needs reset");
    }
}

static void request(u32 type, u64 sector, u32 len, int device_writes, const char *what)
{
    req.type = type;
    req.reserved = 0;
    req.sector = sector;
    status_byte = 0xFF;
    descs[0] = (struct desc){(u64)&req, sizeof(req), DESC_F_NEXT, 1};
    if (len) {
        descs[1] = (struct desc){(u64)data, len, (u16)(DESC_F_NEXT | (device_writes ? DESC_F_WRITE : 0)), 2};
        descs[2] = (struct desc){(u64)&status_byte, 1, DESC_F_WRITE, 0};
    } else {
        descs[1] = (struct desc){(u64)&status_byte, 1, DESC_F_WRITE, 0};
    }
    submit(what);
    if (status_byte != 0) {
        puts("vblk: status ");
        put_dec(status_byte);
        puts("\n");
        fail(what);
    }
}

void main(void)
{
    int dev = -1;
    for (int d = 0; d < 32; d++) {
        u32 id = pci_read32(d, 0);
        if ((id & 0xFFFF) == VIRTIO_VENDOR && (id >> 16) == VIRTIO_BLK_MODERN) {
            dev = d;
            break;
        }
    }
    if (dev < 0) {
        fail("vblk: no virtio-blk device on bus 0");
    }
    puts("vblk: virtio-blk at 00:");
    put_dec2((u32)dev);
    puts(".0\n");

    /* Capabilities: the virtio structures and MSI-X. */
    int msix = 0;
    u64 msix_table = 0;
    if (!(pci_read16(dev, 0x06) & 0x10)) {
        fail("vblk: no capability list");
    }
    for (int cap = pci_read8(dev, 0x34) & 0xFC, n = 0; cap && n < 48; cap = pci_read8(dev, cap + 1) & 0xFC, n++) {
        u8 id = pci_read8(dev, cap);
        if (id == CAP_VENDOR) {
            u8 type = pci_read8(dev, cap + 3);
            u8 bar = pci_read8(dev, cap + 4);
            u64 at = bar_address(dev, bar) + pci_read32(dev, cap + 8);
            if (type == CFG_COMMON) {
                common = at;
            } else if (type == CFG_NOTIFY) {
                notify_base = at;
                notify_mult = pci_read32(dev, cap + 16);
            } else if (type == CFG_DEVICE) {
                device_cfg = at;
            }
        } else if (id == CAP_MSIX) {
            msix = cap;
            u32 t = pci_read32(dev, cap + 4);
            msix_table = bar_address(dev, (int)(t & 7)) + (t & ~7u);
        }
    }
    if (!common || !notify_base || !device_cfg || !msix) {
        fail("vblk: missing common/notify/device/MSI-X capability");
    }
    map_2m(common);
    map_2m(notify_base);
    map_2m(device_cfg);
    map_2m(msix_table);
    pci_write16(dev, 0x04, pci_read16(dev, 0x04) | 0x6); /* memory space, bus master */

    /* Device initialization (virtio 1.2 section 3.1.1). */
    w8(common + 0x14, 0);
    while (r8(common + 0x14) != 0) {
        cpu_relax();
    }
    w8(common + 0x14, STATUS_ACK);
    w8(common + 0x14, STATUS_ACK | STATUS_DRIVER);
    w32(common + 0x00, 1);
    if (!(r32(common + 0x04) & (1u << (VIRTIO_F_VERSION_1 - 32)))) {
        fail("vblk: VIRTIO_F_VERSION_1 not offered");
    }
    w32(common + 0x08, 0);
    w32(common + 0x0C, 0);
    w32(common + 0x08, 1);
    w32(common + 0x0C, 1u << (VIRTIO_F_VERSION_1 - 32));
    w8(common + 0x14, STATUS_ACK | STATUS_DRIVER | STATUS_FEATURES_OK);
    if (!(r8(common + 0x14) & STATUS_FEATURES_OK)) {
        fail("vblk: FEATURES_OK not accepted");
    }
    u64 capacity = (u64)r32(device_cfg) | ((u64)r32(device_cfg + 4) << 32);

    /* MSI-X: entry 0 -> vector VECTOR on APIC 0; enabled, function unmasked. */
    w32(msix_table + 0, 0xFEE00000u);
    w32(msix_table + 4, 0);
    w32(msix_table + 8, VECTOR);
    w32(msix_table + 12, 0);
    pci_write16(dev, msix + 2, (u16)((pci_read16(dev, msix + 2) & ~0x4000) | 0x8000));
    w16(common + 0x10, 0xFFFF); /* no configuration-change vector */

    /* Queue 0. */
    w16(common + 0x16, 0);
    if (r16(common + 0x18) < QSIZE) {
        fail("vblk: queue 0 too small");
    }
    w16(common + 0x18, QSIZE);
    w16(common + 0x1A, 0);
    if (r16(common + 0x1A) != 0) {
        fail("vblk: MSI-X vector 0 refused for queue 0");
    }
    notify_off = r16(common + 0x1E);
    w64(common + 0x20, (u64)descs);
    w64(common + 0x28, (u64)&avail_ring);
    w64(common + 0x30, (u64)&used_ring);
    w16(common + 0x1C, 1);
    w8(common + 0x14, STATUS_ACK | STATUS_DRIVER | STATUS_FEATURES_OK | STATUS_DRIVER_OK);

    /* The local APIC takes the MSI: software-enabled, TPR 0. */
    mmio_write32(0xFEE000F0, 0x1FF);
    mmio_write32(0xFEE00080, 0);
    __asm__ volatile("sti");
    puts("vblk: capacity ");
    put_dec(capacity);
    puts(" sectors\n");

    memset(data, 0, sizeof(data));
    request(BLK_T_GET_ID, 0, 20, 1, "vblk: GET_ID");
    puts("vblk: serial ");
    data[20] = 0;
    puts((const char *)data);
    puts("\n");

    request(BLK_T_IN, 0, 512, 1, "vblk: read sector 0");
    puts("vblk: sector 0: ");
    for (int i = 0; i < 32 && data[i] >= 0x20 && data[i] < 0x7F; i++) {
        putc((char)data[i]);
    }
    puts("\n");

    for (int i = 0; i < 512; i++) {
        data[i] = (u8)(i ^ 0x5A);
    }
    request(BLK_T_OUT, 1, 512, 0, "vblk: write sector 1");
    request(BLK_T_FLUSH, 0, 0, 0, "vblk: flush");
    memset(data, 0, sizeof(data));
    request(BLK_T_IN, 1, 512, 1, "vblk: read sector 1");
    for (int i = 0; i < 512; i++) {
        if (data[i] != (u8)(i ^ 0x5A)) {
            fail("vblk: sector 1 read back differs");
        }
    }
    puts("vblk: wrote, flushed and read back sector 1; ");
    put_dec(msix_count);
    puts(" MSI-X interrupts\n");
    debug_exit(0);
}
