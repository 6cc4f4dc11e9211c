package org.jkvm.acpi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Test helper: runs one of ACPICA's tools (Debian's acpica-tools: {@code iasl}, {@code acpiexec}). A missing tool
 * skips the test, unless the environment variable CI is "true", where it fails it (CI installs acpica-tools).
 */
final class AcpicaTool {
    private static final long TIMEOUT_SECONDS = 60;

    record Result(int exitCode, String output) {
    }

    private final Path executable;

    private AcpicaTool(Path executable) {
        this.executable = executable;
    }

    /** The tool {@code name} from PATH (or /usr/bin), or the test is skipped (failed under CI=true). */
    static AcpicaTool require(String name) {
        List<Path> candidates = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(":")) {
                if (!dir.isEmpty()) {
                    candidates.add(Path.of(dir, name));
                }
            }
        }
        candidates.add(Path.of("/usr/bin", name));
        for (Path candidate : candidates) {
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return new AcpicaTool(candidate);
            }
        }
        String message = name + " (ACPICA, Debian package acpica-tools) is not installed";
        if ("true".equals(System.getenv("CI"))) {
            fail(message + ", and CI=true requires it");
        }
        Assumptions.abort(message + "; skipping (set CI=true to make this a failure)");
        throw new AssertionError("unreachable");
    }

    /** Runs the tool with {@code args} in {@code workDir}, stdout and stderr merged. */
    Result run(Path workDir, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(executable.toString());
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        byte[] output = process.getInputStream().readAllBytes();
        if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            fail(command + " did not finish in " + TIMEOUT_SECONDS + " s");
        }
        return new Result(process.exitValue(), new String(output, StandardCharsets.UTF_8));
    }

    /**
     * Runs the tool and asserts exit status 0 and no "error" or "warning" in its output (the compiler's summary
     * "0 Errors, 0 Warnings" aside).
     */
    String runClean(Path workDir, String... args) throws IOException, InterruptedException {
        Result result = run(workDir, args);
        assertThat(result.exitCode()).as("%s %s exit status; output:%n%s", executable, List.of(args), result.output())
                .isZero();
        assertThat(result.output().replace("0 Errors, 0 Warnings", "").toLowerCase()).as("%s %s output", executable, List.of(args))
                .doesNotContain("error").doesNotContain("warning");
        return result.output();
    }
}
