package org.jkvm.api.qmp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jkvm.api.qmp.QapiType.INT;
import static org.jkvm.api.qmp.QapiType.STR;
import static org.jkvm.api.qmp.QapiType.optional;
import static org.jkvm.api.qmp.QapiType.required;

import java.nio.charset.StandardCharsets;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;

import org.junit.jupiter.api.Test;

/** The protocol without a VM: negotiation, request shape, lookup, validation, replies; QEMU's words throughout. */
class QmpSessionTest {
    static final QapiType.Struct ECHO_ARGS = QapiType.Struct.of("echo-arg", required("text", STR),
            optional("times", INT), optional("mode", QapiType.Enum.of("Mode", "loud", "quiet")),
            optional("list", QapiType.arrayOf(INT)),
            optional("nested", QapiType.Struct.of("Nested", required("n", INT))));

    private final CommandTable table = new CommandTable(new CommandTable.Version(0, 1, 0, "jkvm test"))
            .add(new QmpCommand("echo", ECHO_ARGS, STR, a -> new TextNode(a.get("text").asText())))
            .add(new QmpCommand("fail", QapiType.EMPTY, QapiType.EMPTY, a -> {
                throw QmpError.generic("it failed");
            }));
    private final QmpSession session = new QmpSession(table);

    private JsonNode send(String text) throws Exception {
        return session.handle(text.getBytes(StandardCharsets.UTF_8));
    }

    private QmpSession negotiated() throws Exception {
        assertThat(send("{\"execute\": \"qmp_capabilities\"}").toString()).isEqualTo("{\"return\":{}}");
        return session;
    }

    private static void assertError(JsonNode reply, String cls, String desc) {
        assertThat(reply.path("error").path("class").asText()).as(reply.toString()).isEqualTo(cls);
        assertThat(reply.path("error").path("desc").asText()).isEqualTo(desc);
    }

    @Test
    void greetingHasQemusShape() {
        assertThat(table.greeting().toString()).isEqualTo(
                "{\"QMP\":{\"version\":{\"qemu\":{\"major\":0,\"minor\":1,\"micro\":0},\"package\":\"jkvm test\"},"
                        + "\"capabilities\":[]}}");
    }

    @Test
    void commandsBeforeNegotiationAreNotFound() throws Exception {
        assertError(send("{\"execute\": \"echo\", \"arguments\": {\"text\": \"x\"}}"), "CommandNotFound",
                "Expecting capabilities negotiation with 'qmp_capabilities'");
        assertThat(session.negotiated()).isFalse();
        negotiated();
        assertThat(session.negotiated()).isTrue();
        assertError(send("{\"execute\": \"qmp_capabilities\"}"), "CommandNotFound",
                "Capabilities negotiation is already complete, command ignored");
    }

    @Test
    void oobCannotBeEnabled() throws Exception {
        assertError(send("{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": [\"oob\"]}}"),
                "GenericError", "Capability 'oob' not available");
        assertError(send("{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": [\"x\"]}}"),
                "GenericError", "Parameter 'enable[0]' does not accept value 'x'");
        assertThat(session.negotiated()).isFalse();
    }

    @Test
    void idIsEchoedWhateverItIs() throws Exception {
        negotiated();
        assertThat(send("{\"execute\": \"echo\", \"arguments\": {\"text\": \"hi\"}, \"id\": {\"a\": [1]}}")
                .toString()).isEqualTo("{\"return\":\"hi\",\"id\":{\"a\":[1]}}");
        JsonNode err = send("{\"execute\": \"nope\", \"id\": \"x\"}");
        assertThat(err.get("id").asText()).isEqualTo("x");
        assertError(err, "CommandNotFound", "The command nope has not been found");
    }

    @Test
    void malformedRequests() throws Exception {
        negotiated();
        assertThat(send("{\"foo\"}").path("error").path("desc").asText()).startsWith("JSON parse error, ");
        assertThat(send("abc").path("error").path("desc").asText()).startsWith("JSON parse error, ");
        assertError(send("[1]"), "GenericError", "QMP input must be a JSON object");
        assertError(send("{\"execute\": 1}"), "GenericError", "QMP input member 'execute' must be a string");
        assertError(send("{\"execute\": \"echo\", \"bar\": 1}"), "GenericError",
                "QMP input member 'bar' is unexpected");
        assertError(send("{\"execute\": \"echo\", \"arguments\": []}"), "GenericError",
                "QMP input member 'arguments' must be an object");
        assertError(send("{\"arguments\": {}}"), "GenericError", "QMP input lacks member 'execute'");
        assertError(send("{\"exec-oob\": \"echo\"}"), "GenericError", "QMP input member 'exec-oob' is unexpected");
        assertError(send("{\"execute\": \"a\", \"exec-oob\": \"b\"}"), "GenericError",
                "QMP input must not contain both 'execute' and 'exec-oob'");
        assertThat(send("{\"execute\": \"echo\", \"execute\": \"echo\"}").path("error").path("desc").asText())
                .startsWith("JSON parse error, ");
    }

    @Test
    void argumentsAreValidatedWithQemusWords() throws Exception {
        negotiated();
        assertError(send("{\"execute\": \"echo\"}"), "GenericError", "Parameter 'text' is missing");
        assertError(send("{\"execute\": \"echo\", \"arguments\": {\"text\": 5}}"), "GenericError",
                "Invalid parameter type for 'text', expected: string");
        assertError(send("{\"execute\": \"echo\", \"arguments\": {\"text\": \"a\", \"times\": 1.5}}"),
                "GenericError", "Invalid parameter type for 'times', expected: integer");
        assertError(send("{\"execute\": \"echo\", \"arguments\": {\"text\": \"a\", \"x\": 1}}"),
                "GenericError", "Parameter 'x' is unexpected");
        assertError(send("{\"execute\": \"echo\", \"arguments\": {\"text\": \"a\", \"mode\": \"mute\"}}"),
                "GenericError", "Parameter 'mode' does not accept value 'mute'");
        assertError(send("{\"execute\": \"echo\", \"arguments\": {\"text\": \"a\", \"list\": [1, \"2\"]}}"),
                "GenericError", "Invalid parameter type for 'list[1]', expected: integer");
        assertError(send("{\"execute\": \"echo\", \"arguments\": {\"text\": \"a\", \"nested\": {\"n\": 1, \"m\": 2}}}"),
                "GenericError", "Parameter 'nested.m' is unexpected");
        assertError(send("{\"execute\": \"fail\", \"arguments\": {\"y\": true}}"), "GenericError",
                "Parameter 'y' is unexpected");
        assertThat(send("{\"execute\": \"echo\", \"arguments\": {\"text\": \"a\", \"times\": 3, \"mode\": \"loud\","
                + " \"list\": [1], \"nested\": {\"n\": 1}}}").get("return").asText()).isEqualTo("a");
    }

    @Test
    void aCommandsErrorIsAGenericError() throws Exception {
        negotiated();
        assertError(send("{\"execute\": \"fail\"}"), "GenericError", "it failed");
    }

    @Test
    void queryCommandsListsEverything() throws Exception {
        negotiated();
        assertThat(send("{\"execute\": \"query-commands\"}").get("return").findValuesAsText("name"))
                .containsExactly("qmp_capabilities", "query-commands", "query-qmp-schema", "query-version", "echo",
                        "fail");
    }
}
