#ifndef MODES_H
#define MODES_H
#include "../lib/io.h"
#include "layout.h"

struct rtc_time { u32 year, month, day, hour, minute, second; };

/* rtc.c: reads the CMOS clock; returns 0, or a message saying what is wrong. */
const char *rtc_read(struct rtc_time *t);
/* The raw seconds register, for coarse timeouts (a torn read only adds one tick). */
u8 rtc_seconds(void);

/* i8042.c: controller self-test; returns 0, or a message. */
const char *i8042_self_test(void);

/* acpi.c: the MADT's enabled local APICs. */
struct cpu_list {
    u32 count;
    u32 apic_id[MAX_CPUS];
    u64 lapic_gpa;          /* MADT local interrupt controller address (or its 64-bit override) */
};
const char *acpi_find_cpus(struct cpu_list *cpus);

/* smp.c */
void smp_boot(const struct cpu_list *cpus);   /* prints the smp line and exits */

/* Serial output shared between CPUs. */
void console_lock(void);
void console_unlock(void);
#endif
