package org.jkvm.vmm;

import java.util.Locale;

/**
 * The VM's run state, with QEMU's names (qapi/run-state.json, {@code RunState}). jkvm enters {@link #PRELAUNCH},
 * {@link #RUNNING}, {@link #PAUSED}, {@link #SHUTDOWN} and {@link #INTERNAL_ERROR}; the others exist so the schema
 * jkvm publishes is QEMU's enum.
 */
public enum RunState {
    DEBUG, INMIGRATE, INTERNAL_ERROR, IO_ERROR, PAUSED, POSTMIGRATE, PRELAUNCH, FINISH_MIGRATE, RESTORE_VM, RUNNING,
    SAVE_VM, SHUTDOWN, SUSPENDED, WATCHDOG, GUEST_PANICKED, COLO;

    /** The QAPI name: lower case with dashes ("internal-error"). */
    public String qapiName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
