package org.jkvm.api.qmp;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;

import org.jkvm.vmm.VmConfig;
import org.jkvm.vmm.VmSupervisor;
import org.junit.jupiter.api.Test;

/** query-qmp-schema of jkvm's real command table: QEMU's SchemaInfo, every reference resolvable. */
class SchemaInfoTest {
    private static ArrayNode schema() throws Exception {
        VmConfig config = new VmConfig(java.nio.file.Path.of("k"), java.util.Optional.empty(), "", 2, 64 << 20,
                VmConfig.RebootAction.EXIT);
        VmSupervisor vm = new VmSupervisor(config, VmSupervisor.Identity.NONE, null, null, m -> { });
        CommandTable t = VmCommands.table(new CommandTable.Version(0, 1, 0, "jkvm"), vm, List.of());
        return (ArrayNode) t.get("query-qmp-schema").handler().call(Json.MAPPER.createObjectNode());
    }

    @Test
    void everyReferenceResolvesAndNamesAreMasked() throws Exception {
        ArrayNode s = schema();
        Map<String, JsonNode> byName = new HashMap<>();
        s.forEach(e -> byName.put(e.get("name").asText(), e));
        assertThat(byName.get("0").toString()).isEqualTo("{\"name\":\"0\",\"meta-type\":\"object\",\"members\":[]}");
        for (JsonNode e : s) {
            switch (e.get("meta-type").asText()) {
                case "command" -> {
                    assertThat(byName).containsKey(e.get("arg-type").asText()).containsKey(e.get("ret-type").asText());
                }
                case "event" -> assertThat(byName).containsKey(e.get("arg-type").asText());
                case "array" -> assertThat(byName).containsKey(e.get("element-type").asText());
                case "object" -> {
                    assertThat(e.get("name").asText()).matches("\\d+");
                    e.get("members").forEach(m -> assertThat(byName).containsKey(m.get("type").asText()));
                    e.path("variants").forEach(v -> assertThat(byName).containsKey(v.get("type").asText()));
                }
                case "enum" -> assertThat(e.get("values").size()).isEqualTo(e.get("members").size());
                case "builtin" -> assertThat(e.has("json-type")).isTrue();
                default -> throw new AssertionError(e.toString());
            }
        }
        JsonNode status = byName.get(byName.get("query-status").get("ret-type").asText());
        assertThat(status.get("members").toString()).isEqualTo("[{\"name\":\"running\",\"type\":\"bool\"},"
                + "{\"name\":\"singlestep\",\"type\":\"bool\"},{\"name\":\"status\",\"type\":\""
                + status.get("members").get(2).get("type").asText() + "\"}]");
        assertThat(byName.get(status.get("members").get(2).get("type").asText()).get("values").toString())
                .contains("\"running\"", "\"paused\"", "\"prelaunch\"", "\"shutdown\"");
        assertThat(byName).containsKeys("SHUTDOWN", "RESET", "POWERDOWN", "STOP", "RESUME", "human-monitor-command",
                "query-cpus-fast", "query-kvm", "query-pci", "query-block");
        JsonNode hmpArgs = byName.get(byName.get("human-monitor-command").get("arg-type").asText());
        assertThat(hmpArgs.get("members").toString()).isEqualTo("[{\"name\":\"command-line\",\"type\":\"str\"},"
                + "{\"name\":\"cpu-index\",\"type\":\"int\",\"default\":null}]");
    }
}
