package io.yinxin.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.audit.merkle.Rfc9162;
import io.yinxin.audit.note.Checkpoint;
import io.yinxin.audit.verify.LogMonitor;
import io.yinxin.hsm.testing.FreePorts;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Nodes as separate processes, a write load that records every acknowledged answer, and the checks
 * of what a log and a database kept: shared by {@link FailoverTest} and {@link MultiNodeTest}.
 */
final class NodeProcesses {
  static final JsonMapper JSON = JsonMapper.builder().build();
  static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private NodeProcesses() {}

  // --- the load ---------------------------------------------------------------------------

  /**
   * Two issuers and two appenders, each recording what the nodes acknowledged; requests go to the
   * given base URLs in turn.
   */
  static final class Load {
    final ConcurrentLinkedQueue<String> certificates = new ConcurrentLinkedQueue<>();
    final Map<Long, String> entries = new ConcurrentHashMap<>();
    final LongAdder failures = new LongAdder();
    final AtomicLong firstCertificateAfterKill = new AtomicLong();
    final AtomicLong firstEntryAfterKill = new AtomicLong();
    private volatile String caToken;
    private volatile String writerToken;
    private volatile List<String> bases;
    private final java.util.concurrent.atomic.AtomicInteger next =
        new java.util.concurrent.atomic.AtomicInteger();
    private volatile long killedAt;
    private volatile boolean running;
    private final List<Thread> threads = new ArrayList<>();

    Load(List<String> bases, String caToken, String writerToken) {
      this.bases = List.copyOf(bases);
      this.caToken = caToken;
      this.writerToken = writerToken;
    }

    boolean killed() {
      return killedAt != 0;
    }

    void markKilled(long at) {
      killedAt = at;
    }

    void retarget(List<String> newBases, String newCaToken, String newWriterToken) {
      bases = List.copyOf(newBases);
      caToken = newCaToken;
      writerToken = newWriterToken;
    }

    private String base() {
      List<String> b = bases;
      return b.get(Math.floorMod(next.getAndIncrement(), b.size()));
    }

    void start() {
      running = true;
      threads.clear();
      for (int i = 0; i < 2; i++) {
        threads.add(daemon(this::issue));
        threads.add(daemon(this::append));
      }
    }

    void stop() throws InterruptedException {
      running = false;
      for (Thread t : threads) {
        t.join(60_000);
      }
    }

    private void issue() {
      while (running) {
        long started = System.nanoTime();
        try {
          HttpResponse<String> r =
              post(
                  base() + "/ca/v1/certificates",
                  caToken,
                  "{\"profile\":\"citizen-sign\",\"csr\":\""
                      + BackupRestoreTest.p256Csr().replace("\n", "\\n")
                      + "\",\"subject\":{\"name\":\"张三\",\"idNumber\":\"11010519491231002X\"}}");
          if (r.statusCode() == 201) {
            certificates.add(JSON.readTree(r.body()).path("serial").asString());
            acknowledged(firstCertificateAfterKill, started);
            continue;
          }
        } catch (Exception e) {
          // refused while the database fails over
        }
        failed();
      }
    }

    private void append() {
      while (running) {
        long started = System.nanoTime();
        try {
          HttpResponse<String> r =
              post(
                  base() + "/audit/v1/entries",
                  writerToken,
                  "{\"type\":\"KEY_USED\",\"actor\":\"failover-test\",\"subject\":\"load\"}");
          if (r.statusCode() == 201) {
            JsonNode receipt = JSON.readTree(r.body());
            entries.put(receipt.path("index").asLong(), receipt.path("leafHash").asString());
            acknowledged(firstEntryAfterKill, started);
            continue;
          }
        } catch (Exception e) {
          // refused while the database fails over
        }
        failed();
      }
    }

    /** A write first sent after the kill and acknowledged marks the recovery. */
    private void acknowledged(AtomicLong first, long started) {
      if (killedAt != 0 && started > killedAt) {
        first.compareAndSet(0, System.nanoTime());
      }
    }

