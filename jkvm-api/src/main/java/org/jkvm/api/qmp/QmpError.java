package org.jkvm.api.qmp;

/**
 * A command's failure as QMP reports it: {@code {"error": {"class": ..., "desc": ...}}} (docs/interop/qmp-spec.rst,
 * "Error"). The classes are QEMU's (qapi/error.json, {@code QapiErrorClass}).
 */
public final class QmpError extends Exception {
    private static final long serialVersionUID = 1L;

    /** QEMU's error classes. Almost everything is {@link #GenericError}, as in QEMU. */
    public enum ErrorClass { GenericError, CommandNotFound, DeviceNotActive, DeviceNotFound, KVMMissingCap }

    private final ErrorClass errorClass;

    public QmpError(ErrorClass errorClass, String desc) {
        super(desc, null, false, false);
        this.errorClass = errorClass;
    }

    public static QmpError generic(String desc) {
        return new QmpError(ErrorClass.GenericError, desc);
    }

    public ErrorClass errorClass() {
        return errorClass;
    }

    public String desc() {
        return getMessage();
    }
}
