package org.jkvm.hypervisor;

/** A vCPU's multiprocessing state (KVM_MP_STATE_*), in KVM's numbering. */
public enum MpState {
    RUNNABLE(0),
    UNINITIALIZED(1),
    INIT_RECEIVED(2),
    HALTED(3),
    SIPI_RECEIVED(4);

    private final int kvmValue;

    MpState(int kvmValue) {
        this.kvmValue = kvmValue;
    }

    public int kvmValue() {
        return kvmValue;
    }

    public static MpState ofKvm(int value) {
        for (MpState s : values()) {
            if (s.kvmValue == value) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown mp_state " + value);
    }
}
