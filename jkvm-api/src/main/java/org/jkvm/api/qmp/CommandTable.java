package org.jkvm.api.qmp;

import static org.jkvm.api.qmp.QapiType.optional;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The commands and events a QMP server offers, in order. It always has QMP's own commands: qmp_capabilities
 * (carried out by {@link QmpSession}), query-commands, query-qmp-schema and query-version.
 */
public final class CommandTable {
    /** QMPCapability: QEMU's only one is "oob", which jkvm does not offer. */
    static final QapiType.Enum QMP_CAPABILITY = QapiType.Enum.of("QMPCapability", "oob");
    static final QapiType.Struct CAPABILITIES_ARGS = QapiType.Struct.of("q_obj_qmp_capabilities-arg",
            optional("enable", QapiType.arrayOf(QMP_CAPABILITY)));
    static final QapiType.Struct COMMAND_INFO = QapiType.Struct.of("CommandInfo",
            QapiType.required("name", QapiType.STR));

    /** QEMU's VersionInfo: {"qemu": {"major", "minor", "micro"}, "package"}. */
    public record Version(int major, int minor, int micro, String pkg) {
        public ObjectNode toJson() {
            ObjectNode v = Json.MAPPER.createObjectNode();
            v.putObject("qemu").put("major", major).put("minor", minor).put("micro", micro);
            v.put("package", pkg);
            return v;
        }
    }

    private final Map<String, QmpCommand> commands = new LinkedHashMap<>();
    private final List<QmpCommand.Event> events = new ArrayList<>();
    private final Version version;

    public CommandTable(Version version) {
        this.version = version;
        add(new QmpCommand("qmp_capabilities", CAPABILITIES_ARGS, QapiType.EMPTY, a -> {
            throw new IllegalStateException("handled by QmpSession");
        }));
        add(new QmpCommand("query-commands", QapiType.EMPTY, QapiType.arrayOf(COMMAND_INFO), a -> {
            ArrayNode list = Json.MAPPER.createArrayNode();
            commands.keySet().forEach(n -> list.addObject().put("name", n));
            return list;
        }));
        add(new QmpCommand("query-qmp-schema", QapiType.EMPTY, QapiType.arrayOf(QmpTypes.SCHEMA_INFO),
                a -> SchemaInfo.of(commands.values(), events)));
        add(new QmpCommand("query-version", QapiType.EMPTY, QmpTypes.VERSION_INFO, a -> version.toJson()));
    }

    public CommandTable add(QmpCommand c) {
        if (commands.putIfAbsent(c.name(), c) != null) {
            throw new IllegalArgumentException("command " + c.name() + " is already defined");
        }
        return this;
    }

    public CommandTable addEvent(QmpCommand.Event e) {
        events.add(e);
        return this;
    }

    public QmpCommand get(String name) {
        return commands.get(name);
    }

    public Collection<QmpCommand> commands() {
        return commands.values();
    }

    public List<QmpCommand.Event> events() {
        return events;
    }

    public Version version() {
        return version;
    }

    /** The greeting a client gets on connecting: {"QMP": {"version": ..., "capabilities": []}}. */
    public ObjectNode greeting() {
        ObjectNode g = Json.MAPPER.createObjectNode();
        ObjectNode qmp = g.putObject("QMP");
        qmp.set("version", version.toJson());
        qmp.putArray("capabilities");
        return g;
    }
}
