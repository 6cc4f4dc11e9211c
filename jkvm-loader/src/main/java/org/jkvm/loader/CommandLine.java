package org.jkvm.loader;

import java.nio.charset.StandardCharsets;

/**
 * The kernel command line as the guest reads it: UTF-8 bytes plus a terminating NUL, written at
 * {@link BootMemoryMap#CMDLINE} (boot.rst "cmd_line_ptr", Multiboot 0.6.96 section 3.3 "cmdline").
 */
final class CommandLine {
    private CommandLine() {
    }

    /**
     * The NUL-terminated bytes of {@code cmdline}.
     *
     * @param maxChars the most bytes the kernel accepts, the NUL not counted
     * @param limitName where that limit comes from, for the error message
     */
    static byte[] encode(ImageFile kernel, String cmdline, long maxChars, String limitName)
            throws KernelLoadException {
        if (cmdline.indexOf('\0') >= 0) {
            throw kernel.error("the command line contains a NUL character");
        }
        byte[] text = cmdline.getBytes(StandardCharsets.UTF_8);
        long max = Math.min(maxChars, BootMemoryMap.CMDLINE_MAX - 1);
        if (text.length > max) {
            throw kernel.error("the command line is " + text.length + " bytes; at most " + max + " fit ("
                    + (max == maxChars ? limitName : "jkvm's command line area") + ")");
        }
        byte[] z = new byte[text.length + 1];
        System.arraycopy(text, 0, z, 0, text.length);
        return z;
    }
}
