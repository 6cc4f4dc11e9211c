package org.jkvm.api.qmp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

class JsonFramerTest {
    private final List<String> texts = new ArrayList<>();

    private void feed(JsonFramer f, String s) throws Exception {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        f.feed(b, b.length, t -> texts.add(new String(t, StandardCharsets.UTF_8)));
    }

    @Test
    void splitsRequestsWithoutNewlines() throws Exception {
        feed(new JsonFramer(1024), "{\"execute\":\"a\"}{\"execute\":\"b\"}\n  [1, 2]");
        assertThat(texts).containsExactly("{\"execute\":\"a\"}", "{\"execute\":\"b\"}", "[1, 2]");
    }

    @Test
    void joinsARequestSplitAcrossReads() throws Exception {
        JsonFramer f = new JsonFramer(1024);
        feed(f, "{\"execute\": \"qu");
        assertThat(texts).isEmpty();
        feed(f, "ery-status\"}");
        assertThat(texts).containsExactly("{\"execute\": \"query-status\"}");
    }

    @Test
    void bracketsAndEscapesInsideStringsDoNotCount() throws Exception {
        feed(new JsonFramer(1024), "{\"a\": \"}]{\\\"\\\\\"}");
        assertThat(texts).containsExactly("{\"a\": \"}]{\\\"\\\\\"}");
    }

    @Test
    void topLevelScalarsAndStrayClosersAreTextsOfTheirOwn() throws Exception {
        feed(new JsonFramer(1024), "abc 12{\"x\":1}\"s\"}");
        assertThat(texts).containsExactly("abc", "12", "{\"x\":1}", "\"s\"", "}");
    }

    @Test
    void oversizedTextOverflows() {
        JsonFramer f = new JsonFramer(16);
        assertThatThrownBy(() -> feed(f, "{\"execute\": \"" + "x".repeat(100) + "\"}"))
                .isInstanceOf(JsonFramer.OverflowException.class).hasMessageContaining("longer than 16 bytes");
    }

    @Test
    void deepNestingOverflows() {
        JsonFramer f = new JsonFramer(1 << 20);
        assertThatThrownBy(() -> feed(f, "[".repeat(JsonFramer.MAX_NESTING + 1)))
                .isInstanceOf(JsonFramer.OverflowException.class).hasMessageContaining("nesting");
    }
}
