package org.jkvm.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;

import org.jkvm.api.qmp.Json;
import org.jkvm.api.qmp.QmpClient;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code jkvm qmp SOCKET [COMMAND [ARGS-JSON]]}: sends one QMP command to a jkvm (or QEMU) monitor and prints the
 * reply, or with no command, an interactive session (JLine line editing, history and command-name completion on a
 * terminal; plain lines otherwise).
 */
@Command(name = "qmp", mixinStandardHelpOptions = true,
        description = {"Send a QMP command to a running jkvm (or QEMU) and print the reply.",
            "Without COMMAND: an interactive session; each line is COMMAND [ARGS-JSON] or a whole QMP request.",
            "Exit status: 0 success, 1 an error reply, 2 no connection or bad usage."})
final class QmpCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "SOCKET", description = "Unix socket path, unix:PATH or tcp:HOST:PORT.")
    String socket;

    @Parameters(index = "1", arity = "0..1", paramLabel = "COMMAND", description = "e.g. query-status")
    String command;

    @Parameters(index = "2", arity = "0..1", paramLabel = "ARGS-JSON", description = "e.g. '{\"command-line\": \"info cpus\"}'")
    String arguments;

    private final PrintStream out = System.out;
    private final PrintStream err = System.err;

    @Override
    public Integer call() {
        JsonNode args = null;
        if (arguments != null) {
            try {
                args = Json.MAPPER.readTree(arguments);
            } catch (JsonProcessingException e) {
                err.println("jkvm: ARGS-JSON: " + e.getOriginalMessage());
                return Main.EXIT_USAGE;
            }
            if (args == null || !args.isObject()) {
                err.println("jkvm: ARGS-JSON must be a JSON object");
                return Main.EXIT_USAGE;
            }
        }
        try (QmpClient client = QmpClient.connect(socket)) {
            client.negotiate();
            if (command == null) {
                return interactive(client);
            }
            return print(client.execute(command, args), client) ? 0 : 1;
        } catch (IOException | IllegalArgumentException e) {
            err.println("jkvm: " + socket + ": " + e.getMessage());
            return Main.EXIT_USAGE;
        }
    }

    /** Prints events, then the reply: a string as text, anything else as indented JSON; errors on stderr. */
    private boolean print(JsonNode reply, QmpClient client) throws JsonProcessingException {
        for (JsonNode e : client.takeEvents()) {
            out.println(Json.MAPPER.writeValueAsString(e));
        }
        if (reply.has("error")) {
            err.println("jkvm: " + reply.path("error").path("class").asText() + ": "
                    + reply.path("error").path("desc").asText());
            return false;
        }
        JsonNode r = reply.get("return");
        if (r != null && r.isTextual()) {
            out.print(r.asText().replace("\r\n", "\n"));
        } else {
            out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(r));
        }
        out.flush();
        return true;
    }

    private int interactive(QmpClient client) throws IOException {
        List<String> names = new ArrayList<>();
        client.execute("query-commands", null).path("return").forEach(c -> names.add(c.path("name").asText()));
        boolean ok = true;
        if (System.console() != null && System.console().isTerminal()) {
            try (var terminal = org.jline.terminal.TerminalBuilder.builder().system(true).build()) {
                var reader = org.jline.reader.LineReaderBuilder.builder().terminal(terminal)
                        .completer(new org.jline.reader.impl.completer.StringsCompleter(names))
                        .variable(org.jline.reader.LineReader.HISTORY_FILE,
                                Path.of(System.getProperty("user.home"), ".jkvm_qmp_history"))
                        .build();
                while (true) {
                    String line;
                    try {
                        line = reader.readLine("(qmp) ");
                    } catch (org.jline.reader.UserInterruptException e) {
                        continue;
                    } catch (org.jline.reader.EndOfFileException e) {
                        return 0;
                    }
                    if (!line.isBlank() && !run(client, line)) {
                        ok = false;
                    }
                }
            }
        }
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            if (!line.isBlank() && !run(client, line)) {
                ok = false;
            }
        }
        return ok ? 0 : 1;
    }

    /** One line: a raw request ({...}) or COMMAND [ARGS-JSON]. */
    private boolean run(QmpClient client, String line) throws IOException {
        String t = line.trim();
        if (t.startsWith("{")) {
            return print(client.sendRaw(t + "\n"), client);
        }
        int sp = t.indexOf(' ');
        JsonNode args = null;
        if (sp > 0) {
            try {
                args = Json.MAPPER.readTree(t.substring(sp + 1));
            } catch (JsonProcessingException e) {
                err.println("jkvm: ARGS-JSON: " + e.getOriginalMessage());
                return false;
            }
        }
        return print(client.execute(sp > 0 ? t.substring(0, sp) : t, args), client);
    }
}
