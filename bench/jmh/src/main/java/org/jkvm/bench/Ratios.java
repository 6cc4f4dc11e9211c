package org.jkvm.bench;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;

/**
 * JMH's command line ({@code org.openjdk.jmh.Main}'s arguments: -f, -wi, -i, a benchmark pattern, ...), then one
 * line per benchmark that has a baseline measured in the same run: the device path's rate as a share of the bare
 * system calls' rate, for the same parameters.
 */
public final class Ratios {
    /** Benchmark method to the method measuring the same work without the device. */
    static final Map<String, String> BASELINE = Map.of(
            "virtioBlkRead4k", "rawPread4k",
            "txVirtioNet", "txRawTap",
            "rxVirtioNet", "rxRawTap");

    private Ratios() {}

    public static void main(String[] args) throws Exception {
        CommandLineOptions options = new CommandLineOptions(args);
        Runner runner = new Runner(options);
        if (options.shouldHelp()) {
            options.showHelp();
            return;
        }
        if (options.shouldList() || options.shouldListWithParams()) {
            runner.list();
            return;
        }
        Collection<RunResult> results = runner.run();
        Map<String, Double> score = new HashMap<>();
        for (RunResult r : results) {
            score.put(key(r), r.getPrimaryResult().getScore());
        }
        Map<String, String> lines = new TreeMap<>();
        for (RunResult r : results) {
            String method = method(r);
            String base = BASELINE.get(method);
            if (base == null) {
                continue;
            }
            Double raw = score.get(key(r).replace("." + method + " ", "." + base + " "));
            if (raw != null && raw > 0) {
                double device = r.getPrimaryResult().getScore();
                lines.put(key(r), String.format("%-60s %5.1f %% of %s (%,.0f vs %,.0f %s)", key(r),
                        100 * device / raw, base, device, raw, r.getPrimaryResult().getScoreUnit()));
            }
        }
        if (!lines.isEmpty()) {
            System.out.println();
            System.out.println("Device path against its baseline (same parameters):");
            lines.values().forEach(System.out::println);
        }
    }

    private static String method(RunResult r) {
        String b = r.getParams().getBenchmark();
        return b.substring(b.lastIndexOf('.') + 1);
    }

    /** "Class.method k=v ..." for one run. */
    private static String key(RunResult r) {
        StringBuilder sb = new StringBuilder();
        String b = r.getParams().getBenchmark();
        String cls = b.substring(0, b.lastIndexOf('.'));
        sb.append(cls.substring(cls.lastIndexOf('.') + 1)).append('.').append(method(r)).append(' ');
        for (String p : new TreeMap<>(paramMap(r)).keySet()) {
            sb.append(p).append('=').append(r.getParams().getParam(p)).append(' ');
        }
        return sb.toString().strip() + " ";
    }

    private static Map<String, String> paramMap(RunResult r) {
        Map<String, String> m = new HashMap<>();
        for (String k : r.getParams().getParamsKeys()) {
            m.put(k, r.getParams().getParam(k));
        }
        return m;
    }
}
