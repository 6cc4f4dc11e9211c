package org.jkvm.api.qmp;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One QMP command: its name, argument and return types (published by query-qmp-schema, arguments checked by
 * {@link ArgumentValidator} before the handler runs) and the handler.
 */
public record QmpCommand(String name, QapiType.Struct args, QapiType ret, Handler handler) {
    /** Runs the command with validated arguments (an empty object when the request had none). */
    @FunctionalInterface
    public interface Handler {
        JsonNode call(JsonNode args) throws QmpError, InterruptedException;
    }

    /** An event jkvm can send: its name and data type. */
    public record Event(String name, QapiType.Struct data) {}
}
