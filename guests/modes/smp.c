/*
 * SMP start-up through the xAPIC (Intel SDM vol. 3, 10.6 "Issuing interprocessor interrupts" and 8.4.4
 * "MP initialization example"): INIT, INIT de-assert, then two STARTUP IPIs with vector 0x03, so each AP starts
 * in real mode at 0x3000 (boot.S: ap_trampoline -> ap_pm32 -> ap_long64 -> ap_main).
 */
#include "modes.h"

#define MSR_APIC_BASE       0x1B
#define APIC_BASE_ENABLE    (1u << 11)
#define APIC_BASE_X2APIC    (1u << 10)

#define LAPIC_ID            0x020
#define LAPIC_SVR           0x0F0
#define LAPIC_ICR_LO        0x300
#define LAPIC_ICR_HI        0x310
#define ICR_BUSY            (1u << 12)
#define ICR_INIT_ASSERT     0x00004500      /* level assert, delivery mode INIT */
#define ICR_INIT_DEASSERT   0x00008500      /* level-triggered, de-assert, INIT */
#define ICR_STARTUP         0x00004600      /* delivery mode STARTUP; vector = page number of the entry */

/*
 * How long the BSP waits for the APs: at most AP_WAIT_SECONDS ticks of the RTC's seconds register (checked every
 * 1024 polls), and at most AP_WAIT_BUDGET polling iterations (one PAUSE and one load each) in case the clock
 * stands still. A poll costs ~30 ns on hardware KVM, ~0.3 us under TCG and ~6 us under an emulating /dev/kvm
 * (kvm_pvm), so the seconds bound is the one that ends a failed run; a working start-up takes milliseconds.
 */
#define AP_WAIT_SECONDS     10
#define AP_WAIT_BUDGET      50000000UL

static volatile u32 console_word;
static volatile u32 aps_up;
static u64 lapic;

void console_lock(void)
{
    while (__atomic_exchange_n(&console_word, 1, __ATOMIC_ACQUIRE))   /* lock-prefixed (implicit) xchg */
        while (console_word)
            cpu_relax();
}

void console_unlock(void)
{
    __atomic_store_n(&console_word, 0, __ATOMIC_RELEASE);
}

static u32 lapic_read(u32 reg) { return mmio_read32(lapic + reg); }
static void lapic_write(u32 reg, u32 v) { mmio_write32(lapic + reg, v); }

static void settle(u32 iterations)
{
    for (u32 i = 0; i < iterations; i++)
        cpu_relax();
}

static void send_ipi(u32 apic_id, u32 icr_lo)
{
    lapic_write(LAPIC_ICR_HI, apic_id << 24);
    lapic_write(LAPIC_ICR_LO, icr_lo);
    for (u32 i = 0; lapic_read(LAPIC_ICR_LO) & ICR_BUSY; i++)
        if (i > 100000)
            fail("smp: ICR delivery status stays busy");
}

/* Runs on each AP, on its own stack, in long mode. */
void ap_main(void)
{
    u32 id = lapic_read(LAPIC_ID) >> 24;
    console_lock();
    puts("cpu: apic id ");
    put_dec(id);
    puts(" up\n");
    console_unlock();
    __atomic_fetch_add(&aps_up, 1, __ATOMIC_RELEASE);
}

void smp_boot(const struct cpu_list *cpus)
{
    u64 base = rdmsr(MSR_APIC_BASE);
    if (!(base & APIC_BASE_ENABLE))
        fail("smp: local APIC disabled in IA32_APIC_BASE");
    if (base & APIC_BASE_X2APIC)
        fail("smp: local APIC is in x2APIC mode");
    if ((base & 0xFFFFFF000UL) != cpus->lapic_gpa)
        fail("smp: IA32_APIC_BASE disagrees with the MADT's local APIC address");
    lapic = cpus->lapic_gpa;
    lapic_write(LAPIC_SVR, lapic_read(LAPIC_SVR) | 0x1FF);         /* software enable, spurious vector 0xFF */

    u32 bsp_id = lapic_read(LAPIC_ID) >> 24;
    int bsp_listed = 0;
    for (u32 i = 0; i < cpus->count; i++)
        bsp_listed |= cpus->apic_id[i] == bsp_id;
    if (!bsp_listed)
        fail("smp: the BSP's APIC ID is not in the MADT");

    for (u32 i = 0; i < cpus->count; i++)
        if (cpus->apic_id[i] != bsp_id)
            send_ipi(cpus->apic_id[i], ICR_INIT_ASSERT);
    for (u32 i = 0; i < cpus->count; i++)
        if (cpus->apic_id[i] != bsp_id)
            send_ipi(cpus->apic_id[i], ICR_INIT_DEASSERT);
    settle(10000);
    for (int round = 0; round < 2; round++) {
        for (u32 i = 0; i < cpus->count; i++)
            if (cpus->apic_id[i] != bsp_id)
                send_ipi(cpus->apic_id[i], ICR_STARTUP | (AP_TRAMPOLINE_GPA >> 12));
        settle(2000);
    }

    u32 want = cpus->count - 1;
    u8 last_second = rtc_seconds();
    u32 ticks = 0;
    for (u64 i = 0; i < AP_WAIT_BUDGET && ticks < AP_WAIT_SECONDS
                    && __atomic_load_n(&aps_up, __ATOMIC_ACQUIRE) < want; i++) {
        cpu_relax();
        if ((i & 1023) == 1023) {
            u8 s = rtc_seconds();
            ticks += s != last_second;
            last_second = s;
        }
    }

    u32 up = __atomic_load_n(&aps_up, __ATOMIC_ACQUIRE) + 1;
    console_lock();
    if (up == cpus->count) {
        puts("smp: ");
        put_dec(up);
        puts(" of ");
        put_dec(cpus->count);
        puts(" cpus up\n");
        debug_exit(0);
    }
    puts("smp: timeout, ");
    put_dec(up);
    puts(" of ");
    put_dec(cpus->count);
    puts(" cpus up\n");
    debug_exit(1);
}
