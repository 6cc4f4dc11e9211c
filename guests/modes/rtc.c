/*
 * MC146818 CMOS RTC at ports 0x70 (index) / 0x71 (data). Registers: 0 sec, 2 min, 4 hour, 7 day, 8 month,
 * 9 year, 0x0A status A (bit 7 UIP), 0x0B status B (bit 1: 24-hour, bit 2: binary), 0x32 century.
 */
#include "modes.h"

#define CMOS_INDEX 0x70
#define CMOS_DATA  0x71

static u8 cmos_read(u8 reg)
{
    outb(CMOS_INDEX, reg);
    return inb(CMOS_DATA);
}

u8 rtc_seconds(void)
{
    return cmos_read(0x00);
}

struct raw { u8 sec, min, hour, day, mon, year, century; };

static int wait_uip_clear(void)
{
    for (int i = 0; i < 100000; i++)
        if (!(cmos_read(0x0A) & 0x80))
            return 1;
    return 0;
}

static void read_raw(struct raw *r)
{
    r->sec = cmos_read(0x00);
    r->min = cmos_read(0x02);
    r->hour = cmos_read(0x04);
    r->day = cmos_read(0x07);
    r->mon = cmos_read(0x08);
    r->year = cmos_read(0x09);
    r->century = cmos_read(0x32);
}

static int bcd_ok(u8 v) { return (v & 0x0F) <= 9 && (v >> 4) <= 9; }
static u32 bcd(u8 v) { return (u32)(v >> 4) * 10 + (v & 0x0F); }

const char *rtc_read(struct rtc_time *t)
{
    struct raw a, b;
    int stable = 0;
    /* Read twice around UIP until two reads agree: an update may start right after the UIP check. */
    for (int tries = 0; tries < 10 && !stable; tries++) {
        if (!wait_uip_clear())
            return "rtc: update-in-progress never cleared";
        read_raw(&a);
        if (!wait_uip_clear())
            return "rtc: update-in-progress never cleared";
        read_raw(&b);
        stable = memcmp(&a, &b, sizeof a) == 0;
    }
    if (!stable)
        return "rtc: no two consecutive reads agree";

    u8 regb = cmos_read(0x0B);
    int binary = regb & 0x04, h24 = regb & 0x02;
    int pm = !h24 && (a.hour & 0x80);
    u8 hour = h24 ? a.hour : (u8)(a.hour & 0x7F);
    if (!binary) {
        if (!bcd_ok(a.sec) || !bcd_ok(a.min) || !bcd_ok(hour) || !bcd_ok(a.day) || !bcd_ok(a.mon)
            || !bcd_ok(a.year) || !bcd_ok(a.century))
            return "rtc: invalid BCD digit";
        t->second = bcd(a.sec); t->minute = bcd(a.min); t->hour = bcd(hour);
        t->day = bcd(a.day); t->month = bcd(a.mon); t->year = bcd(a.year) + 100 * bcd(a.century);
        if (bcd(a.year) > 99) return "rtc: year out of range";
    } else {
        t->second = a.sec; t->minute = a.min; t->hour = hour;
        t->day = a.day; t->month = a.mon; t->year = a.year + 100u * a.century;
        if (a.year > 99) return "rtc: year out of range";
    }
    if (!h24) {
        if (t->hour < 1 || t->hour > 12) return "rtc: 12-hour clock hour out of range";
        t->hour = t->hour % 12 + (pm ? 12 : 0);
    }
    if (t->year < 1900 || t->year > 2199) return "rtc: century (register 0x32) out of range";
    if (t->month < 1 || t->month > 12) return "rtc: month out of range";
    if (t->day < 1 || t->day > 31) return "rtc: day out of range";
    if (t->hour > 23) return "rtc: hour out of range";
    if (t->minute > 59) return "rtc: minute out of range";
    if (t->second > 59) return "rtc: second out of range";
    return 0;
}
