package io.yinxin.audit.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.AuditLog;
import io.yinxin.audit.EventType;
import io.yinxin.audit.Receipt;
import io.yinxin.audit.evidence.Json;
import io.yinxin.audit.merkle.Rfc9162;
import io.yinxin.audit.note.Checkpoint;
import io.yinxin.audit.note.Ed25519Keys;
import io.yinxin.audit.note.NoteVerifierKey;
import io.yinxin.audit.note.SignedNote;
import io.yinxin.audit.store.CheckpointPublisher;
import io.yinxin.audit.store.PostgresDatabase;
import io.yinxin.audit.timestamp.OpenSslTsa;
import io.yinxin.audit.verify.AuditVerify;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** The audit log on PostgreSQL, through its Java API and its HTTP API, judged by audit-verify. */
@SpringBootTest(classes = TestApp.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class AuditLogPostgresTest {
  private static final PostgresDatabase DB = newDatabase();
  private static final Path DATA = tempDir();
  private static final String AUDITOR = "auditor-" + java.util.UUID.randomUUID();
  private static final String WRITER = "writer-" + java.util.UUID.randomUUID();
  private static final KeyPair WITNESS = witnessKey();
  private static final OpenSslTsa TSA = tsa();
  private static final NoteVerifierKey WITNESS_KEY =
      new NoteVerifierKey(
          "witness.test/w1", NoteVerifierKey.COSIGNATURE_V1, Ed25519Keys.raw(WITNESS.getPublic()));

  private static PostgresDatabase newDatabase() {
    try {
      return new PostgresDatabase();
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(
          "PostgreSQL must run on 127.0.0.1:5432 (ops/bin/test starts it)", e);
    }
  }

  private static Path tempDir() {
    try {
      return Files.createTempDirectory("yinxin-audit-");
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static OpenSslTsa tsa() {
    try {
      return new OpenSslTsa("Yinxin Audit Test TSA");
    } catch (Exception e) {
      throw new IllegalStateException("openssl must be installed (ops/bin/test installs it)", e);
    }
  }

  private static KeyPair witnessKey() {
    try {
      return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String sha256Hex(String s) {
    try {
      return java.util.HexFormat.of()
          .formatHex(
              java.security.MessageDigest.getInstance("SHA-256")
                  .digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @DynamicPropertySource
  static void props(DynamicPropertyRegistry r) {
    r.add("spring.datasource.url", DB::url);
    r.add("spring.datasource.username", () -> PostgresDatabase.USER);
    r.add("spring.flyway.enabled", () -> "false");
    r.add("yinxin.data-dir", DATA::toString);
    r.add("yinxin.audit.origin", () -> "yinxin.test/audit");
    r.add("yinxin.audit.checkpoint-interval", () -> "50ms");
    r.add("yinxin.audit.auditor-token-sha256", () -> sha256Hex(AUDITOR));
    r.add("yinxin.audit.writer-token-sha256", () -> sha256Hex(WRITER));
    r.add("yinxin.audit.witnesses[0]", WITNESS_KEY::toString);
    r.add("yinxin.audit.tsa-url", () -> TSA.url().toString());
    r.add("yinxin.audit.tsa-certificate", () -> TSA.certificate().toString());
  }

  @LocalServerPort int port;
  @Autowired AuditLog log;
  @Autowired CheckpointPublisher publisher;
  @Autowired DataSource dataSource;
  @Autowired io.yinxin.audit.store.LogStore store;

  private final HttpClient http = HttpClient.newHttpClient();

  private HttpResponse<String> get(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<byte[]> getBytes(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }

  private HttpResponse<String> post(String path, String token, String body, String type)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .header("Content-Type", type)
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Appends an event carrying {@code time} as its own. */
  private HttpResponse<String> appendAt(String time) throws Exception {
    return post(
        "/audit/v1/entries",
        WRITER,
        "{\"type\":\"KEY_USED\",\"actor\":\"a\",\"subject\":\"s\",\"time\":\"" + time + "\"}",
        "application/json");
  }

  private long treeSize() throws Exception {
    try (var c = dataSource.getConnection();
        var rs = c.createStatement().executeQuery("SELECT count(*) FROM audit.entries")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private SignedNote checkpointCovering(long size) {
    return await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> {
              HttpResponse<String> r = get("/audit/checkpoint");
              return r.statusCode() == 200 ? SignedNote.parse(r.body()) : null;
            },
            n -> n != null && Checkpoint.parse(n.body()).size() >= size);
  }

  @Test
  void newCheckpointsAreTimeStampedByTheConfiguredTsaAndServedForOpensslToVerify(@TempDir Path dir)
      throws Exception {
    Receipt r = log.append(AuditEvent.of(EventType.KEY_USED, "test", "tsa", Map.of()));
    long size = Checkpoint.parse(checkpointCovering(r.index() + 1).body()).size();
    HttpResponse<byte[]> reply =
        await()
            .atMost(Duration.ofSeconds(20))
            .until(
                () ->
                    http.send(
                        HttpRequest.newBuilder(
                                URI.create(
                                    "http://127.0.0.1:"
                                        + port
                                        + "/audit/v1/checkpoints/"
                                        + size
                                        + "/timestamp"))
                            .build(),
                        HttpResponse.BodyHandlers.ofByteArray()),
                x -> x.statusCode() == 200);
    assertThat(reply.headers().firstValue("Content-Type")).hasValue("application/timestamp-reply");
    HttpResponse<String> note = get("/audit/v1/checkpoints/" + size);
    assertThat(note.statusCode()).isEqualTo(200);
    assertThat(Checkpoint.parse(SignedNote.parse(note.body()).body()).size()).isEqualTo(size);
    Path noteFile = Files.writeString(dir.resolve("checkpoint.txt"), note.body());
    Path replyFile = Files.write(dir.resolve("checkpoint.tsr"), reply.body());
    assertThat(TSA.verify(noteFile, replyFile)).contains("Verification: OK");

    // An evidence bundle carries the newest time-stamped checkpoint; audit-verify checks it.
    String subject = "tsa-" + java.util.UUID.randomUUID();
    Receipt e = log.append(AuditEvent.of(EventType.KEY_USED, "test", subject, Map.of()));
    long covering = Checkpoint.parse(checkpointCovering(e.index() + 1).body()).size();
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> get("/audit/v1/checkpoints/" + covering + "/timestamp").statusCode() == 200);
    String bundle =
        post("/audit/v1/bundles", AUDITOR, "{\"subject\":\"" + subject + "\"}", "application/json")
            .body();
    assertThat(bundle).contains("\"timestamp\":{");
    Path b = Files.writeString(dir.resolve("bundle.json"), bundle);
    String key = publisher.verifierKey().toString();
    Result ok = verify(b, "--key", key, "--tsa-cert", TSA.certificate().toString());
    assertThat(ok.exit()).as(ok.out()).isZero();
    assertThat(ok.out())
        .contains("time-stamped by CN=Yinxin Audit Test TSA")
        .contains("entries at");
    try (OpenSslTsa other = new OpenSslTsa("Other Test TSA")) {
      Result wrong = verify(b, "--key", key, "--tsa-cert", other.certificate().toString());
      assertThat(wrong.exit()).isEqualTo(1);
      assertThat(wrong.out()).contains("not by the TSA certificate given");
    }
    String replyB64 = bundle.replaceAll("(?s).*\"reply\":\"([^\"]+)\".*", "$1");
    byte[] damaged = java.util.Base64.getDecoder().decode(replyB64);
    damaged[damaged.length - 1] ^= 1;
    Path t = dir.resolve("damaged.json");
    Files.writeString(
        t, bundle.replace(replyB64, java.util.Base64.getEncoder().encodeToString(damaged)));
    assertThat(verify(t, "--key", key, "--tsa-cert", TSA.certificate().toString()).exit())
        .isEqualTo(1);
    Path none = dir.resolve("none.json");
    Files.writeString(none, bundle.replaceAll(",\"timestamp\":\\{[^}]*\\}", ""));
    Result missing = verify(none, "--key", key, "--tsa-cert", TSA.certificate().toString());
    assertThat(missing.exit()).as(missing.out()).isEqualTo(1);
    assertThat(missing.out()).contains("carries no time-stamp");
    assertThat(verify(none, "--key", key).exit()).isZero();

    HttpResponse<String> unknown = get("/audit/v1/checkpoints/" + (1L << 40) + "/timestamp");
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(unknown.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    assertThat(get("/audit/v1/checkpoints/-1").statusCode()).isEqualTo(400);
    assertThat(get("/audit/v1/checkpoints/abc/timestamp").statusCode()).isEqualTo(400);
  }

  @Test
  void concurrentAppendsGetGaplessIndicesAndACheckpointThatProvesThem() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(16);
    List<Future<Receipt>> futures = new ArrayList<>();
    for (int i = 0; i < 800; i++) {
      int n = i;
      futures.add(
          pool.submit(
              () ->
                  log.append(
                      AuditEvent.of(
                          EventType.CERT_ISSUED,
                          "ca-service",
                          "serial-" + n,
                          Map.of("n", "" + n)))));
    }
    Set<Long> indices = new HashSet<>();
    List<Receipt> receipts = new ArrayList<>();
    for (Future<Receipt> f : futures) {
      Receipt r = f.get();
      assertThat(indices.add(r.index())).isTrue();
      receipts.add(r);
    }
    pool.shutdown();
    long size = treeSize();
    assertThat(indices).hasSize(800).allSatisfy(i -> assertThat(i).isBetween(0L, size - 1));
    // Gapless: the stored entries are exactly 0 .. size-1, each with its private event.
    try (var c = dataSource.getConnection();
        var rs =
            c.createStatement()
                .executeQuery(
                    "SELECT count(*), min(e.idx), max(e.idx), count(v.idx) FROM audit.entries e"
                        + " LEFT JOIN audit.events v ON v.idx = e.idx")) {
      rs.next();
      assertThat(rs.getLong(1)).isEqualTo(size);
      assertThat(rs.getLong(2)).isZero();
      assertThat(rs.getLong(3)).isEqualTo(size - 1);
      assertThat(rs.getLong(4)).isEqualTo(size);
    }

    SignedNote note = checkpointCovering(size);
    assertThat(note.verifiedBy(publisher.verifierKey())).isTrue();
    Checkpoint cp = Checkpoint.parse(note.body());
    for (Receipt r : receipts.subList(0, 50)) {
      HttpResponse<String> resp = get("/audit/v1/proof/inclusion?index=" + r.index());
      assertThat(resp.statusCode()).isEqualTo(200);
      @SuppressWarnings("unchecked")
      Map<String, Object> p = (Map<String, Object>) Json.parse(resp.body());
      List<byte[]> proof = new ArrayList<>();
      for (Object h : (List<?>) p.get("proof")) {
        proof.add(Base64.getDecoder().decode((String) h));
      }
      long proofSize = (Long) p.get("size");
      assertThat(Base64.getDecoder().decode((String) p.get("leafHash"))).isEqualTo(r.leafHash());
      SignedNote boundTo =
          io.yinxin.audit.note.TlogProof.parse((String) p.get("tlogProof")).checkpoint();
      assertThat(boundTo.verifiedBy(publisher.verifierKey())).isTrue();
      assertThat(
              Rfc9162.verifyInclusion(
                  r.index(),
                  proofSize,
                  r.leafHash(),
                  proof,
                  Checkpoint.parse(boundTo.body()).root()))
          .isTrue();
    }
    assertThat(cp.size()).isGreaterThanOrEqualTo(size);
  }

  @Test
  void tilesServeTheLeavesAndHashesOfTheCheckpointedTree() throws Exception {
    for (int i = 0; i < 300; i++) {
      log.append(AuditEvent.of(EventType.LOGIN_SUCCEEDED, "sso", "user-" + i, Map.of()));
    }
    // The partial tile is checked below, so the tree must not end on a tile boundary.
    if (treeSize() % 256 == 0) {
      log.append(AuditEvent.of(EventType.LOGIN_SUCCEEDED, "sso", "user-extra", Map.of()));
    }
    SignedNote note = checkpointCovering(treeSize());
    long size = Checkpoint.parse(note.body()).size();
    HttpResponse<byte[]> full = getBytes("/audit/tile/0/000");
    assertThat(full.statusCode()).isEqualTo(200);
    assertThat(full.body()).hasSize(256 * 32);
    assertThat(full.headers().firstValue("Cache-Control").orElse("")).contains("immutable");

    HttpResponse<byte[]> entries = getBytes("/audit/tile/entries/000");
    ByteBuffer buf = ByteBuffer.wrap(entries.body());
    for (int i = 0; i < 256; i++) {
      byte[] leaf = new byte[buf.getShort() & 0xffff];
      buf.get(leaf);
      assertThat(Rfc9162.leafHash(leaf))
          .isEqualTo(java.util.Arrays.copyOfRange(full.body(), i * 32, i * 32 + 32));
      assertThat(new String(leaf, StandardCharsets.UTF_8))
          .startsWith("yinxin-audit/v1\ntype ")
          .doesNotContain("user-");
    }
    assertThat(buf.hasRemaining()).isFalse();
    long partial = size % 256;
    assertThat(partial).as("the checkpointed tree ends inside a tile").isPositive();
    HttpResponse<byte[]> p = getBytes("/audit/tile/0/" + Tiles3(size / 256) + ".p/" + partial);
    assertThat(p.statusCode()).isEqualTo(200);
    assertThat(p.body()).hasSize((int) partial * 32);
    assertThat(p.headers().firstValue("Cache-Control").orElse("")).doesNotContain("immutable");
    HttpResponse<String> missing = get("/audit/tile/0/x999/000");
    assertThat(missing.statusCode()).isEqualTo(404);
    assertThat(missing.headers().firstValue("Content-Type").orElse(""))
        .contains("application/problem+json");
    assertThat(get("/audit/tile/0/../etc/passwd").statusCode()).isIn(400, 404);
  }

  private static String Tiles3(long n) {
    return io.yinxin.audit.merkle.Tiles.encodeIndex(n);
  }

  @Test
  void aBundleVerifiesOfflineAndEveryKindOfTamperingIsCaught() throws Exception {
    String subject = "citizen-" + java.util.UUID.randomUUID();
    for (int i = 0; i < 5; i++) {
      log.append(
          AuditEvent.of(
              EventType.DOCUMENT_SEALED,
              "signing-service",
              subject,
              Map.of("doc", "contract-" + i)));
    }
    long size = treeSize();
    SignedNote first = checkpointCovering(size);
    String known = first.text();
    log.append(
        AuditEvent.of(
            EventType.DOCUMENT_SEALED, "signing-service", subject, Map.of("doc", "last")));
    checkpointCovering(treeSize());

    long knownSize = Checkpoint.parse(first.body()).size();
    HttpResponse<String> resp =
        post(
            "/audit/v1/bundles",
            AUDITOR,
            "{\"subject\":\"" + subject + "\",\"knownSize\":" + knownSize + "}",
            "application/json");
    assertThat(resp.statusCode()).as(resp.body()).isEqualTo(200);
    String bundle = resp.body();
    Path dir = Files.createTempDirectory("bundle-");
    Files.writeString(dir.resolve("bundle.json"), bundle);
    Files.writeString(dir.resolve("known.txt"), known);
    String key = publisher.verifierKey().toString();

    Result ok =
        verify(
            dir.resolve("bundle.json"),
            "--key",
            key,
            "--since",
            dir.resolve("known.txt").toString());
    assertThat(ok.exit()).as(ok.out()).isZero();
    assertThat(ok.out()).contains("VERDICT: VALID").contains(subject).contains("append-only");
    assertThat(ok.out()).doesNotContain("EMPTY");

    // A bundle for a subject with no events checks out, but says plainly it proves no absence.
    HttpResponse<String> none =
        post(
            "/audit/v1/bundles",
            AUDITOR,
            "{\"subject\":\"nobody-" + java.util.UUID.randomUUID() + "\"}",
            "application/json");
    Files.writeString(dir.resolve("empty.json"), none.body());
    Result empty = verify(dir.resolve("empty.json"), "--key", key);
    assertThat(empty.exit()).as(empty.out()).isZero();
    assertThat(empty.out())
        .contains("VERDICT: VALID, BUT EMPTY")
        .contains("proves nothing about whether any event exists");
    assertThat(ok.out().lines().filter(l -> l.contains("committed and included")).count())
        .isEqualTo(6);

    // Tampered event text in the bundle.
    Files.writeString(dir.resolve("t1.json"), bundle.replace("contract-3", "contract-9"));
    assertThat(verify(dir.resolve("t1.json"), "--key", key).exit()).isEqualTo(1);
    // Another log's key.
    NoteVerifierKey stranger =
        new NoteVerifierKey(
            "yinxin.test/audit",
            NoteVerifierKey.ED25519,
            Ed25519Keys.raw(witnessKey().getPublic()));
    assertThat(verify(dir.resolve("bundle.json"), "--key", stranger.toString()).out())
        .contains("not signed by");
    // A witness quorum the bundle does not meet.
    assertThat(
            verify(
                    dir.resolve("bundle.json"),
                    "--key",
                    key,
                    "--witness",
                    WITNESS_KEY.toString(),
                    "--quorum",
                    "1")
                .exit())
        .isEqualTo(1);

    // A row changed directly in the database by someone who also holds the event key (rows are
    // encrypted at rest: without the key a change only makes the row undecryptable): the next
    // bundle and the self-check both notice.
    assertThat(rewriteEvent(subject, "contract-1", "contract-7")).isEqualTo(1);
    String tampered =
        post("/audit/v1/bundles", AUDITOR, "{\"subject\":\"" + subject + "\"}", "application/json")
            .body();
    Files.writeString(dir.resolve("t2.json"), tampered);
    Result bad = verify(dir.resolve("t2.json"), "--key", key, "--json");
    assertThat(bad.exit()).isEqualTo(1);
    assertThat(bad.out()).contains("\"valid\":false").contains("does not match the commitment");

    HttpResponse<String> check =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/audit/v1/check"))
                .header("Authorization", "Bearer " + AUDITOR)
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(check.statusCode()).isEqualTo(409);
    assertThat(check.body()).contains("does not match its leaf commitment");
    rewriteEvent(subject, "contract-7", "contract-1");
  }

  /** Rewrites the events of {@code subject} that contain {@code from}, re-encrypted; how many. */
  private int rewriteEvent(String subject, String from, String to) throws Exception {
    int changed = 0;
    try (var c = dataSource.getConnection();
        var q = c.prepareStatement("SELECT idx, event, salt FROM audit.events WHERE subject = ?");
        var u = c.prepareStatement("UPDATE audit.events SET event = ? WHERE idx = ?")) {
      q.setString(1, subject);
      try (var rs = q.executeQuery()) {
        while (rs.next()) {
          assertThat(rs.getString(2)).startsWith("enc:");
          String event = store.openEvent(rs.getString(2), rs.getBytes(3));
          if (event.contains(from)) {
            u.setString(1, store.sealEvent(event.replace(from, to), rs.getBytes(3)));
            u.setLong(2, rs.getLong(1));
            changed += u.executeUpdate();
          }
        }
      }
    }
    return changed;
  }

  record Result(int exit, String out) {}

  static Result verify(Path bundle, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    List<String> all = new ArrayList<>();
    all.add(bundle.toString());
    all.addAll(List.of(args));
    int exit =
        AuditVerify.run(
            all.toArray(String[]::new),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(out, true, StandardCharsets.UTF_8));
    return new Result(exit, out.toString(StandardCharsets.UTF_8));
  }

  @Test
  void numbersOnThePublicEndpointsAreCanonicalDecimalsAndBodiesAreReadOnlyToTheirLimit()
      throws Exception {
    long size = Checkpoint.parse(checkpointCovering(1).body()).size();
    assertThat(get("/audit/v1/checkpoints/" + size).statusCode()).isEqualTo(200);
    for (String spelling :
        List.of(
            "+" + size,
            "0" + size,
            "0x" + Long.toHexString(size),
            "-" + size,
            size + "e0",
            "99999999999999999999")) {
      assertThat(get("/audit/v1/checkpoints/" + spelling).statusCode())
          .as("checkpoint %s", spelling)
          .isEqualTo(400);
    }
    assertThat(get("/audit/v1/proof/inclusion?index=0").statusCode()).isEqualTo(200);
    for (String q : List.of("index=0x0", "index=00", "index=+0", "index=0&size=01")) {
      assertThat(get("/audit/v1/proof/inclusion?" + q).statusCode()).as(q).isEqualTo(400);
    }
    assertThat(get("/audit/v1/proof/consistency?from=+1&to=1").statusCode()).isEqualTo(400);
    // index × 256 overflows from 2^55: beyond the tree, not an empty immutable tile.
    for (long n : new long[] {(1L << 55) - 1, 1L << 55, Long.MAX_VALUE / 256 + 1}) {
      HttpResponse<byte[]> t =
          getBytes("/audit/tile/entries/" + io.yinxin.audit.merkle.Tiles.encodeIndex(n));
      assertThat(t.statusCode()).as("entry tile %d", n).isEqualTo(404);
      assertThat(t.headers().firstValue("Cache-Control").orElse("")).doesNotContain("immutable");
    }
    HttpResponse<String> limit =
        post(
            "/audit/v1/bundles",
            AUDITOR,
            "{\"subject\":\"x\",\"limit\":4294967301}",
            "application/json");
    assertThat(limit.statusCode()).isEqualTo(400);
    assertThat(limit.body()).contains("limit");
    // A query that could only match nothing for a reason the auditor must hear of is refused, not
    // answered with an empty bundle that reads like an absence.
    java.util.Map<String, String> empty =
        java.util.Map.of(
            "{\"type\":\"KEY_USD\"}",
            "unknown event type",
            "{\"subject\":\"" + "s".repeat(513) + "\"}",
            "at most 512",
            "{\"from\":\"2026-12-06T00:00:00Z\",\"to\":\"2026-12-05T00:00:00Z\"}",
            "from is after to");
    for (var q : empty.entrySet()) {
      HttpResponse<String> r = post("/audit/v1/bundles", AUDITOR, q.getKey(), "application/json");
      assertThat(r.statusCode()).as(q.getKey()).isEqualTo(400);
      assertThat(r.body()).contains(q.getValue());
    }
    assertThat(
            post(
                    "/audit/v1/bundles",
                    AUDITOR,
                    "{\"type\":\"KEY_USED\",\"from\":\"2026-12-05T00:00:00Z\","
                        + "\"to\":\"2026-12-05T00:00:00Z\"}",
                    "application/json")
                .statusCode())
        .isEqualTo(200);
    // No token is needed to post a cosignature, so the body is not read past 2,000 bytes (a body
    // small enough to be sent whole before the answer, so the client sees the 413 itself).
    HttpResponse<String> cosig =
        post("/audit/v1/cosignatures?size=1", null, "x".repeat(3_000), "text/plain");
    assertThat(cosig.statusCode()).isEqualTo(413);
  }

  /**
   * The first and last moments an event may carry are stored as the moments the event names: the
   * column the query index reads holds the event's own time, judged by the server's EXTRACT.
   */
  @Test
  void theEarliestAndLatestEventTimesAreStoredAsTheyAre() throws Exception {
    for (String t :
        List.of("0000-01-01T00:00:00Z", "1582-10-10T12:00:00Z", "9999-12-31T23:59:59.999Z")) {
      HttpResponse<String> r = appendAt(t);
      assertThat(r.statusCode()).as(t).isEqualTo(201);
      long index = Long.parseLong(r.body().replaceAll("(?s).*\"index\":(\\d+).*", "$1"));
      java.time.Instant expected = java.time.Instant.parse(t);
      try (var c = dataSource.getConnection();
          var ps =
              c.prepareStatement(
                  "SELECT EXTRACT(EPOCH FROM event_time) FROM audit.events WHERE idx = ?")) {
        ps.setLong(1, index);
        try (var rs = ps.executeQuery()) {
          assertThat(rs.next()).isTrue();
          assertThat(rs.getBigDecimal(1))
              .as(t)
              .isEqualByComparingTo(
                  java.math.BigDecimal.valueOf(expected.getEpochSecond())
                      .add(java.math.BigDecimal.valueOf(expected.getNano(), 9)));
        }
      }
    }
  }

  @Test
  void badInputGetsProblemJsonAndWritesNothing() throws Exception {
    checkpointCovering(1);
    long before = treeSize();
    String big = "x".repeat(1024 * 1024);
    HttpResponse<String> tooBig =
        post(
            "/audit/v1/entries",
            WRITER,
            "{\"type\":\"KEY_USED\",\"actor\":\"a\",\"subject\":\"s\",\"attributes\":{\"a\":\""
                + big
                + "\"}}",
            "application/json");
    assertThat(tooBig.statusCode()).isEqualTo(413);
    assertThat(tooBig.body()).contains("\"code\":\"INVALID_EVENT\"");
    String justUnder = "x".repeat(65 * 1024);
    HttpResponse<String> eventTooBig =
        post(
            "/audit/v1/entries",
            WRITER,
            "{\"type\":\"KEY_USED\",\"actor\":\"a\",\"subject\":\"s\",\"attributes\":{\"a\":\""
                + justUnder
                + "\"}}",
            "application/json");
    assertThat(eventTooBig.statusCode()).isEqualTo(400);
    assertThat(eventTooBig.body()).contains("\"code\":\"INVALID_EVENT\"").contains("65536");
    assertThat(
            post(
                    "/audit/v1/entries",
                    WRITER,
                    "{\"type\":\"NOPE\",\"actor\":\"a\",\"subject\":\"s\"}",
                    "application/json")
                .statusCode())
        .isEqualTo(400);
    assertThat(post("/audit/v1/entries", WRITER, "{not json", "application/json").statusCode())
        .isEqualTo(400);
    assertThat(post("/audit/v1/entries", WRITER, "[]", "application/json").statusCode())
        .isEqualTo(400);
    assertThat(
            post(
                    "/audit/v1/entries",
                    WRITER,
                    "{\"type\":\"KEY_USED\",\"actor\":\"\",\"subject\":\"s\"}",
                    "application/json")
                .statusCode())
        .isEqualTo(400);
    assertThat(
            post(
                    "/audit/v1/entries",
                    "wrong",
                    "{\"type\":\"KEY_USED\",\"actor\":\"a\",\"subject\":\"s\"}",
                    "application/json")
                .statusCode())
        .isEqualTo(401);
    assertThat(
            post(
                    "/audit/v1/entries",
                    null,
                    "{\"type\":\"KEY_USED\",\"actor\":\"a\",\"subject\":\"s\"}",
                    "application/json")
                .statusCode())
        .isEqualTo(401);
    // Times RFC 3339 cannot write (Instant.parse takes them), and one beyond PostgreSQL's range,
    // which used to fail the whole commit it travelled in.
    for (String t :
        List.of("+10000-01-01T00:00:00Z", "-0001-12-31T23:59:59Z", "+300000-01-01T00:00:00Z")) {
      HttpResponse<String> r = appendAt(t);
      assertThat(r.statusCode()).as(t).isEqualTo(400);
      assertThat(r.body()).contains("\"code\":\"INVALID_EVENT\"").contains("0000-9999");
    }
    // Text PostgreSQL cannot hold (U+0000 in a column) or UTF-8 cannot encode (a lone surrogate,
    // which would be committed to as "?"): refused, not left to fail the commit it travels in.
    for (String body :
        List.of(
            "{\"type\":\"KEY_USED\",\"actor\":\"a\",\"subject\":\"s\\u0000t\"}",
            "{\"type\":\"KEY_USED\",\"actor\":\"a\\u0000\",\"subject\":\"s\"}",
            "{\"type\":\"KEY_USED\",\"actor\":\"a\",\"subject\":\"s\\ud800\"}",
            "{\"type\":\"KEY_USED\",\"actor\":\"a\",\"subject\":\"s\",\"attributes\":{\"k\":\"\\udc00v\"}}")) {
      HttpResponse<String> r = post("/audit/v1/entries", WRITER, body, "application/json");
      assertThat(r.statusCode()).as(body).isEqualTo(400);
      assertThat(r.body()).as(body).contains("\"code\":\"INVALID_EVENT\"");
    }
    assertThat(post("/audit/v1/bundles", WRITER, "{}", "application/json").statusCode())
        .isEqualTo(401);
    assertThat(
            post("/audit/v1/bundles", AUDITOR, "{\"limit\":100000}", "application/json")
                .statusCode())
        .isEqualTo(400);
    assertThat(
            post("/audit/v1/bundles", AUDITOR, "{\"from\":\"yesterday\"}", "application/json")
                .statusCode())
        .isEqualTo(400);
    assertThat(treeSize()).isEqualTo(before);

    assertThat(get("/audit/v1/proof/inclusion?index=-1").statusCode()).isEqualTo(400);
    assertThat(get("/audit/v1/proof/inclusion?index=99999999").statusCode()).isEqualTo(400);
    assertThat(get("/audit/v1/proof/inclusion?index=abc").statusCode()).isEqualTo(400);
    assertThat(get("/audit/v1/proof/inclusion?index=0&size=99999999").statusCode()).isEqualTo(404);
    assertThat(get("/audit/v1/proof/consistency?from=5&to=2").statusCode()).isEqualTo(400);
    assertThat(get("/audit/v1/proof/consistency?from=1&to=99999999").statusCode()).isEqualTo(400);

    HttpResponse<String> ok =
        post(
            "/audit/v1/entries",
            WRITER,
            "{\"type\":\"CONFIG_CHANGED\",\"actor\":\"ops\",\"subject\":\"yinxin\",\"attributes\":{\"k\":\"v\"}}",
            "application/json");
    assertThat(ok.statusCode()).isEqualTo(201);
    assertThat(ok.body()).contains("\"index\":" + before);
  }

  @Test
  void witnessCosignaturesAreVerifiedPublishedAndCountTowardsAQuorum() throws Exception {
    log.append(AuditEvent.of(EventType.CERT_REVOKED, "ca-service", "serial-w", Map.of()));
    SignedNote note = checkpointCovering(treeSize());
    long size = Checkpoint.parse(note.body()).size();
    long time = java.time.Instant.now().getEpochSecond();
    Signature s = Signature.getInstance("Ed25519");
    s.initSign(WITNESS.getPrivate());
    s.update(SignedNote.cosignedMessage(note.body(), time));
    byte[] sig =
        ByteBuffer.allocate(4 + 72).put(WITNESS_KEY.keyId()).putLong(time).put(s.sign()).array();
    String line = "\u2014 witness.test/w1 " + Base64.getEncoder().encodeToString(sig);

    byte[] forged = sig.clone();
    forged[20] ^= 1;
    assertThat(
            post(
                    "/audit/v1/cosignatures?size=" + size,
                    null,
                    "\u2014 witness.test/w1 " + Base64.getEncoder().encodeToString(forged),
                    "text/plain")
                .statusCode())
        .isEqualTo(400);
    assertThat(
            post(
                    "/audit/v1/cosignatures?size=" + size,
                    null,
                    "\u2014 stranger.test/w " + Base64.getEncoder().encodeToString(sig),
                    "text/plain")
                .statusCode())
        .isEqualTo(401);
    assertThat(post("/audit/v1/cosignatures?size=" + size, null, line, "text/plain").statusCode())
        .isEqualTo(204);

    HttpResponse<String> withCosig = get("/audit/v1/proof/inclusion?index=0&size=" + size);
    String tlog = (String) ((Map<?, ?>) Json.parse(withCosig.body())).get("tlogProof");
    assertThat(io.yinxin.audit.note.TlogProof.parse(tlog).checkpoint().cosignedBy(WITNESS_KEY))
        .contains(time);
  }

  @Test
  void aNodeWithoutTheLogAppendsOverHttpWithTheWriterToken() throws Exception {
    io.yinxin.audit.client.HttpAuditLog remote =
        new io.yinxin.audit.client.HttpAuditLog(
            "http://127.0.0.1:" + port + "/", WRITER.toCharArray());
    Receipt r =
        remote.append(
            new AuditEvent(
                EventType.TOKEN_ISSUED,
                "sso-node-2",
                "client-42",
                java.time.Instant.now(),
                Map.of("scope", "openid"),
                java.util.Optional.of("sha256:abc")));
    try (var c = dataSource.getConnection();
        var ps = c.prepareStatement("SELECT leaf_hash FROM audit.entries WHERE idx = ?")) {
      ps.setLong(1, r.index());
      try (var rs = ps.executeQuery()) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getBytes(1)).isEqualTo(r.leafHash());
      }
    }
    io.yinxin.audit.client.HttpAuditLog wrong =
        new io.yinxin.audit.client.HttpAuditLog("http://127.0.0.1:" + port, "nope".toCharArray());
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> wrong.append(AuditEvent.of(EventType.TOKEN_ISSUED, "x", "y", Map.of())))
        .isInstanceOfSatisfying(
            io.yinxin.audit.AuditException.class,
            e -> assertThat(e.code()).isEqualTo(io.yinxin.audit.AuditException.Code.UNAUTHORIZED));
  }

  @Test
  void keyGenerationWasRecordedAndTheLogStartedNonEmpty() throws Exception {
    try (var c = dataSource.getConnection();
        var rs =
            c.createStatement()
                .executeQuery(
                    "SELECT type, subject, event, salt FROM audit.events ORDER BY idx LIMIT 3")) {
      List<String> types = new ArrayList<>();
      List<String> subjects = new ArrayList<>();
      List<String> events = new ArrayList<>();
      while (rs.next()) {
        types.add(rs.getString(1));
        subjects.add(rs.getString(2));
        assertThat(rs.getString(3)).startsWith("enc:");
        events.add(store.openEvent(rs.getString(3), rs.getBytes(4)));
      }
      // The data key that wraps the event key (made while the event key was held, so its record
      // is encrypted too), the checkpoint key, then the start, which records the event key's use.
      assertThat(types).containsExactly("KEY_GENERATED", "KEY_GENERATED", "LOG_STARTED");
      assertThat(subjects.get(0)).isEqualTo("soft:audit-events");
      assertThat(events.get(2))
          .contains("\"eventKeyUse\":\"created\"")
          .contains("\"eventKeyWrappedBy\":\"soft:audit-events\"");
    }
  }
}
