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
 * of the raw baseline and of the adapter, and their ratio (goal: at least 0.90 on every row).
 */
public final class KeysBench {
  private KeysBench() {}

  public static void main(String[] args) throws Exception {
    String include = args.length > 0 ? args[0] : ".*";
    List<String> lines = new ArrayList<>();
    lines.add(
        "| backend:algorithm | threads | baseline sig/s | adapter sig/s | adapter/baseline |");
    lines.add("|---|---|---|---|---|");
    for (int threads : new int[] {1, 2}) {
      Options opts =
          new OptionsBuilder()
              .include(KeySigningBenchmark.class.getName() + ".*")
              .param("row", rows(include))
              .threads(threads)
              .forks(1)
              .warmupIterations(2)
              .warmupTime(TimeValue.seconds(2))
              .measurementIterations(3)
              .measurementTime(TimeValue.seconds(3))
              .shouldFailOnError(true)
              .build();
      Collection<RunResult> results = new Runner(opts).run();
      Map<String, double[]> byRow = new LinkedHashMap<>();
      for (RunResult r : results) {
        String row = r.getParams().getParam("row");
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

  private static String[] rows(String include) {
    String[] all = {
      "soft:ECDSA_SHA256",
      "soft:ECDSA_SHA384",
      "soft:RSA_PKCS1_SHA256",
      "soft:ED25519",
      "soft:SM3_WITH_SM2",
      "pkcs11:ECDSA_SHA256",
      "pkcs11:ECDSA_SHA384",
      "pkcs11:RSA_PKCS1_SHA256",
      "pkcs11:ED25519"
    };
    return java.util.Arrays.stream(all).filter(r -> r.matches(include)).toArray(String[]::new);
  }
}
