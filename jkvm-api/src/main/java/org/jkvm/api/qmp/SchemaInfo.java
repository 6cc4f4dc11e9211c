package org.jkvm.api.qmp;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * query-qmp-schema's result: every command, event and type jkvm implements as QEMU's {@code SchemaInfo} list
 * (qapi/introspect.json). As QEMU does, the names of enum and object types are hidden behind numbers ("0" is the
 * empty object); builtins keep their names and arrays are named "[element]".
 */
public final class SchemaInfo {
    private final JsonNodeFactory json = JsonNodeFactory.instance;
    private final Map<QapiType, String> names = new LinkedHashMap<>();
    private final ArrayNode types = json.arrayNode();
    private int nextNumber;

    private SchemaInfo() {}

    public static ArrayNode of(Collection<QmpCommand> commands, Collection<QmpCommand.Event> events) {
        SchemaInfo s = new SchemaInfo();
        ArrayNode out = s.json.arrayNode();
        s.ref(QapiType.EMPTY);
        for (QmpCommand c : commands) {
            out.addObject().put("name", c.name()).put("meta-type", "command")
                    .put("arg-type", s.ref(c.args())).put("ret-type", s.ref(c.ret()));
        }
        for (QmpCommand.Event e : events) {
            out.addObject().put("name", e.name()).put("meta-type", "event").put("arg-type", s.ref(e.data()));
        }
        out.addAll(s.types);
        return out;
    }

    private String ref(QapiType t) {
        String known = names.get(t);
        if (known != null) {
            return known;
        }
        String name = switch (t) {
            case QapiType.Builtin b -> b.name();
            case QapiType.Array a -> "[" + ref(a.element()) + "]";
            default -> Integer.toString(nextNumber++);
        };
        names.put(t, name);
        ObjectNode entry = json.objectNode().put("name", name);
        types.add(entry);
        switch (t) {
            case QapiType.Builtin b -> entry.put("meta-type", "builtin").put("json-type", b.jsonType());
            case QapiType.Array a -> entry.put("meta-type", "array").put("element-type", ref(a.element()));
            case QapiType.Enum e -> {
                entry.put("meta-type", "enum");
                ArrayNode members = entry.putArray("members");
                ArrayNode values = entry.putArray("values");
                e.values().forEach(v -> {
                    members.addObject().put("name", v);
                    values.add(v);
                });
            }
            case QapiType.Struct o -> {
                entry.put("meta-type", "object");
                ArrayNode members = entry.putArray("members");
                for (QapiType.Member m : o.members()) {
                    ObjectNode mo = members.addObject().put("name", m.name()).put("type", ref(m.type()));
                    if (m.optional()) {
                        mo.putNull("default");
                    }
                }
                if (o.tag() != null) {
                    entry.put("tag", o.tag());
                    ArrayNode variants = entry.putArray("variants");
                    for (QapiType.Variant v : o.variants()) {
                        variants.addObject().put("case", v.tagValue()).put("type", ref(v.type()));
                    }
                }
            }
        }
        return name;
    }
}
