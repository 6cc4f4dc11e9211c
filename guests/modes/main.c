/* modes.mb, 64-bit part on the BSP: RTC, i8042, ACPI, SMP. Each step prints one line or fails with a reason. */
#include "modes.h"

static void check(const char *err)
{
    if (err)
        fail(err);
}

void bsp_main(void)
{
    static struct cpu_list cpus;
    struct rtc_time t;

    if (!(rdmsr(0xC0000080) & 0x400))
        fail("EFER.LMA is clear after the switch to long mode");
    puts("mode: long64\n");

    check(rtc_read(&t));
    puts("rtc: ");
    put_dec(t.year);
    putc('-');
    put_dec2(t.month);
    putc('-');
    put_dec2(t.day);
    putc(' ');
    put_dec2(t.hour);
    putc(':');
    put_dec2(t.minute);
    putc(':');
    put_dec2(t.second);
    putc('\n');

    check(i8042_self_test());
    puts("i8042: self-test ok\n");

    check(acpi_find_cpus(&cpus));
    puts("acpi: ");
    put_dec(cpus.count);
    puts(" cpus\n");

    smp_boot(&cpus);
}
