package org.jkvm.loader;

/**
 * The CPU state the boot vCPU must be in at the kernel's entry point; the VMM builds it (see docs/loader.md and the
 * boot memory map in {@link BootMemoryMap}).
 */
public enum EntryMode {
    /**
     * Linux 64-bit boot protocol (boot.rst, "64-bit Boot Protocol"): long mode, paging on with the identity map of the
     * first 4 GiB, CS=0x10 (64-bit code), DS/ES/FS/GS/SS=0x18, RSI = zero page, IF=0.
     */
    LINUX_64,
    /**
     * Multiboot 0.6.96 section 3.2 "Machine state": 32-bit protected mode, paging off, CS=0x08 flat code,
     * DS/ES/FS/GS/SS=0x18 flat data, EAX=0x2BADB002, EBX = multiboot information, IF=0, A20 on.
     */
    MULTIBOOT_32
}
