package org.jkvm.loader;

import java.nio.file.Path;
import java.util.Objects;

import org.jkvm.memory.GuestMemory;

/**
 * Loads the kernels QEMU's {@code -kernel} accepts into guest memory and writes their boot information: a Linux
 * bzImage (Documentation/arch/x86/boot.rst, 64-bit boot protocol), a 64-bit ELF such as vmlinux, or a Multiboot
 * 0.6.96 image (a.out kludge or ELF). The image and the initrd are untrusted input: every header field is checked
 * before use, and a refused image leaves guest memory untouched. docs/loader.md describes the design.
 *
 * <pre>{@code
 * BootConfig cfg = new BootConfig(layout, "console=ttyS0", Optional.of(initrd), rsdpGpa);
 * LoadedKernel k = KernelLoader.load(Path.of("bzImage"), cfg, memory);
 * // set up the vCPU for k.entryMode(), RIP = k.entryGpa(), RSI (or EBX) = k.bootInfoGpa()
 * }</pre>
 */
public final class KernelLoader {
    private KernelLoader() {
    }

    private record Detection(KernelFormat format, MultibootHeader multiboot) {
    }

    /**
     * The format of {@code kernel}, looked for in this order: "HdrS" at 0x202 (bzImage, boot protocol 2.06 or later),
     * a multiboot header in the first 8192 bytes, then a 64-bit x86-64 ELF header.
     *
     * @throws KernelLoadException if the file is none of them (or cannot be read), naming the file and the reason
     */
    public static KernelFormat detect(Path kernel) throws KernelLoadException {
        Objects.requireNonNull(kernel, "kernel");
        try (ImageFile f = ImageFile.open(kernel)) {
            return detect(f).format();
        }
    }

    /**
     * Loads {@code kernel} (and the configured initrd) into {@code memory}, which must have been created for
     * {@code config.layout()}, and writes the zero page or multiboot information and the command line.
     *
     * @return where the kernel landed and how to enter it
     * @throws KernelLoadException if the kernel or initrd is unreadable, malformed or does not fit; guest memory is
     *                             then unchanged
     */
    public static LoadedKernel load(Path kernel, BootConfig config, GuestMemory memory) throws KernelLoadException {
        Objects.requireNonNull(kernel, "kernel");
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(memory, "memory");
        if (memory.sizeBytes() != config.layout().sizeBytes()) {
            throw new IllegalArgumentException("guest memory has " + memory.sizeBytes() + " bytes but the layout "
                    + config.layout().sizeBytes());
        }
        try (ImageFile f = ImageFile.open(kernel);
             ImageFile initrd = config.initrd().isPresent() ? ImageFile.open(config.initrd().get()) : null) {
            Detection d = detect(f);
            return switch (d.format()) {
                case BZIMAGE -> BzImageLoader.load(f, config, memory, initrd);
                case ELF64 -> Elf64Loader.load(f, config, memory, initrd);
                case MULTIBOOT -> MultibootLoader.load(f, config, memory, initrd, d.multiboot());
            };
        }
    }

    private static Detection detect(ImageFile f) throws KernelLoadException {
        if (f.sizeBytes() == 0) {
            throw f.error("is empty");
        }
        byte[] head = f.readUpTo(0, MultibootHeader.SEARCH_BYTES);
        if (BzImageLoader.hasHdrS(head)) {
            BzImageLoader.checkVersion(f, head);
            return new Detection(KernelFormat.BZIMAGE, null);
        }
        MultibootHeader.Scan scan = MultibootHeader.scan(head);
        if (scan.header() != null) {
            return new Detection(KernelFormat.MULTIBOOT, scan.header());
        }
        String badChecksum = scan.badChecksumOffset() < 0 ? ""
                : " (the multiboot header at " + Le.hex(scan.badChecksumOffset()) + " has a bad checksum)";
        if (ElfImage.isElf(head)) {
            int cls = ElfImage.elfClass(head);
            int machine = ElfImage.machine(head);
            if (cls == ElfImage.CLASS_64 && machine == ElfImage.EM_X86_64) {
                return new Detection(KernelFormat.ELF64, null);
            }
            if (cls == ElfImage.CLASS_32) {
                throw f.error("is a 32-bit ELF without a multiboot header" + badChecksum + "; jkvm boots 32-bit "
                        + "kernels only through multiboot");
            }
            throw f.error("is an ELF file of class " + cls + " for machine " + machine + ", not a 64-bit x86-64 ELF"
                    + badChecksum);
        }
        throw f.error("not a bzImage, 64-bit ELF or multiboot image" + badChecksum);
    }
}
