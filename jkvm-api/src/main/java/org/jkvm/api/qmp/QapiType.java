package org.jkvm.api.qmp;

import java.util.Arrays;
import java.util.List;

/**
 * A QAPI type, as QEMU's schema introspection describes it (qapi/introspect.json, {@code SchemaInfo}): builtins,
 * enums, arrays, and objects with optional members and, for flat unions, a tag and variants. jkvm's commands and
 * events are declared with these; {@link ArgumentValidator} checks arguments against them and
 * {@link SchemaInfo} publishes them.
 */
public sealed interface QapiType {
    String name();

    /** A builtin with its JSON type: "string", "int", "number", "boolean", "null", "value". */
    record Builtin(String name, String jsonType) implements QapiType {}

    record Enum(String name, List<String> values) implements QapiType {
        public static Enum of(String name, String... values) {
            return new Enum(name, List.of(values));
        }
    }

    record Array(QapiType element) implements QapiType {
        @Override
        public String name() {
            return "[" + element.name() + "]";
        }
    }

    record Member(String name, QapiType type, boolean optional) {}

    /** One case of a flat union: when the tag member has value {@code tagValue}, {@code type}'s members apply too. */
    record Variant(String tagValue, Struct type) {}

    /**
     * An object. {@code tag} and {@code variants} are null for a plain struct; a variant's type is a {@link Struct}
     * (its members are the extra ones for that case).
     */
    record Struct(String name, List<Member> members, String tag, List<Variant> variants) implements QapiType {
        public static Struct of(String name, Member... members) {
            return new Struct(name, List.of(members), null, null);
        }

        public Member member(String n) {
            return members.stream().filter(m -> m.name().equals(n)).findFirst().orElse(null);
        }
    }

    Builtin STR = new Builtin("str", "string");
    Builtin INT = new Builtin("int", "int");
    Builtin BOOL = new Builtin("bool", "boolean");
    Builtin NUMBER = new Builtin("number", "number");
    Builtin ANY = new Builtin("any", "value");
    /** The empty object: the arguments of a command that takes none, the result of one that returns {@code {}}. */
    Struct EMPTY = Struct.of("q_empty");

    static Member required(String name, QapiType type) {
        return new Member(name, type, false);
    }

    static Member optional(String name, QapiType type) {
        return new Member(name, type, true);
    }

    static Array arrayOf(QapiType t) {
        return new Array(t);
    }

    static List<String> names(QapiType... types) {
        return Arrays.stream(types).map(QapiType::name).toList();
    }
}
