package io.yinxin.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.hsm.testing.FreePorts;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code yinxin backup} and {@code yinxin restore} against real PostgreSQL clusters made for the
 * test ({@code initdb}, {@code pg_ctl} as user postgres, on free ports): a node on cluster A issues
 * a certificate; {@code yinxin backup} copies the cluster (pg_basebackup, checked with
 * pg_verifybackup) and the public material; the node issues a second certificate; cluster A is
 * stopped for good; {@code yinxin restore} puts the backup into a fresh cluster B; a node started
 * on B with the same key backend finds the log consistent ({@code audit check}), answers OCSP
 * {@code good} for the first certificate and {@code unknown} for the second (issued after the
 * backup), and an evidence bundle from it verifies offline with the verifier key saved in the
 * backup. A damaged backup is refused.
 */
class BackupRestoreTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private final Cleanup cleanup = new Cleanup();

  @AfterEach
  void stopEverything() {
    cleanup.run();
  }

  static String run(Path dir, String... command) throws Exception {
    Process p =
        new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(180, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(String.join(" ", command) + " did not finish");
    }
    if (p.exitValue() != 0) {
      throw new AssertionError(String.join(" ", command) + " failed: " + out);
    }
    return out;
  }

  static String asPostgres(Path dir, String... command) throws Exception {
    List<String> c = new ArrayList<>(List.of("runuser", "-u", "postgres", "--"));
    c.addAll(List.of(command));
    return run(dir, c.toArray(String[]::new));
  }

  static String pg(String tool) throws Exception {
    return Path.of(run(Path.of("/"), "pg_config", "--bindir").strip(), tool).toString();
  }

  static String p256Csr() throws Exception {
    java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("EC");
    g.initialize(new java.security.spec.ECGenParameterSpec("secp256r1"));
    java.security.KeyPair kp = g.generateKeyPair();
    byte[] der =
        new org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder(
                new org.bouncycastle.asn1.x500.X500Name("CN=x"), kp.getPublic())
            .build(
                new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder("SHA256withECDSA")
                    .build(kp.getPrivate()))
            .getEncoded();
    return "-----BEGIN CERTIFICATE REQUEST-----\n"
        + java.util.Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
            .encodeToString(der)
        + "\n-----END CERTIFICATE REQUEST-----\n";
  }

  /** Removes a test's work folder (clusters, backups, node data) with everything in it. */
  static void deleteTree(Path dir) {
    try (java.util.stream.Stream<Path> all = Files.walk(dir)) {
      for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (java.io.IOException e) {
      // a leftover in /tmp, not a failure of the test
    }
  }

  /** A cluster in {@code data} on {@code port}, started; stopped by {@code cleanup}. */
  static void startCluster(Cleanup cleanup, Path work, Path data, int port) throws Exception {
    String pgCtl = pg("pg_ctl");
    asPostgres(
        work,
        pg("pg_ctl"),
        "-D",
        data.toString(),
        "-o",
        "-p " + port + " -k " + work + " -c listen_addresses=127.0.0.1",
        "-l",
        work.resolve("pg-" + port + ".log").toString(),
        "-w",
        "start");
    cleanup.add(
        () -> {
          try {
            asPostgres(work, pgCtl, "-D", data.toString(), "-m", "immediate", "stop");
          } catch (Exception | AssertionError e) {
            // already stopped
          }
        });
  }

  ConfigurableApplicationContext node(Path data, int dbPort) {
    ConfigurableApplicationContext ctx =
        new SpringApplicationBuilder(YinxinApplication.class)
            .run(
                "--server.port=0",
                "--yinxin.data-dir=" + data,
                "--spring.datasource.url=jdbc:postgresql://127.0.0.1:" + dbPort + "/yinxin",
                "--spring.datasource.username=postgres",
                "--spring.datasource.password=");
    cleanup.add(ctx::close);
    return ctx;
  }

  static int port(ConfigurableApplicationContext ctx) {
    return ((org.springframework.boot.web.server.context.WebServerApplicationContext) ctx)
        .getWebServer()
        .getPort();
  }

  static String cli(Path dir, int nodePort, String... args) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add("io.yinxin.ops.YinxinApplication");
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
    pb.environment().put("YINXIN_URL", "http://127.0.0.1:" + nodePort);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor(180, TimeUnit.SECONDS);
    if (p.exitValue() != 0) {
      throw new AssertionError("yinxin " + String.join(" ", args) + " failed: " + out);
    }
    return out;
  }

  static String issue(int nodePort, String token) throws Exception {
    String csr = p256Csr().replace("\n", "\\n");
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + nodePort + "/ca/v1/certificates"))
                    .header("Authorization", "Bearer " + token)
                    .header("Content-Type", "application/json")
                    .POST(
                        HttpRequest.BodyPublishers.ofString(
                            "{\"profile\":\"citizen-sign\",\"csr\":\""
                                + csr
                                + "\",\"subject\":{\"name\":\"张三\","
                                + "\"idNumber\":\"11010519491231002X\"}}"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    return JSON.readTree(r.body()).path("serial").asString();
  }

  static String ocsp(ConfigurableApplicationContext ctx, String serial) throws Exception {
    io.yinxin.ca.hierarchy.Hierarchy h = ctx.getBean(io.yinxin.ca.hierarchy.Hierarchy.class);
    var id =
        new org.bouncycastle.cert.ocsp.CertificateID(
            new org.bouncycastle.operator.bc.BcDigestCalculatorProvider()
                .get(org.bouncycastle.cert.ocsp.CertificateID.HASH_SHA1),
            h.issuer("citizen").certificate(),
            new java.math.BigInteger(serial, 16));
    byte[] resp =
        ctx.getBean(io.yinxin.ca.ocsp.OcspResponder.class)
            .respond(
                new org.bouncycastle.cert.ocsp.OCSPReqBuilder()
                    .addRequest(id)
                    .build()
                    .getEncoded());
    var single =
        ((org.bouncycastle.cert.ocsp.BasicOCSPResp)
                new org.bouncycastle.cert.ocsp.OCSPResp(resp).getResponseObject())
            .getResponses()[0];
    Object status = single.getCertStatus();
    return status == null
        ? "good"
        : status instanceof org.bouncycastle.cert.ocsp.UnknownStatus ? "unknown" : "revoked";
  }

  @Test
  void aBackupRestoredIntoAFreshClusterServesWhatWasIssuedBeforeIt() throws Exception {
    Path work = Files.createTempDirectory("yinxin-backup-");
    cleanup.add(() -> deleteTree(work)); // registered first: runs after the clusters stop
    run(work, "chown", "postgres:postgres", work.toString());
    Path a = work.resolve("cluster-a");
    asPostgres(work, pg("initdb"), "-D", a.toString(), "-A", "trust", "-U", "postgres");
    int portA = FreePorts.next();
    startCluster(cleanup, work, a, portA);
    asPostgres(work, pg("createdb"), "-h", "127.0.0.1", "-p", Integer.toString(portA), "yinxin");

    Path data = work.resolve("data"); // the CLI, run in work, finds data/dev.json
    ConfigurableApplicationContext first = node(data, portA);
    JsonNode dev = JSON.readTree(Files.readString(data.resolve("dev.json")));
    String token = dev.path("caOperatorToken").asString();
    String before = issue(port(first), token);

    Path backup = work.resolve("backup");
    String made =
        cli(
            work,
            port(first),
            "backup",
            "--db-port",
            Integer.toString(portA),
            "--out",
            backup.toString());
    assertThat(made).contains("verified by pg_verifybackup");
    // Off a terminal: plain progress lines from pg_basebackup's reports, with rate and ETA.
    assertThat(made).containsPattern("MB copied \\d+/\\d+ +[0-9.]+/s +ETA \\d+s");
    assertThat(backup.resolve("public/audit-keys.json")).exists();
    assertThat(backup.resolve("public/ca/root.cer")).exists();
    assertThat(Files.readString(backup.resolve("yinxin-backup.json"))).contains("\"sha256\"");
    String after = issue(port(first), token);
    first.close();
    asPostgres(work, pg("pg_ctl"), "-D", a.toString(), "-m", "immediate", "stop"); // site lost

    // A damaged backup is refused, and restores nothing.
    Path copy = work.resolve("damaged");
    run(work, "cp", "-a", backup.toString(), copy.toString());
    Files.writeString(copy.resolve("public/audit-checkpoint.txt"), "tampered");
    Path nowhere = work.resolve("nowhere");
    assertThat(
            new ProcessBuilder(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp",
                    System.getProperty("java.class.path"),
                    "io.yinxin.ops.YinxinApplication",
                    "restore",
                    "--from",
                    copy.toString(),
                    "--to",
                    nowhere.toString(),
                    "--port",
                    "1")
                .redirectErrorStream(true)
                .start()
                .waitFor())
        .isEqualTo(1);
    assertThat(nowhere).doesNotExist();

    Path b = work.resolve("cluster-b");
    int portB = FreePorts.next();
    String restored =
        cli(
            work,
            1,
            "restore",
            "--from",
            backup.toString(),
            "--to",
            b.toString(),
            "--port",
            Integer.toString(portB));
    assertThat(restored).contains("restored");
    run(work, "chown", "-R", "postgres:postgres", b.toString());
    startCluster(cleanup, work, b, portB);
    ConfigurableApplicationContext second = node(data, portB);

    String check = cli(work, port(second), "audit", "check");
    assertThat(check).contains("entries checked").contains("consistent: size ");
    assertThat(ocsp(second, before)).isEqualTo("good");
    assertThat(ocsp(second, after)).isEqualTo("unknown");
    cli(
        work,
        port(second),
        "audit",
        "bundle",
        "--subject",
        "citizen/" + before,
        "--out",
        "bundle.json");
    String key = "";
    for (JsonNode k :
        JSON.readTree(Files.readString(backup.resolve("public/audit-keys.json"))).path("keys")) {
      if (k.path("status").asString().equals("active")) {
        key = k.path("verifierKey").asString();
      }
    }
    String verified = cli(work, port(second), "audit", "verify", "bundle.json", "--key", key);
    assertThat(verified).contains("VALID");
  }

  /**
   * Point-in-time recovery: cluster A archives its WAL ({@code archive_command}); after {@code
   * yinxin backup} a certificate is issued, the time T noted, a second certificate issued a moment
   * later and the WAL switched so it is archived; A is lost. {@code yinxin restore --wal-archive
   * --target-time T} into a fresh cluster replays up to T: the first certificate is there, the
   * second is not, and a node on the recovered cluster finds the log consistent.
   */
  @Test
  void aRestoreWithTheWalArchiveStopsAtTheTargetTime() throws Exception {
    Path work = Files.createTempDirectory("yinxin-pitr-");
    cleanup.add(() -> deleteTree(work)); // registered first: runs after the clusters stop
    run(work, "chown", "postgres:postgres", work.toString());
    Path archive = work.resolve("archive");
    Files.createDirectories(archive);
    run(work, "chown", "postgres:postgres", archive.toString());
    Path a = work.resolve("cluster-a");
    asPostgres(work, pg("initdb"), "-D", a.toString(), "-A", "trust", "-U", "postgres");
    Files.writeString(
        a.resolve("postgresql.auto.conf"),
        "archive_mode = on\narchive_command = 'test ! -f "
            + archive
            + "/%f && cp %p "
            + archive
            + "/%f'\n",
        java.nio.file.StandardOpenOption.APPEND);
    int portA = FreePorts.next();
    startCluster(cleanup, work, a, portA);
    asPostgres(work, pg("createdb"), "-h", "127.0.0.1", "-p", Integer.toString(portA), "yinxin");
    Path data = work.resolve("data");
    ConfigurableApplicationContext first = node(data, portA);
    String token =
        JSON.readTree(Files.readString(data.resolve("dev.json")))
            .path("caOperatorToken")
            .asString();
    cli(
        work,
        port(first),
        "backup",
        "--db-port",
        Integer.toString(portA),
        "--out",
        work.resolve("backup").toString());
    String kept = issue(port(first), token);
    java.time.Instant target = java.time.Instant.now();
    Thread.sleep(1500);
    String lost = issue(port(first), token);
    first.close();
    String url = "jdbc:postgresql://127.0.0.1:" + portA + "/yinxin";
    String segment;
    try (java.sql.Connection c = java.sql.DriverManager.getConnection(url, "postgres", "");
        java.sql.ResultSet rs =
            c.createStatement().executeQuery("SELECT pg_walfile_name(pg_switch_wal())")) {
      rs.next();
      segment = rs.getString(1);
    }
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (!Files.exists(archive.resolve(segment)) && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
    assertThat(archive.resolve(segment)).as("the WAL holding both issuances, archived").exists();
    asPostgres(work, pg("pg_ctl"), "-D", a.toString(), "-m", "immediate", "stop"); // site lost

    Path b = work.resolve("cluster-b");
    int portB = FreePorts.next();
    cli(
        work,
        1,
        "restore",
        "--from",
        work.resolve("backup").toString(),
        "--to",
        b.toString(),
        "--port",
        Integer.toString(portB),
        "--wal-archive",
        archive.toString(),
        "--target-time",
        target.toString());
    run(work, "chown", "-R", "postgres:postgres", b.toString());
    startCluster(cleanup, work, b, portB);
    String urlB = "jdbc:postgresql://127.0.0.1:" + portB + "/yinxin";
    deadline = System.nanoTime() + 60_000_000_000L;
    boolean recovering = true;
    while (recovering && System.nanoTime() < deadline) {
      try (java.sql.Connection c = java.sql.DriverManager.getConnection(urlB, "postgres", "");
          java.sql.ResultSet rs = c.createStatement().executeQuery("SELECT pg_is_in_recovery()")) {
        rs.next();
        recovering = rs.getBoolean(1);
      }
      Thread.sleep(200);
    }
    assertThat(recovering).as("recovered to the target and promoted").isFalse();
    try (java.sql.Connection c = java.sql.DriverManager.getConnection(urlB, "postgres", "");
        java.sql.PreparedStatement ps =
            c.prepareStatement(
                "SELECT count(*) FROM ca.certificates WHERE issuer = 'citizen' AND serial = ?")) {
      for (String[] expect : new String[][] {{kept, "1"}, {lost, "0"}}) {
        ps.setString(1, expect[0]);
        try (java.sql.ResultSet rs = ps.executeQuery()) {
          rs.next();
          assertThat(rs.getString(1)).as("certificate %s", expect[0]).isEqualTo(expect[1]);
        }
      }
    }
    ConfigurableApplicationContext second = node(data, portB);
    assertThat(ocsp(second, kept)).isEqualTo("good");
    assertThat(ocsp(second, lost)).isEqualTo("unknown");
    assertThat(cli(work, port(second), "audit", "check")).contains("consistent: size ");
  }
}
