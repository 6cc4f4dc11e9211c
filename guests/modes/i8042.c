/* i8042 keyboard controller: command 0xAA (self-test) on port 0x64 answers 0x55 on port 0x60. */
#include "modes.h"

#define I8042_DATA      0x60
#define I8042_STATUS    0x64
#define I8042_COMMAND   0x64
#define STATUS_OBF      0x01
#define STATUS_IBF      0x02

const char *i8042_self_test(void)
{
    for (int i = 0; i < 64 && (inb(I8042_STATUS) & STATUS_OBF); i++)
        (void)inb(I8042_DATA);                          /* drop stale output (firmware, keyboard) */
    int n = 0;
    while (inb(I8042_STATUS) & STATUS_IBF)
        if (++n > 100000)
            return "i8042: input buffer never empties";
    outb(I8042_COMMAND, 0xAA);
    n = 0;
    while (!(inb(I8042_STATUS) & STATUS_OBF))
        if (++n > 100000)
            return "i8042: no reply to self-test";
    u8 v = inb(I8042_DATA);
    if (v != 0x55)
        return "i8042: self-test did not answer 0x55";
    return 0;
}