    private void failed() {
      failures.increment();
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  // --- nodes and clusters -----------------------------------------------------------------

  record Node(Process process, String base, Path log) {}

  /**
   * A node as its own process (the executable's main class on this test's class path) on a free
   * port, with {@code settings} ({@code --name=value}); returns once it is ready. Killed by {@code
   * cleanup}.
   */
  static Node start(Cleanup cleanup, Path work, Path data, String name, String... settings)
      throws Exception {
    int port = FreePorts.next();
    Path log = work.resolve(name + ".log");
    List<String> command =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx768m",
                "-cp",
                System.getProperty("java.class.path"),
                "io.yinxin.ops.YinxinApplication",
                "--server.port=" + port,
                "--yinxin.data-dir=" + data));
    command.addAll(List.of(settings));
    Process p =
        new ProcessBuilder(command)
            .directory(work.toFile())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    cleanup.add(() -> p.destroyForcibly());
    Node node = new Node(p, "http://127.0.0.1:" + port, log);
    awaitReady(node, name);
    return node;
  }

  static void awaitReady(Node node, String name) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (System.nanoTime() < deadline) {
      if (!node.process().isAlive()) {
        throw new AssertionError(name + " exited: " + tail(node.log()));
      }
      try {
        if (get(node.base() + "/actuator/health/readiness").contains("\"UP\"")) {
          return;
        }
      } catch (Exception | AssertionError e) {
        // not yet (not listening, or OUT_OF_SERVICE)
      }
      Thread.sleep(250);
    }
    throw new AssertionError(name + " not ready: " + tail(node.log()));
  }

  static String tail(Path log) throws Exception {
    String s = Files.readString(log);
    return s.substring(Math.max(0, s.length() - 4000));
  }

  // --- HTTP and the log -------------------------------------------------------------------

  static String get(String url) throws Exception {
    HttpResponse<String> r =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
            HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new AssertionError(url + " answered " + r.statusCode() + ": " + r.body());
    }
    return r.body();
  }

  /**
   * A time-stamp token from the node's TSA at {@code base} ({@code POST /tsa}, anonymous) over the
   * SHA-256 of {@code data}: the reply must be 200 and grant a token, whose serial is returned.
   */
  static java.math.BigInteger timeStamp(String base, byte[] data) throws Exception {
    byte[] query =
        new org.bouncycastle.tsp.TimeStampRequestGenerator()
            .generate(
                org.bouncycastle.tsp.TSPAlgorithms.SHA256,
                java.security.MessageDigest.getInstance("SHA-256").digest(data))
            .getEncoded();
    HttpResponse<byte[]> r =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(base + "/tsa"))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/timestamp-query")
                .POST(HttpRequest.BodyPublishers.ofByteArray(query))
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());
    if (r.statusCode() != 200) {
      throw new AssertionError("the TSA answered " + r.statusCode());
    }
    return new org.bouncycastle.tsp.TimeStampResponse(r.body())
        .getTimeStampToken()
        .getTimeStampInfo()
        .getSerialNumber();
  }

  static HttpResponse<String> post(String url, String token, String body) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create(url))
            .timeout(Duration.ofSeconds(30))
            .header("Authorization", "Bearer " + token)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /**
   * A client-credentials token request to {@code issuer}'s token endpoint, the client authenticated
   * with HTTP Basic and the grant type in a form body.
   */
  static HttpResponse<String> clientCredentials(String issuer, String clientId, String secret)
      throws Exception {
    String basic =
        java.util.Base64.getEncoder()
            .encodeToString(
                (clientId + ":" + secret).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    return HTTP.send(
        HttpRequest.newBuilder(URI.create(issuer + "/oauth2/token"))
            .timeout(Duration.ofSeconds(30))
            .header("Authorization", "Basic " + basic)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials"))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static Checkpoint awaitCheckpoint(String base, long size) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      String note = get(base + "/audit/checkpoint");
      Checkpoint cp = Checkpoint.parse(note.substring(0, note.indexOf("\n\n") + 1));
      if (cp.size() >= size) {
        return cp;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no checkpoint covers " + size + " (last " + cp.size() + ")");
      }
      Thread.sleep(200);
    }
  }

  /** {@code yinxin monitor --once}: 0 when the checkpoint verifies and extends the last seen. */
  static int monitor(String base, String key, Path state) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int status =
        LogMonitor.run(
            new String[] {
              "--log", base + "/audit", "--key", key, "--state", state.toString(), "--once"
            },
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(out, true, StandardCharsets.UTF_8));
    if (status != 0) {
      System.out.println(out.toString(StandardCharsets.UTF_8));
    }
    return status;
  }

  static Thread daemon(Runnable r) {
    Thread t = new Thread(r);
    t.setDaemon(true);
    t.start();
    return t;
  }

  interface Condition {
    boolean holds() throws Exception;
  }

  static void await(Condition c, int seconds, String what) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (!c.holds()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(100);
    }
  }

  /** The checkpoint a node serves now. */
  static Checkpoint checkpoint(String base) throws Exception {
    String note = get(base + "/audit/checkpoint");
    return Checkpoint.parse(note.substring(0, note.indexOf("\n\n") + 1));
  }

  /** Records every checkpoint it sees (size to base64 root) until stopped. */
  static final class CheckpointWatcher {
    final Map<Long, String> seen = new ConcurrentHashMap<>();
    private volatile boolean running = true;
    private final Thread thread;

    CheckpointWatcher(java.util.function.Supplier<String> base) {
      thread =
          daemon(
              () -> {
                while (running) {
                  try {
                    Checkpoint cp = checkpoint(base.get());
                    if (running) {
                      seen.putIfAbsent(cp.size(), Base64.getEncoder().encodeToString(cp.root()));
                    }
                    Thread.sleep(50);
                  } catch (Exception | AssertionError e) {
                    // the node is going, or its database is
                  }
                }
              });
    }

    void stop() throws InterruptedException {
      running = false;
      thread.join(15_000);
    }
  }

  /**
   * What the database at {@code jdbcUrl} lacks of what {@code load} was told: acknowledged
   * certificates missing, and acknowledged audit entries missing or holding another leaf.
   */
  static long lost(String jdbcUrl, Load load) throws Exception {
    long lost = 0;
    try (Connection c = DriverManager.getConnection(jdbcUrl, "postgres", "")) {
      try (PreparedStatement ps =
          c.prepareStatement(
              "SELECT count(*) FROM ca.certificates WHERE issuer = 'citizen' AND serial = ?")) {
        for (String serial : load.certificates) {
          ps.setString(1, serial);
          try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            lost += rs.getLong(1) == 1 ? 0 : 1;
          }
        }
      }
      try (PreparedStatement ps =
          c.prepareStatement("SELECT leaf_hash FROM audit.entries WHERE idx = ?")) {
        for (Map.Entry<Long, String> e : load.entries.entrySet()) {
          ps.setLong(1, e.getKey());
          try (ResultSet rs = ps.executeQuery()) {
            boolean same =
                rs.next()
                    && Base64.getEncoder().encodeToString(rs.getBytes(1)).equals(e.getValue());
            lost += same ? 0 : 1;
          }
        }
      }
    }
    return lost;
  }

  /**
   * The node's checkpoint once it covers every acknowledged entry, checked to be consistent (RFC
   * 9162 proofs from the node, verified here) with every checkpoint seen before.
   */
  static Checkpoint assertConsistentWith(String base, Map<Long, String> before, Load load)
      throws Exception {
    assertThat(before).as("checkpoints seen before").isNotEmpty();
    long highest = load.entries.keySet().stream().mapToLong(Long::longValue).max().orElseThrow();
    Checkpoint after = awaitCheckpoint(base, highest + 1);
    for (Map.Entry<Long, String> cp : before.entrySet()) {
      JsonNode proof =
          JSON.readTree(
              get(
                  base
                      + "/audit/v1/proof/consistency?from="
                      + cp.getKey()
                      + "&to="
                      + after.size()));
      List<byte[]> hashes = new ArrayList<>();
      proof.path("proof").forEach(h -> hashes.add(Base64.getDecoder().decode(h.asString())));
      assertThat(
              Rfc9162.verifyConsistency(
                  cp.getKey(),
                  after.size(),
                  Base64.getDecoder().decode(cp.getValue()),
                  after.root(),
                  hashes))
          .as("checkpoint %d consistent with %d", cp.getKey(), after.size())
          .isTrue();
    }
    return after;
  }
}
