package org.jkvm.loader;

/**
 * Where a kernel landed and how to enter it.
 *
 * @param format          the image's format
 * @param entryMode       the CPU state the VMM must set up before jumping to {@code entryGpa}
 * @param entryGpa        guest-physical entry point (bzImage: load address + 0x200, the 64-bit entry)
 * @param bootInfoGpa     the zero page ({@link BootMemoryMap#ZERO_PAGE}) for {@link EntryMode#LINUX_64}, the
 *                        multiboot information structure ({@link BootMemoryMap#MULTIBOOT_INFO}) for
 *                        {@link EntryMode#MULTIBOOT_32}
 * @param kernelStartGpa  lowest guest-physical address the kernel occupies
 * @param kernelEndGpa    one past the highest (for a bzImage: the end of init_size from its runtime start)
 * @param initrdGpa       where the initrd (multiboot: module 0) was placed, 0 if none
 * @param initrdSizeBytes its size in bytes, 0 if none
 */
public record LoadedKernel(KernelFormat format, EntryMode entryMode, long entryGpa, long bootInfoGpa,
                           long kernelStartGpa, long kernelEndGpa, long initrdGpa, long initrdSizeBytes) {
}
