package io.yinxin.ops.monitoring;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.yinxin.hsm.testing.FakeVaultTransitServer;
import io.yinxin.hsm.testing.FreePorts;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

/**
 * Early warning end to end, with the Debian {@code prometheus} and {@code prometheus-alertmanager}
 * packages: Prometheus scrapes a running node's {@code /actuator/prometheus} with the operator's
 * bearer token (the endpoint is closed as under {@code prod}) and evaluates the shipped rules
 * (their {@code for:} shortened to one second, so the test takes seconds, not minutes); a fault is
 * made — the node's Vault key backend is sealed — and {@code YinxinKeyBackendDown} must reach a
 * webhook receiver in this test through Alertmanager, then arrive again as resolved once Vault is
 * unsealed.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class AlertingTest {
  private static final Path DIR = tempDir();
  private static final String VAULT_TOKEN = "s.alerting-test-" + System.nanoTime();
  private static final String SCRAPE_TOKEN = "scrape-" + System.nanoTime();
  private static final FakeVaultTransitServer VAULT = vault();
  private static final List<JsonNode> NOTIFICATIONS = new CopyOnWriteArrayList<>();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static HttpServer webhook;
  private static Process prometheus;
  private static Process alertmanager;

  private static Path tempDir() {
    try {
      return Files.createTempDirectory("yinxin-alerting-");
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static FakeVaultTransitServer vault() {
    try {
      return new FakeVaultTransitServer(VAULT_TOKEN, "transit");
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @DynamicPropertySource
  static void node(DynamicPropertyRegistry r) throws Exception {
    Path tokenFile = DIR.resolve("vault-token");
    Files.writeString(tokenFile, VAULT_TOKEN);
    r.add("yinxin.data-dir", () -> DIR.resolve("data").toString());
    r.add("yinxin.keys.vault.address", VAULT::address);
    r.add("yinxin.keys.vault.token-file", tokenFile::toString);
    r.add("yinxin.ops.actuator-open", () -> "false");
    r.add(
        "yinxin.ops.actuator-token-sha256",
        () -> HexFormat.of().formatHex(sha256(SCRAPE_TOKEN.getBytes(StandardCharsets.UTF_8))));
  }

  private static byte[] sha256(byte[] b) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(b);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @org.springframework.boot.test.web.server.LocalServerPort int port;

  @AfterAll
  static void stop() {
    for (Process p : new Process[] {prometheus, alertmanager}) {
      if (p != null) {
        p.destroy();
        try {
          if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
    if (webhook != null) {
      webhook.stop(0);
    }
    VAULT.close();
  }

  @Test
  void aSealedVaultFiresKeyBackendDownThroughAlertmanagerAndResolvesWhenUnsealed()
      throws Exception {
    HttpClient http = HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY).build();
    // Closed as under prod: no token, no metrics.
    assertThat(
            http.send(
                    HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + port + "/actuator/prometheus"))
                        .build(),
                    HttpResponse.BodyHandlers.ofString())
                .statusCode())
        .isEqualTo(401);

    // Health and its probes stay open for load balancers.
    assertThat(
            http.send(
                    HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + port + "/actuator/health/readiness"))
                        .build(),
                    HttpResponse.BodyHandlers.ofString())
                .statusCode())
        .isEqualTo(200);
    exerciseTheNode(http);

    int hookPort = FreePorts.next();
    webhook = HttpServer.create(new InetSocketAddress("127.0.0.1", hookPort), 0);
    webhook.createContext(
        "/alerts",
        ex -> {
          try (ex) {
            NOTIFICATIONS.add(JSON.readTree(ex.getRequestBody().readAllBytes()));
            ex.sendResponseHeaders(200, -1);
          }
        });
    webhook.start();

    int amPort = FreePorts.next();
    Path am = Files.createDirectories(DIR.resolve("alertmanager"));
    Files.writeString(
        am.resolve("alertmanager.yml"),
        """
        route:
          receiver: test
          group_by: [alertname, backend]
          group_wait: 1s
          group_interval: 1s
          repeat_interval: 1h
        receivers:
          - name: test
            webhook_configs:
              - url: http://127.0.0.1:%d/alerts
                send_resolved: true
        """
            .formatted(hookPort));
    alertmanager =
        new ProcessBuilder(
                "prometheus-alertmanager",
                "--config.file=" + am.resolve("alertmanager.yml"),
                "--storage.path=" + am.resolve("data"),
                "--web.listen-address=127.0.0.1:" + amPort,
                "--cluster.listen-address=")
            .redirectErrorStream(true)
            .redirectOutput(am.resolve("alertmanager.log").toFile())
            .start();

    int promPort = FreePorts.next();
    Path prom = Files.createDirectories(DIR.resolve("prometheus"));
    // The shipped rules, each `for:` shortened to one second.
    Files.writeString(
        prom.resolve("rules.yml"),
        Files.readString(AlertRulesTest.RULES).replaceAll("(?m)^(\\s+)for: \\S+$", "$1for: 1s"));
    Files.writeString(prom.resolve("scrape-token"), SCRAPE_TOKEN);
    Files.writeString(
        prom.resolve("prometheus.yml"),
        """
        global:
          scrape_interval: 1s
          evaluation_interval: 1s
        rule_files: [rules.yml]
        alerting:
          alertmanagers:
            - static_configs:
                - targets: ['127.0.0.1:%d']
        scrape_configs:
          - job_name: yinxin
            metrics_path: /actuator/prometheus
            authorization:
              credentials_file: scrape-token
            static_configs:
              - targets: ['127.0.0.1:%d']
        """
            .formatted(amPort, port));
    prometheus =
        new ProcessBuilder(
                "prometheus",
                "--config.file=" + prom.resolve("prometheus.yml"),
                "--storage.tsdb.path=" + prom.resolve("data"),
                "--web.listen-address=127.0.0.1:" + promPort,
                "--rules.alert.resend-delay=1s")
            .redirectErrorStream(true)
            .redirectOutput(prom.resolve("prometheus.log").toFile())
            .start();

    // Prometheus scrapes the node with the token and sees the Vault backend up.
    String promApi = "http://127.0.0.1:" + promPort + "/api/v1/query?query=";
    JsonNode up =
        await(
            Duration.ofSeconds(60),
            () ->
                query(http, promApi + "yinxin_keys_backend_up%7Bbackend%3D%22vault-transit%22%7D"),
            r -> r.path("data").path("result").size() == 1,
            () ->
                "Prometheus to scrape yinxin_keys_backend_up{backend=\"vault-transit\"}; targets: "
                    + quietly(
                        () -> query(http, "http://127.0.0.1:" + promPort + "/api/v1/targets")));
    assertThat(up.path("data").path("result").get(0).path("value").get(1).asString())
        .isEqualTo("1");
    everyMetricTheDashboardsAndRulesUseIsExportedAndEveryQueryParses(http, promPort);
    assertThat(firing("YinxinKeyBackendDown")).isEmpty();

    // The fault: Vault sealed.
    VAULT.sealed(true);
    JsonNode fired =
        await(
            Duration.ofSeconds(60),
            () -> firing("YinxinKeyBackendDown").stream().findFirst().orElse(null),
            a -> a != null,
            () -> "YinxinKeyBackendDown at the webhook; " + log(am.resolve("alertmanager.log")));
    assertThat(fired.path("labels").path("backend").asString()).isEqualTo("vault-transit");
    assertThat(fired.path("labels").path("severity").asString()).isEqualTo("critical");
    assertThat(fired.path("annotations").path("summary").asString())
        .isEqualTo("Key backend vault-transit on 127.0.0.1:" + port + " cannot sign");
    // The soft backend, still up, raised nothing.
    assertThat(firing("YinxinKeyBackendDown"))
        .allMatch(a -> a.path("labels").path("backend").asString().equals("vault-transit"));

    // Undone: unsealed, the alert resolves.
    VAULT.sealed(false);
    JsonNode resolved =
        await(
            Duration.ofSeconds(60),
            () ->
                NOTIFICATIONS.stream()
                    .flatMap(n -> stream(n.path("alerts")))
                    .filter(
                        a ->
                            a.path("labels")
                                .path("alertname")
                                .asString()
                                .equals("YinxinKeyBackendDown"))
                    .filter(a -> a.path("status").asString().equals("resolved"))
                    .findFirst()
                    .orElse(null),
            a -> a != null,
            () -> "a resolved YinxinKeyBackendDown at the webhook; got " + NOTIFICATIONS);
    assertThat(resolved.path("labels").path("backend").asString()).isEqualTo("vault-transit");
    assertThat(Instant.parse(resolved.path("endsAt").asString()))
        .isAfter(Instant.parse(fired.path("startsAt").asString()));
  }

  /**
   * Makes the events whose counters appear only once they happen: a revocation, OCSP answers, a
   * token, a refused signature.
   */
  private void exerciseTheNode(HttpClient http) throws Exception {
    String base = "http://127.0.0.1:" + port;
    JsonNode dev = JSON.readTree(Files.readString(DIR.resolve("data").resolve("dev.json")));
    String operator = "Bearer " + dev.path("caOperatorToken").asString();
    JsonNode seals =
        JSON.readTree(
            http.send(
                    HttpRequest.newBuilder(
                            URI.create(base + "/ca/v1/certificates?profile=enterprise-seal"))
                        .header("Authorization", operator)
                        .build(),
                    HttpResponse.BodyHandlers.ofString())
                .body());
    JsonNode cert = seals.path("items").get(0);
    HttpResponse<String> revoked =
        http.send(
            HttpRequest.newBuilder(
                    URI.create(
                        base
                            + "/ca/v1/certificates/"
                            + cert.path("issuer").asString()
                            + "/"
                            + cert.path("serial").asString()
                            + "/revoke"))
                .header("Authorization", operator)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"reason\":\"superseded\"}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(revoked.statusCode()).as(revoked.body()).isEqualTo(200);
    // Not an OCSP request: a malformedRequest answer, counted.
    http.send(
        HttpRequest.newBuilder(URI.create(base + "/ca/ocsp"))
            .header("Content-Type", "application/ocsp-request")
            .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[] {0x30, 0x00}))
            .build(),
        HttpResponse.BodyHandlers.discarding());
    String basic =
        java.util.Base64.getEncoder()
            .encodeToString(
                (dev.path("demoClient").path("id").asString()
                        + ":"
                        + dev.path("demoClient").path("secret").asString())
                    .getBytes(StandardCharsets.UTF_8));
    HttpResponse<String> token =
        http.send(
            HttpRequest.newBuilder(URI.create(base + "/oauth2/token"))
                .header("Authorization", "Basic " + basic)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(token.statusCode()).as(token.body()).isEqualTo(200);
    try {
      keys.sign(
          io.yinxin.hsm.KeyRef.parse("soft:no-such-key"),
          io.yinxin.hsm.SignatureAlgorithm.ED25519,
          new byte[] {1},
          "alerting-test");
    } catch (io.yinxin.hsm.KeyException expected) {
      assertThat(expected.code()).isEqualTo(io.yinxin.hsm.KeyException.Code.KEY_NOT_FOUND);
    }
  }

  @org.springframework.beans.factory.annotation.Autowired io.yinxin.hsm.KeyService keys;

  /**
   * Every metric a Grafana panel or an alert rule names is one the node exports (Prometheus's own
   * {@code up} aside), and every panel query is valid PromQL to the running Prometheus.
   */
  private void everyMetricTheDashboardsAndRulesUseIsExportedAndEveryQueryParses(
      HttpClient http, int promPort) throws Exception {
    // The CRL gauges follow the database every 10 s: on a node this new, wait for them.
    String scrape =
        await(
            Duration.ofSeconds(30),
            () ->
                http.send(
                        HttpRequest.newBuilder(
                                URI.create("http://127.0.0.1:" + port + "/actuator/prometheus"))
                            .header("Authorization", "Bearer " + SCRAPE_TOKEN)
                            .build(),
                        HttpResponse.BodyHandlers.ofString())
                    .body(),
            b -> b.contains("yinxin_ca_crl_next_update_seconds{"),
            () -> "the CRL gauges");
    java.util.Set<String> exported = new java.util.HashSet<>();
    for (String line : scrape.split("\n")) {
      if (!line.isEmpty() && !line.startsWith("#")) {
        exported.add(line.split("[{ ]", 2)[0]);
      }
    }
    java.util.regex.Pattern metric =
        java.util.regex.Pattern.compile(
            "\\b(yinxin_[a-z0-9_]+|hikaricp_[a-z_]+|disk_[a-z_]+|up)\\b(?![\\w(])");
    java.util.Map<String, String> queries = new java.util.LinkedHashMap<>();
    try (var files = Files.list(Monitoring.DEPLOY.resolve("grafana"))) {
      for (Path f : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
        JsonNode board = JSON.readTree(Files.readString(f));
        assertThat(board.path("panels").size()).as(f.toString()).isGreaterThan(2);
        for (JsonNode panel : board.path("panels")) {
          for (JsonNode t : panel.path("targets")) {
            queries.put(
                f.getFileName()
                    + ": "
                    + panel.path("title").asString()
                    + " "
                    + t.path("refId").asString(),
                t.path("expr").asString());
          }
        }
      }
    }
    assertThat(queries).hasSizeGreaterThan(20);
    java.util.Map<String, String> all = new java.util.LinkedHashMap<>(queries);
    java.util.regex.Matcher rule =
        java.util.regex.Pattern.compile("(?m)^\\s+- alert: (\\w+)\\n\\s+expr: (.+)$")
            .matcher(Files.readString(AlertRulesTest.RULES));
    while (rule.find()) {
      all.put("rule " + rule.group(1), rule.group(2));
    }
    java.util.List<String> missing = new java.util.ArrayList<>();
    for (var q : all.entrySet()) {
      java.util.regex.Matcher m = metric.matcher(q.getValue());
      boolean any = false;
      while (m.find()) {
        any = true;
        String name = m.group(1);
        // up: Prometheus's own; yinxin_monitor_*: the log monitor's file, not the node's.
        if (!name.equals("up") && !name.startsWith("yinxin_monitor_") && !exported.contains(name)) {
          missing.add(q.getKey() + " names " + name);
        }
      }
      if (!any) {
        missing.add(q.getKey() + " names no metric: " + q.getValue());
      }
    }
    assertThat(missing).isEmpty();
    for (var q : queries.entrySet()) {
      String expr = q.getValue().replace("$instance", ".*");
      JsonNode r =
          query(
              http,
              "http://127.0.0.1:"
                  + promPort
                  + "/api/v1/query?query="
                  + java.net.URLEncoder.encode(expr, StandardCharsets.UTF_8));
      assertThat(r).as(q.getKey() + ": " + expr).isNotNull();
      assertThat(r.path("status").asString()).as(q.getKey()).isEqualTo("success");
    }
  }

  private static List<JsonNode> firing(String alertname) {
    return NOTIFICATIONS.stream()
        .flatMap(n -> stream(n.path("alerts")))
        .filter(a -> a.path("labels").path("alertname").asString().equals(alertname))
        .filter(a -> a.path("status").asString().equals("firing"))
        .toList();
  }

  private static java.util.stream.Stream<JsonNode> stream(JsonNode array) {
    return java.util.stream.StreamSupport.stream(array.spliterator(), false);
  }

  private static JsonNode query(HttpClient http, String url) throws Exception {
    try {
      HttpResponse<String> r =
          HttpClient.newBuilder()
              .version(HttpClient.Version.HTTP_1_1)
              .build()
              .send(
                  HttpRequest.newBuilder(URI.create(url)).build(),
                  HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? JSON.readTree(r.body()) : null;
    } catch (IOException e) {
      return null; // not listening yet
    }
  }

  private static String log(Path file) {
    try {
      String s = Files.exists(file) ? Files.readString(file) : "";
      return s.length() > 4000 ? s.substring(s.length() - 4000) : s;
    } catch (IOException e) {
      return "";
    }
  }

  private static String quietly(Probe<?> p) {
    try {
      return String.valueOf(p.get());
    } catch (Exception e) {
      return e.toString();
    }
  }

  interface Probe<T> {
    T get() throws Exception;
  }

  private static <T> T await(
      Duration max, Probe<T> probe, Predicate<T> done, java.util.function.Supplier<String> what)
      throws Exception {
    long end = System.nanoTime() + max.toNanos();
    while (System.nanoTime() < end) {
      T v = probe.get();
      if (v != null && done.test(v)) {
        return v;
      }
      Thread.sleep(250);
    }
    throw new AssertionError("waited " + max.toSeconds() + " s for " + what.get());
  }
}
