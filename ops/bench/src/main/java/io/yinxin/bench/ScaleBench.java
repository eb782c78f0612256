package io.yinxin.bench;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Throughput of certificate issuance and of audit appends with 1, 2 and 3 nodes (issue 15 §5), each
 * count on a fresh database with the nodes sharing it and one data directory (one key store), the
 * load from wrk through HAProxy (round robin) in every case, so the 1-node baseline pays the same
 * proxy hop. Same warm-up and same measured window for every count: {@code BENCH_WARMUP_SECONDS}
 * (30) then {@code BENCH_SECONDS} (20), {@code BENCH_CONCURRENCY} (32) connections. Every process —
 * nodes, PostgreSQL, HAProxy and wrk — shares this machine's cores, so more nodes add JVMs
 * competing for the same CPU, not capacity: the ratio says what splitting costs or gains here, not
 * on separate machines.
 */
public final class ScaleBench {
  private static final int WARMUP =
      Integer.parseInt(System.getenv().getOrDefault("BENCH_WARMUP_SECONDS", "30"));
  private static final int SECONDS =
      Integer.parseInt(System.getenv().getOrDefault("BENCH_SECONDS", "20"));
  private static final int CONCURRENCY =
      Integer.parseInt(System.getenv().getOrDefault("BENCH_CONCURRENCY", "32"));
  private static final int MAX_NODES =
      Integer.parseInt(System.getenv().getOrDefault("BENCH_NODES", "3"));

  private ScaleBench() {}

  public static void main(String[] args) throws Exception {
    Path issue = CaBench.issueScript();
    List<String> rows = new ArrayList<>();
    double issue1 = 0;
    double append1 = 0;
    for (int n = 1; n <= MAX_NODES; n++) {
      String db = BenchDb.create();
      Path data = Files.createTempDirectory("yinxin-bench-scale");
      List<CaBench.Node> nodes = new ArrayList<>();
      Process haproxy = null;
      try {
        for (int i = 0; i < n; i++) {
          nodes.add(CaBench.Node.start("soft", db, data));
        }
        int port = CaBench.freePort();
        haproxy = haproxy(data, port, nodes);
        String lb = "http://127.0.0.1:" + port;
        Thread.sleep(1500); // HAProxy's first health checks
        Path append = appendScript(data);
        double issued = measure(lb + "/ca/v1/certificates", issue, n + " node(s) issuance");
        double appended = measure(lb + "/audit/v1/entries", append, n + " node(s) appends");
        if (n == 1) {
          issue1 = issued;
          append1 = appended;
        }
        rows.add(
            String.format(
                Locale.ROOT,
                "| %d | %,.0f | %.2f | %,.0f | %.2f |",
                n,
                issued,
                issued / issue1,
                appended,
                appended / append1));
      } finally {
        if (haproxy != null) {
          haproxy.destroy();
          haproxy.waitFor();
        }
        for (CaBench.Node node : nodes) {
          node.close();
        }
      }
    }
    System.out.println();
    System.out.println(
        "| nodes | certificates issued/s | vs 1 node | audit appends/s | vs 1 node |");
    System.out.println("|---|---|---|---|---|");
    rows.forEach(System.out::println);
  }

  /** Warm-up, then the measured run; returns requests/s, failing on any non-2xx answer. */
  private static double measure(String url, Path script, String what) throws Exception {
    String warm = CaBench.wrkRun(url, WARMUP, script, CONCURRENCY);
    System.out.printf(
        Locale.ROOT,
        "warm-up %s: %.0f/s%n",
        what,
        CaBench.number(warm, "Requests/sec:\\s+([0-9.]+)"));
    String out = CaBench.wrkRun(url, SECONDS, script, CONCURRENCY);
    Matcher errors = Pattern.compile("Non-2xx or 3xx responses: ([0-9]+)").matcher(out);
    if (errors.find()) {
      throw new IllegalStateException(what + ": " + errors.group(1) + " failed requests\n" + out);
    }
    double rate = CaBench.number(out, "Requests/sec:\\s+([0-9.]+)");
    System.out.printf(
        Locale.ROOT,
        "%s: %.0f/s (p50 %s, p99 %s)%n",
        what,
        rate,
        CaBench.latency(out, "50%"),
        CaBench.latency(out, "99%"));
    return rate;
  }

  /** A wrk script appending one small event per request with the dev writer token. */
  private static Path appendScript(Path data) throws Exception {
    String dev = Files.readString(data.resolve("dev.json"));
    Matcher token = Pattern.compile("\"auditWriterToken\"\\s*:\\s*\"([^\"]+)\"").matcher(dev);
    if (!token.find()) {
      throw new IllegalStateException("no auditWriterToken in dev.json");
    }
    Path lua = Files.createTempFile("append", ".lua");
    Files.writeString(
        lua,
        "wrk.method = \"POST\"\n"
            + "wrk.headers[\"Content-Type\"] = \"application/json\"\n"
            + "wrk.headers[\"Authorization\"] = \"Bearer "
            + token.group(1)
            + "\"\n"
            + "wrk.body = '{\"type\":\"KEY_USED\",\"actor\":\"bench\",\"subject\":\"scale\"}'\n",
        StandardCharsets.UTF_8);
    return lua;
  }

  private static Process haproxy(Path data, int port, List<CaBench.Node> nodes) throws Exception {
    StringBuilder cfg =
        new StringBuilder(
            "global\n  maxconn 4000\ndefaults\n  mode http\n  timeout connect 2s\n"
                + "  timeout client 60s\n  timeout server 60s\n"
                + "frontend yinxin\n  bind 127.0.0.1:"
                + port
                + "\n  default_backend nodes\nbackend nodes\n  balance roundrobin\n"
                + "  option httpchk GET /actuator/health/readiness\n");
    for (int i = 0; i < nodes.size(); i++) {
      cfg.append("  server node-")
          .append(i + 1)
          .append(' ')
          .append(URI.create(nodes.get(i).base).getAuthority())
          .append(" check inter 1s\n");
    }
    Path file = data.resolve("haproxy.cfg");
    Files.writeString(file, cfg.toString());
    return new ProcessBuilder("haproxy", "-f", file.toString(), "-db")
        .redirectErrorStream(true)
        .redirectOutput(data.resolve("haproxy.log").toFile())
        .start();
  }
}
