package org.jkvm.vmm;

/**
 * What the VM tells its listeners (the QMP monitor), named and shaped as QEMU's events of the same name
 * (qapi/run-state.json). Delivered synchronously on the thread that caused them, so a listener must not block.
 */
public sealed interface VmEvent {
    /** QEMU's event name. */
    String name();

    /** The VM is shutting down (QEMU's SHUTDOWN); jkvm exits after it. */
    record Shutdown(boolean guest, ShutdownCause reason) implements VmEvent {
        @Override
        public String name() {
            return "SHUTDOWN";
        }
    }

    /** The VM is being reset (QEMU's RESET); a new boot follows. */
    record Reset(boolean guest, ShutdownCause reason) implements VmEvent {
        @Override
        public String name() {
            return "RESET";
        }
    }

    /**
     * The guest reported a kernel panic (QEMU's GUEST_PANICKED); {@code action} is what the VM does about it:
     * "poweroff" (jkvm ends it with exit status 4, SHUTDOWN reason "guest-panic").
     */
    record GuestPanicked(String action) implements VmEvent {
        @Override
        public String name() {
            return "GUEST_PANICKED";
        }
    }

    /** The power button was pressed (QEMU's POWERDOWN); the guest decides what to do. */
    record Powerdown() implements VmEvent {
        @Override
        public String name() {
            return "POWERDOWN";
        }
    }

    /** Every vCPU is paused (QEMU's STOP). */
    record Stop() implements VmEvent {
        @Override
        public String name() {
            return "STOP";
        }
    }

    /** The vCPUs run again (QEMU's RESUME). */
    record Resume() implements VmEvent {
        @Override
        public String name() {
            return "RESUME";
        }
    }

    /**
     * The guest changed a NIC's receive filter (QEMU's NIC_RX_FILTER_CHANGED): sent once, then again only after
     * the monitor has asked query-rx-filter for that NIC.
     */
    record NicRxFilterChanged(String nic, String path) implements VmEvent {
        @Override
        public String name() {
            return "NIC_RX_FILTER_CHANGED";
        }
    }

    /** Receives events; called on whichever thread caused the event, so it must return promptly. */
    @FunctionalInterface
    interface Listener {
        void onEvent(VmEvent event);
    }
}
