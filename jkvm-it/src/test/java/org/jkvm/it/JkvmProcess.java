package org.jkvm.it;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs jkvm as a separate process, exactly as a user does (same JVM binary and the test class path, main class
 * org.jkvm.cli.Main), capturing stdout and stderr.
 */
final class JkvmProcess implements AutoCloseable {
    static final Path GUESTS = Path.of(System.getProperty("jkvm.guests.dir", "../guests/build"));

    private final Process process;
    // Files, not pipes: the JDK drains a pipe when the process exits, racing with a reader thread, and can lose
    // the last bytes written (such as jkvm's final message on stderr).
    private final Path out;
    private final Path err;

    private JkvmProcess(List<String> prefix, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("-XX:+UseSerialGC");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("org.jkvm.cli.Main");
        cmd.addAll(List.of(args));
        out = Files.createTempFile("jkvm-stdout", ".txt");
        err = Files.createTempFile("jkvm-stderr", ".txt");
        out.toFile().deleteOnExit();
        err.toFile().deleteOnExit();
        process = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    }

    static JkvmProcess start(String... args) throws IOException {
        return new JkvmProcess(List.of(), args);
    }

    /** Starts jkvm behind a wrapper command (e.g. unshare), which gets the java command line appended. */
    static JkvmProcess startWrapped(List<String> wrapper, String... args) throws IOException {
        return new JkvmProcess(wrapper, args);
    }

    /** Runs to completion (bounded) with stdin closed. */
    static JkvmProcess run(long timeoutSeconds, String... args) throws Exception {
        JkvmProcess p = start(args);
        p.stdin().close();
        p.waitFor(timeoutSeconds);
        return p;
    }

    OutputStream stdin() {
        return process.getOutputStream();
    }

    Process process() {
        return process;
    }

    int waitFor(long timeoutSeconds) throws Exception {
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("jkvm did not exit within " + timeoutSeconds + " s; stdout: " + stdout()
                    + "\nstderr: " + stderr());
        }
        return process.exitValue();
    }

    int exitCode() {
        return process.exitValue();
    }

    String stdout() {
        return read(out);
    }

    String stderr() {
        return read(err);
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Waits until stdout contains {@code text}. */
    boolean awaitOutput(String text, long timeoutSeconds) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        while (System.nanoTime() < end) {
            if (stdout().contains(text)) {
                return true;
            }
            if (!process.isAlive()) {
                Thread.sleep(50);
                return stdout().contains(text);
            }
            Thread.sleep(10);
        }
        return false;
    }

    @Override
    public void close() {
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        } catch (IOException | InterruptedException e) {
            // best effort: temp files
        }
    }
}
