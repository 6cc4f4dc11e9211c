package org.jkvm.loader;

import java.util.ArrayList;
import java.util.List;

import org.jkvm.memory.GuestMemory;

/**
 * Everything a load will write to guest memory, collected first and checked as a whole (every range inside guest
 * RAM, kernel pieces and the initrd pairwise disjoint) before a single byte is written: a refused image leaves guest
 * memory untouched.
 */
final class LoadPlan {
    /** Copy {@code fileLen} bytes of {@code src} and zero-fill up to {@code memLen}. */
    private record FileCopy(String what, ImageFile src, long fileOffset, long fileLen, long gpa, long memLen) {
    }

    private record Blob(String what, long gpa, byte[] data) {
    }

    private final ImageFile kernel;
    private final List<FileCopy> copies = new ArrayList<>();
    private final List<Blob> blobs = new ArrayList<>();

    LoadPlan(ImageFile kernel) {
        this.kernel = kernel;
    }

    /** Load {@code fileLen} bytes from {@code src} at {@code gpa}, then zeros up to {@code memLen} bytes. */
    void copy(String what, ImageFile src, long fileOffset, long fileLen, long gpa, long memLen) {
        copies.add(new FileCopy(what, src, fileOffset, fileLen, gpa, memLen));
    }

    /** Write {@code data} at {@code gpa} (boot structures the loader built). */
    void blob(String what, long gpa, byte[] data) {
        blobs.add(new Blob(what, gpa, data));
    }

    /** Checks the whole plan against {@code memory}; then writes it. */
    void apply(GuestMemory memory) throws KernelLoadException {
        validate(memory);
        for (FileCopy c : copies) {
            c.src().copyTo(memory, c.gpa(), c.fileOffset(), c.fileLen());
            if (c.memLen() > c.fileLen()) {
                memory.fill(c.gpa() + c.fileLen(), c.memLen() - c.fileLen(), (byte) 0);
            }
        }
        for (Blob b : blobs) {
            memory.write(b.gpa(), b.data());
        }
    }

    private void validate(GuestMemory memory) throws KernelLoadException {
        for (int i = 0; i < copies.size(); i++) {
            FileCopy a = copies.get(i);
            if (a.fileLen() < 0 || a.memLen() < a.fileLen()) {
                throw kernel.error(a.what() + ": file size " + a.fileLen() + " exceeds memory size " + a.memLen());
            }
            a.src().requireRange(a.what(), a.fileOffset(), a.fileLen());
            requireRam(memory, a.what(), a.gpa(), a.memLen());
            for (int j = 0; j < i; j++) {
                FileCopy b = copies.get(j);
                if (a.gpa() < b.gpa() + b.memLen() && b.gpa() < a.gpa() + a.memLen()) {
                    throw kernel.error(describe(b.what(), b.gpa(), b.memLen()) + " overlaps "
                            + describe(a.what(), a.gpa(), a.memLen()));
                }
            }
        }
        for (Blob b : blobs) {
            requireRam(memory, b.what(), b.gpa(), b.data().length);
        }
    }

    private void requireRam(GuestMemory memory, String what, long gpa, long len) throws KernelLoadException {
        if (len > 0 && !memory.contains(gpa, len)) {
            throw kernel.error(describe(what, gpa, len) + " is not inside one guest RAM region");
        }
    }

    private static String describe(String what, long gpa, long len) {
        return what + " [" + Le.hex(gpa) + ", " + Le.hex(gpa + len) + ")";
    }
}
