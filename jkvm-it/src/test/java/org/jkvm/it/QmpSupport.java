package org.jkvm.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.jkvm.api.qmp.Json;
import org.jkvm.api.qmp.QmpClient;

/** Helpers for the QMP end-to-end tests: the counter guest, connecting with retries, reading events. */
final class QmpSupport {
    private QmpSupport() {}

    /**
     * A guest that prints '.' on COM1 every ~200k LOOP iterations (a counter whose growth shows the vCPU runs) and
     * polls PM1_STS (0x600) for the power button bit (PWRBTN_STS, bit 8): when set, it enters S5 through PM1_CNT
     * (0x604), as an ACPI OS does on the SCI.
     */
    static Path counterGuest(Path dir) throws IOException {
        int[] code = TinyGuest.concat(new int[] {
            0x66, 0xba, 0x00, 0x06,       // 0: mov dx, 0x600
            0x66, 0xed,                   // 4: in ax, dx
            0x66, 0xa9, 0x00, 0x01,       // 6: test ax, 0x100
            0x75, 0x10,                   // 10: jnz 28
            0x66, 0xba, 0xf8, 0x03,       // 12: mov dx, 0x3f8
            0xb0, '.',                    // 16: mov al, '.'
            0xee,                         // 18: out dx, al
            0xb9, 0x40, 0x0d, 0x03, 0x00, // 19: mov ecx, 200000
            0xe2, 0xfe,                   // 24: loop 24
            0xeb, 0xe4,                   // 26: jmp 0
        }, TinyGuest.outw(0x604, (5 << 10) | (1 << 13)), TinyGuest.SPIN); // 28: S5
        return TinyGuest.write(dir, "counter.mb", code);
    }

    /** Connects (retrying while the server starts, up to {@code seconds}) and negotiates. */
    static QmpClient connect(Path socket, int seconds) throws Exception {
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        while (true) {
            try {
                if (Files.exists(socket)) {
                    return QmpClient.connect(socket.toString()).negotiate();
                }
            } catch (IOException e) {
                if (System.nanoTime() > end) {
                    throw e;
                }
            }
            if (System.nanoTime() > end) {
                throw new AssertionError("no QMP socket at " + socket);
            }
            Thread.sleep(20);
        }
    }

    static JsonNode cmd(QmpClient c, String name) throws IOException {
        return c.execute(name, null);
    }

    static JsonNode cmd(QmpClient c, String name, String argsJson) throws IOException {
        return c.execute(name, Json.MAPPER.readTree(argsJson));
    }

    static ObjectNode hmp(String line) {
        return Json.MAPPER.createObjectNode().put("command-line", line);
    }

    /** Waits for an event named {@code name} (events already read count), up to {@code seconds}. */
    static JsonNode awaitEvent(QmpClient c, String name, int seconds) throws Exception {
        for (JsonNode e : c.takeEvents()) {
            if (e.path("event").asText().equals(name)) {
                return e;
            }
        }
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        while (System.nanoTime() < end) {
            JsonNode m = c.readMessage();
            if (m == null) {
                throw new AssertionError("connection closed while waiting for " + name);
            }
            if (m.path("event").asText().equals(name)) {
                return m;
            }
        }
        throw new AssertionError("no " + name + " event");
    }
}
