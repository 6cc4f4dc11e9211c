/* Shared by boot.S and the C code of modes.mb. */
#ifndef MODES_LAYOUT_H
#define MODES_LAYOUT_H
#define MAX_CPUS            64
#define MAX_APS             (MAX_CPUS - 1)
#define AP_STACK_SHIFT      12              /* 4 KiB per AP */
#define AP_TRAMPOLINE_GPA   0x3000          /* SIPI vector 0x03; must match .trampoline in modes.ld */
#endif
