package org.jkvm.loader;

/**
 * Where the initrd goes. Linux (boot.rst "initrd_addr_max"): page-aligned, as high as possible with its last byte at
 * or below initrd_addr_max and below the end of low RAM, and above the kernel's end; this is what QEMU and GRUB do
 * and it leaves the most room for the kernel to decompress and grow. Multiboot (0.6.96 section 3.3 "mods"): page
 * aligned (header flag 0), right after the image, as QEMU's multiboot loader places modules.
 */
final class InitrdPlacement {
    static final long PAGE = 4096;

    private InitrdPlacement() {
    }

    /**
     * The initrd's address for a Linux kernel ending at {@code kernelEndGpa}, below {@code limitGpa} (exclusive).
     */
    static long highBelow(ImageFile initrd, long sizeBytes, long kernelEndGpa, long limitGpa)
            throws KernelLoadException {
        requireNonEmpty(initrd, sizeBytes);
        long floor = Placement.alignUp(kernelEndGpa, PAGE);
        long gpa = sizeBytes > limitGpa ? -1 : Placement.alignDown(limitGpa - sizeBytes, PAGE);
        if (gpa < floor) {
            throw initrd.error("initrd of " + sizeBytes + " bytes does not fit between the kernel's end "
                    + Le.hex(kernelEndGpa) + " and its highest allowed address " + Le.hex(limitGpa)
                    + " (give the guest more memory)");
        }
        return gpa;
    }

    /** The module's address for a multiboot image ending at {@code imageEndGpa}, below {@code limitGpa}. */
    static long afterImage(ImageFile initrd, long sizeBytes, long imageEndGpa, long limitGpa)
            throws KernelLoadException {
        requireNonEmpty(initrd, sizeBytes);
        long gpa = Placement.alignUp(imageEndGpa, PAGE);
        if (sizeBytes > limitGpa - gpa) {
            throw initrd.error("module of " + sizeBytes + " bytes does not fit between the image's end "
                    + Le.hex(imageEndGpa) + " and the end of low RAM " + Le.hex(limitGpa)
                    + " (give the guest more memory)");
        }
        return gpa;
    }

    private static void requireNonEmpty(ImageFile initrd, long sizeBytes) throws KernelLoadException {
        if (sizeBytes == 0) {
            throw initrd.error("initrd is empty");
        }
    }
}
