package org.jkvm.vmm;

import java.util.Locale;

/** Why the VM shut down or reset, with QEMU's names (qapi/run-state.json, {@code ShutdownCause}). */
public enum ShutdownCause {
    NONE, HOST_ERROR, HOST_QMP_QUIT, HOST_QMP_SYSTEM_RESET, HOST_SIGNAL, HOST_UI, GUEST_SHUTDOWN, GUEST_RESET,
    GUEST_PANIC, SUBSYSTEM_RESET, SNAPSHOT_LOAD;

    /** The QAPI name: lower case with dashes ("host-qmp-quit"). */
    public String qapiName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** True for the causes QEMU reports with {@code "guest": true}. */
    public boolean byGuest() {
        return this == GUEST_SHUTDOWN || this == GUEST_RESET || this == GUEST_PANIC;
    }
}
