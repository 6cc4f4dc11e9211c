package org.jkvm.loader;

/** The kernel image formats {@link KernelLoader} accepts, as QEMU's {@code -kernel} does. */
public enum KernelFormat {
    /** A Linux bzImage (Documentation/arch/x86/boot.rst, boot protocol 2.12 or later, entered at its 64-bit entry). */
    BZIMAGE,
    /** A 64-bit x86-64 ELF executable such as Linux's vmlinux: PT_LOAD segments at p_paddr, entry at e_entry. */
    ELF64,
    /** A Multiboot 0.6.96 image: the a.out kludge (header flag 16) or an ELF image with a multiboot header. */
    MULTIBOOT
}
