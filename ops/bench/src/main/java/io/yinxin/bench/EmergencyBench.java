package io.yinxin.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The emergency procedure for a compromised issuing CA (issue 14 §4), on a running node with its
 * PostgreSQL database: {@code BENCH_CERTIFICATES} (100,000) certificates of the citizen CA, then
 * {@code POST /ca/v1/cas/citizen/compromise}: the CA certificate revoked at the root, every
 * certificate revoked with one audit event each, every CRL published. Goal: under 60 s. Baseline in
 * the same run on the same node: revoking certificates of another CA one request at a time (32
 * concurrent clients), the way an operator would without the procedure, projected to the same
 * count. openssl then counts the CRL's entries.
 */
public final class EmergencyBench {
  static final int CERTIFICATES =
      Integer.parseInt(System.getenv().getOrDefault("BENCH_CERTIFICATES", "100000"));
  static final int BASELINE =
      Integer.parseInt(System.getenv().getOrDefault("BENCH_BASELINE", "3000"));

  private EmergencyBench() {}

  public static void main(String[] args) throws Exception {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    try (CaBench.Node node = CaBench.Node.start("soft")) {
      // Certificates of the citizen CA (partition 0 and up, 100,000 per partition by default) and
      // of the enterprise CA for the baseline, copied from the rows the node made at init.
      try (var pool = BenchDb.pool(node.db, 2);
          Connection c = pool.getConnection();
          Statement s = c.createStatement()) {
        long t0 = System.nanoTime();
        for (String[] ca :
            new String[][] {{"citizen", "" + CERTIFICATES}, {"enterprise", "" + BASELINE}}) {
          s.executeUpdate(
              "INSERT INTO ca.certificates (issuer, serial, profile, subject, key_sha256,"
                  + " not_before, not_after, crl_partition, status, issued_at, der)"
                  + " SELECT '"
                  + ca[0]
                  + "', 'b' || to_hex(g), 'citizen-sign', t.subject,"
                  + " t.key_sha256, t.not_before, t.not_after, (g - 1) / 100000, 'V', t.issued_at,"
                  + " t.der FROM generate_series(1, "
                  + ca[1]
                  + ") g, (SELECT * FROM"
                  + " ca.certificates WHERE issuer = 'citizen' LIMIT 1) t");
        }
        s.execute("ANALYZE");
        System.out.printf(
            Locale.ROOT, "%,d + %,d rows inserted in %.1f s%n", CERTIFICATES, BASELINE, secs(t0));
      }
      // Baseline: one revocation request per certificate, 32 at a time.
      ExecutorService clients = Executors.newFixedThreadPool(32);
      long b0 = System.nanoTime();
      List<Future<Integer>> done = new ArrayList<>();
      for (int g = 1; g <= BASELINE; g++) {
        String serial = "b" + Integer.toHexString(g);
        done.add(
            clients.submit(
                () ->
                    post(
                            http,
                            node.base + "/ca/v1/certificates/enterprise/" + serial + "/revoke",
                            "{\"reason\":\"superseded\"}")
                        .statusCode()));
      }
      int failed = 0;
      for (Future<Integer> f : done) {
        failed += f.get() == 200 ? 0 : 1;
      }
      double baselineRate = BASELINE / secs(b0);
      clients.shutdown();
      HttpResponse<String> crlB = post(http, node.base + "/ca/v1/cas/enterprise/crls", "");
      System.out.printf(
          Locale.ROOT,
          "baseline: %,d single revocations in %.1f s (%,.0f/s, %d failed); CRL %d%n",
          BASELINE,
          BASELINE / baselineRate,
          baselineRate,
          failed,
          crlB.statusCode());

      HttpResponse<String> dry =
          post(http, node.base + "/ca/v1/cas/citizen/compromise?dryRun=true", "");
      System.out.println("dry run: " + dry.body());
      long t0 = System.nanoTime();
      HttpResponse<String> run =
          post(http, node.base + "/ca/v1/cas/citizen/compromise?confirm=citizen", "");
      double wall = secs(t0);
      System.out.println(
          "run: "
              + run.statusCode()
              + " "
              + run.body().replaceAll("\"crlsPublished\":\\[[^]]*]", "\"crlsPublished\":[...]"));
      long revoked = number(run.body(), "\"revoked\":([0-9]+)");
      long toCrls = number(run.body(), "\"millisToCrls\":([0-9]+)");

      // openssl counts the entries of the CA's CRLs (partition 0 and up).
      long listed = 0;
      Path d = Files.createTempDirectory("yinxin-emergency-bench");
      for (int p = 0; p <= (CERTIFICATES - 1) / 100_000; p++) {
        HttpResponse<byte[]> crl =
            http.send(
                HttpRequest.newBuilder(URI.create(node.base + "/ca/crl/citizen/" + p + ".crl"))
                    .build(),
                HttpResponse.BodyHandlers.ofByteArray());
        Path f = d.resolve("citizen-" + p + ".crl");
        Files.write(f, crl.body());
        Process o =
            new ProcessBuilder(
                    "openssl", "crl", "-inform", "DER", "-in", f.toString(), "-noout", "-text")
                .redirectErrorStream(true)
                .start();
        String text = new String(o.getInputStream().readAllBytes());
        o.waitFor();
        Matcher m = Pattern.compile("Serial Number:").matcher(text);
        while (m.find()) {
          listed++;
        }
      }
      double projected = revoked / baselineRate;
      System.out.println();
      System.out.println("| measurement | Yinxin | baseline | ratio | notes |");
      System.out.println("|---|---|---|---|---|");
      System.out.printf(
          Locale.ROOT,
          "| CA compromise: %,d certificates revoked and CRLs published | %.1f s to the last CRL"
              + " (%.1f s with the 2 s settle and re-sweep; goal < 60 s) | %.1f s projected | %.1f× |"
              + " baseline: one revocation request per certificate, 32 clients, %,.0f/s measured"
              + " over %,d; openssl lists %,d entries on the CA's CRLs |%n",
          revoked,
          toCrls / 1000.0,
          wall,
          projected,
          projected / (toCrls / 1000.0),
          baselineRate,
          BASELINE,
          listed);
    }
  }

  static HttpResponse<String> post(HttpClient http, String url, String body) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(url))
            .timeout(Duration.ofMinutes(5))
            .header("Authorization", "Bearer " + CaBench.TOKEN)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static long number(String s, String regex) {
    Matcher m = Pattern.compile(regex).matcher(s);
    return m.find() ? Long.parseLong(m.group(1)) : -1;
  }

  static double secs(long t0) {
    return (System.nanoTime() - t0) / 1e9;
  }
}
