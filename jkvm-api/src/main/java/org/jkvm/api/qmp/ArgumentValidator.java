package org.jkvm.api.qmp;

import java.util.Iterator;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Checks a command's arguments against its argument type, failing as QEMU's input visitor does and with its words:
 * members in declaration order ("Parameter 'x' is missing", "Invalid parameter type for 'x', expected: integer",
 * "Parameter 'x' does not accept value 'y'"), then members the type does not have ("Parameter 'x' is unexpected").
 * Nested members are named with dots and array elements with brackets ("enable[0]"), as QEMU names them.
 */
public final class ArgumentValidator {
    private ArgumentValidator() {}

    /** @param args the "arguments" object, or null when the request had none */
    public static void validate(QapiType.Struct type, JsonNode args) throws QmpError {
        checkObject(type, args, "");
    }

    private static void checkObject(QapiType.Struct type, JsonNode node, String prefix) throws QmpError {
        if (node == null || node.isNull()) {
            node = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
        }
        for (QapiType.Member m : type.members()) {
            JsonNode v = node.get(m.name());
            String path = prefix + m.name();
            if (v == null) {
                if (!m.optional()) {
                    throw QmpError.generic("Parameter '" + path + "' is missing");
                }
                continue;
            }
            check(m.type(), v, path);
        }
        if (type.tag() != null) {
            JsonNode tag = node.get(type.tag());
            for (QapiType.Variant variant : type.variants()) {
                if (tag != null && tag.asText().equals(variant.tagValue())
                        && variant.type() instanceof QapiType.Struct extra) {
                    checkObject(new QapiType.Struct(type.name(), extra.members(), null, null), node, prefix);
                }
            }
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            String name = it.next().getKey();
            if (type.member(name) == null && !inVariant(type, node, name)) {
                throw QmpError.generic("Parameter '" + prefix + name + "' is unexpected");
            }
        }
    }

    private static boolean inVariant(QapiType.Struct type, JsonNode node, String name) {
        if (type.tag() == null || node.get(type.tag()) == null) {
            return false;
        }
        String tag = node.get(type.tag()).asText();
        return type.variants().stream().anyMatch(v -> v.tagValue().equals(tag)
                && v.type() instanceof QapiType.Struct o && o.member(name) != null);
    }

    private static void check(QapiType type, JsonNode v, String path) throws QmpError {
        switch (type) {
            case QapiType.Builtin b -> {
                boolean ok = switch (b.jsonType()) {
                    case "string" -> v.isTextual();
                    case "int" -> v.isIntegralNumber() && v.canConvertToLong();
                    case "number" -> v.isNumber();
                    case "boolean" -> v.isBoolean();
                    case "null" -> v.isNull();
                    default -> true;
                };
                if (!ok) {
                    throw wrongType(path, expected(b.jsonType()));
                }
            }
            case QapiType.Enum e -> {
                if (!v.isTextual()) {
                    throw wrongType(path, "string");
                }
                if (!e.values().contains(v.asText())) {
                    throw QmpError.generic("Parameter '" + path + "' does not accept value '" + v.asText() + "'");
                }
            }
            case QapiType.Array a -> {
                if (!v.isArray()) {
                    throw wrongType(path, "array");
                }
                for (int i = 0; i < v.size(); i++) {
                    check(a.element(), v.get(i), path + "[" + i + "]");
                }
            }
            case QapiType.Struct o -> {
                if (!v.isObject()) {
                    throw wrongType(path, "object");
                }
                checkObject(o, v, path + ".");
            }
        }
    }

    private static String expected(String jsonType) {
        return switch (jsonType) {
            case "int" -> "integer";
            default -> jsonType;
        };
    }

    private static QmpError wrongType(String path, String expected) {
        return QmpError.generic("Invalid parameter type for '" + path + "', expected: " + expected);
    }
}
