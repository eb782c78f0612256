package io.yinxin.bench;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs {@link KeySigningBenchmark} at 1 and 2 threads and prints one table: signatures per second
 * of the raw baseline and of the adapter, and their ratio (goal: at least 0.90 on every row), each
 * row once bare and once with its audit event ({@code + audit event}: the adapter with the real
 * listener appending to the log on PostgreSQL; the baseline signing and then doing one INSERT and
 * COMMIT of an event row).
 */
public final class KeysBench {
  private KeysBench() {}

  public static void main(String[] args) throws Exception {
    String include = args.length > 0 ? args[0] : ".*";
    List<String> lines = new ArrayList<>();
    lines.add(
        "| backend:algorithm | threads | baseline sig/s | adapter sig/s | adapter/baseline |");
    lines.add("|---|---|---|---|---|");
    int iterations = Integer.parseInt(System.getenv().getOrDefault("BENCH_ITERATIONS", "3"));
    int seconds = Integer.parseInt(System.getenv().getOrDefault("BENCH_SECONDS", "3"));
    int[] threadCounts =
        java.util.Arrays.stream(System.getenv().getOrDefault("BENCH_THREADS", "1,2").split(","))
            .mapToInt(Integer::parseInt)
            .toArray();
    for (int threads : threadCounts) {
      Options opts =
          new OptionsBuilder()
              .include(KeySigningBenchmark.class.getName() + ".*")
              .param("row", rows(include))
              .param(
                  "audited", System.getenv().getOrDefault("BENCH_AUDITED", "false,true").split(","))
              .threads(threads)
              .forks(1)
              .warmupIterations(2)
              .warmupTime(TimeValue.seconds(2))
              .measurementIterations(iterations)
              .measurementTime(TimeValue.seconds(seconds))
              .shouldFailOnError(true)
              .build();
      Collection<RunResult> results = new Runner(opts).run();
      Map<String, double[]> byRow = new LinkedHashMap<>();
      for (RunResult r : results) {
        String row =
            r.getParams().getParam("row")
                + (Boolean.parseBoolean(r.getParams().getParam("audited")) ? " + audit event" : "");
        double score = r.getPrimaryResult().getScore();
        double[] pair = byRow.computeIfAbsent(row, k -> new double[2]);
        if (r.getParams().getBenchmark().endsWith(".baseline")) {
          pair[0] = score;
        } else {
          pair[1] = score;
        }
      }
      byRow.forEach(
          (row, p) ->
              lines.add(
                  String.format(
                      Locale.ROOT,
                      "| %s | %d | %,.0f | %,.0f | %.2f |",
                      row,
                      threads,
                      p[0],
                      p[1],
                      p[1] / p[0])));
    }
    System.out.println();
    lines.forEach(System.out::println);
  }

  /** The rows KeySigningBenchmark declares, filtered by a regular expression. */
  private static String[] rows(String include) throws NoSuchFieldException {
    String[] all =
        KeySigningBenchmark.class
            .getField("row")
            .getAnnotation(org.openjdk.jmh.annotations.Param.class)
            .value();
    return java.util.Arrays.stream(all).filter(r -> r.matches(include)).toArray(String[]::new);
  }
}
