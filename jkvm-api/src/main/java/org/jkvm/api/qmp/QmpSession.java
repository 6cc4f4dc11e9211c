package org.jkvm.api.qmp;

import java.io.IOException;
import java.util.Iterator;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The QMP protocol for one client (docs/interop/qmp-spec.rst): capabilities negotiation, the request's shape,
 * command lookup, argument validation, and the reply with the request's "id". It knows no socket: it turns one JSON
 * text into one reply, so it is tested without a VM.
 *
 * <p>Errors are QEMU's, word for word: a request that is not an object, lacks "execute" or has members QMP does not
 * know is a GenericError; before {@code qmp_capabilities} every other command is CommandNotFound ("Expecting
 * capabilities negotiation with 'qmp_capabilities'"), and afterwards {@code qmp_capabilities} itself is.
 */
public final class QmpSession {
    private final CommandTable table;
    private volatile boolean negotiated;

    public QmpSession(CommandTable table) {
        this.table = table;
    }

    /** True once {@code qmp_capabilities} succeeded: from then on the client gets events. */
    public boolean negotiated() {
        return negotiated;
    }

    /** Handles one JSON text and returns the reply. */
    public ObjectNode handle(byte[] text) throws InterruptedException {
        JsonNode request;
        try {
            request = Json.MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            return error(null, QmpError.generic("JSON parse error, " + firstLine(e.getOriginalMessage())));
        } catch (IOException e) {
            return error(null, QmpError.generic("JSON parse error, " + e.getMessage()));
        }
        if (request == null || !request.isObject()) {
            return error(null, QmpError.generic("QMP input must be a JSON object"));
        }
        JsonNode id = request.get("id");
        try {
            return reply(id, dispatch(request));
        } catch (QmpError e) {
            return error(id, e);
        }
    }

    private JsonNode dispatch(JsonNode request) throws QmpError, InterruptedException {
        for (Iterator<Map.Entry<String, JsonNode>> it = request.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> member = it.next();
            switch (member.getKey()) {
                case "execute", "exec-oob" -> {
                    if (!member.getValue().isTextual()) {
                        throw QmpError.generic("QMP input member '" + member.getKey() + "' must be a string");
                    }
                }
                case "arguments" -> {
                    if (!member.getValue().isObject()) {
                        throw QmpError.generic("QMP input member 'arguments' must be an object");
                    }
                }
                case "id" -> { }
                default -> throw QmpError.generic("QMP input member '" + member.getKey() + "' is unexpected");
            }
        }
        if (request.has("exec-oob")) {
            if (request.has("execute")) {
                throw QmpError.generic("QMP input must not contain both 'execute' and 'exec-oob'");
            }
            throw QmpError.generic("QMP input member 'exec-oob' is unexpected"); // jkvm offers no out-of-band
        }
        if (!request.has("execute")) {
            throw QmpError.generic("QMP input lacks member 'execute'");
        }
        String name = request.get("execute").asText();
        JsonNode args = request.has("arguments") ? request.get("arguments") : Json.MAPPER.createObjectNode();
        if (name.equals("qmp_capabilities")) {
            ArgumentValidator.validate(CommandTable.CAPABILITIES_ARGS, args);
            if (negotiated) {
                throw new QmpError(QmpError.ErrorClass.CommandNotFound,
                        "Capabilities negotiation is already complete, command ignored");
            }
            for (JsonNode cap : args.path("enable")) {
                throw QmpError.generic("Capability '" + cap.asText() + "' not available");
            }
            negotiated = true;
            return Json.MAPPER.createObjectNode();
        }
        if (!negotiated) {
            throw new QmpError(QmpError.ErrorClass.CommandNotFound,
                    "Expecting capabilities negotiation with 'qmp_capabilities'");
        }
        QmpCommand command = table.get(name);
        if (command == null) {
            throw new QmpError(QmpError.ErrorClass.CommandNotFound, "The command " + name + " has not been found");
        }
        ArgumentValidator.validate(command.args(), args);
        return command.handler().call(args);
    }

    private static ObjectNode reply(JsonNode id, JsonNode value) {
        ObjectNode r = Json.MAPPER.createObjectNode();
        r.set("return", value);
        if (id != null) {
            r.set("id", id);
        }
        return r;
    }

    /** {"error": {"class": ..., "desc": ...}} with the request's id when it had one. */
    public static ObjectNode error(JsonNode id, QmpError e) {
        ObjectNode r = Json.MAPPER.createObjectNode();
        if (id != null) {
            r.set("id", id);
        }
        r.putObject("error").put("class", e.errorClass().name()).put("desc", e.desc());
        return r;
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "invalid JSON";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
