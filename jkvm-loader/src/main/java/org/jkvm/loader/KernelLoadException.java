package org.jkvm.loader;

import java.nio.file.Path;

/**
 * A kernel or initrd that cannot be loaded. The message is one line: the file, then what is wrong with it, e.g.
 * {@code "/boot/vmlinuz: Linux boot protocol 2.04 is too old (2.06 or later is required)"}.
 */
public final class KernelLoadException extends Exception {
    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final String problem;

    public KernelLoadException(Path file, String problem) {
        this(file, problem, null);
    }

    public KernelLoadException(Path file, String problem, Throwable cause) {
        super(oneLine(file + ": " + problem), cause);
        this.file = file;
        this.problem = oneLine(problem);
    }

    /** The file the problem is in (the kernel or the initrd). */
    public Path file() {
        return file;
    }

    /** The problem, without the file name. */
    public String problem() {
        return problem;
    }

    private static String oneLine(String s) {
        return s.replaceAll("[\\r\\n\\t]+", " ");
    }
}
