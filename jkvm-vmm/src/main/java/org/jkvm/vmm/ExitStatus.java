package org.jkvm.vmm;

/**
 * How a VM ended: the process exit code and a one-line reason. Codes: 0 clean power-off, reboot or signal; odd
 * values {@code (v << 1) | 1} from the debug-exit port; {@link #GUEST_CRASH} for a triple fault or backend failure.
 *
 * @param reset true when the guest asked for a reset (reboot), which {@link VmConfig.RebootAction#RESTART} turns into
 *              a new boot
 */
public record ExitStatus(int code, String message, boolean reset) {
    /** Exit code when the guest crashed (triple fault, internal error, failed entry) or jkvm failed at run time. */
    public static final int GUEST_CRASH = 4;

    public static ExitStatus powerOff(String why) {
        return new ExitStatus(0, why, false);
    }

    public static ExitStatus reset(String why) {
        return new ExitStatus(0, why, true);
    }

    public static ExitStatus crash(String why) {
        return new ExitStatus(GUEST_CRASH, why, false);
    }
}
