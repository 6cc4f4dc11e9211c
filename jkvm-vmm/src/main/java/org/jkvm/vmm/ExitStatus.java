package org.jkvm.vmm;

/**
 * How a VM ended: the process exit code, a one-line reason, and QEMU's cause. Codes: 0 clean power-off, reboot or
 * signal; odd values {@code (v << 1) | 1} from the debug-exit port; {@link #GUEST_CRASH} for a triple fault, a
 * kernel panic the guest reports through pvpanic, or a backend failure.
 *
 * @param reset true when the VM is to be reset (a guest reboot, which {@link VmConfig.RebootAction#RESTART} turns
 *              into a new boot, or QMP's system_reset, which always does)
 * @param cause QEMU's ShutdownCause for the SHUTDOWN or RESET event
 */
public record ExitStatus(int code, String message, boolean reset, ShutdownCause cause) {
    /** Exit code when the guest crashed (triple fault, kernel panic, internal error, failed entry) or jkvm failed at run time. */
    public static final int GUEST_CRASH = 4;

    public ExitStatus(int code, String message, boolean reset) {
        this(code, message, reset, reset ? ShutdownCause.GUEST_RESET : ShutdownCause.GUEST_SHUTDOWN);
    }

    public static ExitStatus powerOff(String why) {
        return new ExitStatus(0, why, false, ShutdownCause.GUEST_SHUTDOWN);
    }

    public static ExitStatus reset(String why) {
        return new ExitStatus(0, why, true, ShutdownCause.GUEST_RESET);
    }

    public static ExitStatus crash(String why) {
        return new ExitStatus(GUEST_CRASH, why, false, ShutdownCause.HOST_ERROR);
    }

    /** The guest reported a kernel panic (pvpanic): QEMU's GUEST_PANICKED with the "poweroff" action. */
    public static ExitStatus panic(String why) {
        return new ExitStatus(GUEST_CRASH, why, false, ShutdownCause.GUEST_PANIC);
    }

    /** The host ends the VM (signal, Ctrl-A x, QMP quit): exit status 0. */
    public static ExitStatus host(ShutdownCause cause, String why) {
        return new ExitStatus(0, why, false, cause);
    }
}
