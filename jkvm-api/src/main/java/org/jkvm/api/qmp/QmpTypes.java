package org.jkvm.api.qmp;

import static org.jkvm.api.qmp.QapiType.BOOL;
import static org.jkvm.api.qmp.QapiType.INT;
import static org.jkvm.api.qmp.QapiType.STR;
import static org.jkvm.api.qmp.QapiType.arrayOf;
import static org.jkvm.api.qmp.QapiType.optional;
import static org.jkvm.api.qmp.QapiType.required;

import java.util.Arrays;
import java.util.List;

import org.jkvm.vmm.RunState;
import org.jkvm.vmm.ShutdownCause;

/**
 * The QAPI types of jkvm's commands and events, with QEMU's member names, types and optionality (qapi/*.json of
 * QEMU 7.2, the version the compatibility test runs). Where a QEMU type has members jkvm cannot fill, only the
 * members jkvm reports are declared; docs/qmp.md lists them. Block and PCI types are in {@link BlockCommands} and
 * {@link PciCommands}.
 */
public final class QmpTypes {
    private QmpTypes() {}

    public static final QapiType.Enum RUN_STATE = new QapiType.Enum("RunState",
            Arrays.stream(RunState.values()).map(RunState::qapiName).toList());
    public static final QapiType.Enum SHUTDOWN_CAUSE = new QapiType.Enum("ShutdownCause",
            Arrays.stream(ShutdownCause.values()).map(ShutdownCause::qapiName).toList());

    public static final QapiType.Struct VERSION_INFO = QapiType.Struct.of("VersionInfo",
            required("qemu", QapiType.Struct.of("VersionTriple", required("major", INT), required("minor", INT),
                    required("micro", INT))),
            required("package", STR));
    public static final QapiType.Struct STATUS_INFO = QapiType.Struct.of("StatusInfo",
            required("running", BOOL), required("singlestep", BOOL), required("status", RUN_STATE));
    public static final QapiType.Struct NAME_INFO = QapiType.Struct.of("NameInfo", optional("name", STR));
    public static final QapiType.Struct UUID_INFO = QapiType.Struct.of("UuidInfo", required("UUID", STR));
    public static final QapiType.Struct KVM_INFO = QapiType.Struct.of("KvmInfo",
            required("enabled", BOOL), required("present", BOOL));
    public static final QapiType.Struct CPU_INSTANCE_PROPERTIES = QapiType.Struct.of("CpuInstanceProperties",
            optional("node-id", INT), optional("socket-id", INT), optional("die-id", INT),
            optional("cluster-id", INT), optional("core-id", INT), optional("thread-id", INT));
    public static final QapiType.Enum SYS_EMU_TARGET = QapiType.Enum.of("SysEmuTarget", "x86_64");
    public static final QapiType.Struct CPU_INFO_FAST = new QapiType.Struct("CpuInfoFast",
            List.of(required("cpu-index", INT), required("qom-path", STR), required("thread-id", INT),
                    optional("props", CPU_INSTANCE_PROPERTIES), required("target", SYS_EMU_TARGET)),
            "target", List.of(new QapiType.Variant("x86_64", QapiType.EMPTY)));
    public static final QapiType.Struct HOTPLUGGABLE_CPU = QapiType.Struct.of("HotpluggableCPU",
            required("type", STR), required("vcpus-count", INT), required("props", CPU_INSTANCE_PROPERTIES),
            optional("qom-path", STR));
    public static final QapiType.Struct MEMORY_INFO = QapiType.Struct.of("MemoryInfo",
            required("base-memory", INT), optional("plugged-memory", INT));
    public static final QapiType.Struct CHARDEV_INFO = QapiType.Struct.of("ChardevInfo",
            required("label", STR), required("filename", STR), required("frontend-open", BOOL));
    public static final QapiType.Struct HMP_ARGS = QapiType.Struct.of("q_obj_human-monitor-command-arg",
            required("command-line", STR), optional("cpu-index", INT));
    public static final QapiType.Struct SHUTDOWN_DATA = QapiType.Struct.of("q_obj_SHUTDOWN-arg",
            required("guest", BOOL), required("reason", SHUTDOWN_CAUSE));
    /** GUEST_PANICKED's data without the optional "info" (pvpanic carries no crash details). */
    public static final QapiType.Struct GUEST_PANICKED_DATA = QapiType.Struct.of("q_obj_GUEST_PANICKED-arg",
            required("action", QapiType.Enum.of("GuestPanicAction", "pause", "poweroff", "run")));
    public static final QapiType.Struct RESET_DATA = QapiType.Struct.of("q_obj_RESET-arg",
            required("guest", BOOL), required("reason", SHUTDOWN_CAUSE));

    // SchemaInfo itself (qapi/introspect.json), so query-qmp-schema describes its own result.
    private static final QapiType.Enum META_TYPE = QapiType.Enum.of("SchemaMetaType",
            "builtin", "enum", "array", "object", "alternate", "command", "event");
    private static final QapiType.Array STR_LIST = arrayOf(STR);
    public static final QapiType.Struct SCHEMA_INFO = new QapiType.Struct("SchemaInfo",
            List.of(required("name", STR), required("meta-type", META_TYPE), optional("features", STR_LIST)),
            "meta-type", List.of(
                    new QapiType.Variant("builtin", QapiType.Struct.of("SchemaInfoBuiltin",
                            required("json-type", QapiType.Enum.of("JSONType", "string", "number", "int",
                                    "boolean", "null", "object", "array", "value")))),
                    new QapiType.Variant("enum", QapiType.Struct.of("SchemaInfoEnum",
                            required("members", arrayOf(QapiType.Struct.of("SchemaInfoEnumMember",
                                    required("name", STR), optional("features", STR_LIST)))),
                            required("values", STR_LIST))),
                    new QapiType.Variant("array", QapiType.Struct.of("SchemaInfoArray",
                            required("element-type", STR))),
                    new QapiType.Variant("object", QapiType.Struct.of("SchemaInfoObject",
                            required("members", arrayOf(QapiType.Struct.of("SchemaInfoObjectMember",
                                    required("name", STR), required("type", STR), optional("default", QapiType.ANY),
                                    optional("features", STR_LIST)))),
                            optional("tag", STR),
                            optional("variants", arrayOf(QapiType.Struct.of("SchemaInfoObjectVariant",
                                    required("case", STR), required("type", STR)))))),
                    new QapiType.Variant("alternate", QapiType.Struct.of("SchemaInfoAlternate",
                            required("members", arrayOf(QapiType.Struct.of("SchemaInfoAlternateMember",
                                    required("type", STR)))))),
                    new QapiType.Variant("command", QapiType.Struct.of("SchemaInfoCommand",
                            required("arg-type", STR), required("ret-type", STR), optional("allow-oob", BOOL))),
                    new QapiType.Variant("event", QapiType.Struct.of("SchemaInfoEvent",
                            required("arg-type", STR)))));
}
