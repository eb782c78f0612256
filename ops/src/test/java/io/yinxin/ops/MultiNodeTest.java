package io.yinxin.ops;

import static io.yinxin.ops.NodeProcesses.HTTP;
import static io.yinxin.ops.NodeProcesses.JSON;
import static io.yinxin.ops.NodeProcesses.assertConsistentWith;
import static io.yinxin.ops.NodeProcesses.await;
import static io.yinxin.ops.NodeProcesses.checkpoint;
import static io.yinxin.ops.NodeProcesses.get;
import static io.yinxin.ops.NodeProcesses.lost;
import static io.yinxin.ops.NodeProcesses.post;
import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.audit.note.Checkpoint;
import io.yinxin.hsm.testing.FreePorts;
import io.yinxin.ops.NodeProcesses.CheckpointWatcher;
import io.yinxin.ops.NodeProcesses.Load;
import io.yinxin.ops.NodeProcesses.Node;
import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.net.CookieManager;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bouncycastle.cert.ocsp.BasicOCSPResp;
import org.bouncycastle.cert.ocsp.CertificateID;
import org.bouncycastle.cert.ocsp.OCSPReqBuilder;
import org.bouncycastle.cert.ocsp.OCSPResp;
import org.bouncycastle.cert.ocsp.RevokedStatus;
import org.bouncycastle.cert.ocsp.jcajce.JcaCertificateID;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import tools.jackson.databind.JsonNode;

/**
 * Three nodes on different ports behind HAProxy (Debian's {@code haproxy}, health-checking each
 * node's readiness), sharing one PostgreSQL database and one key store (as pods share a database
 * and an HSM), with the load balancer's URL as their public URL and issuer. Checked: concurrent
 * issuance and appends on every node give unique serials and a gapless log holding every
 * acknowledged entry; a revocation on one node is answered {@code revoked} by OCSP on the other two
 * within a second; a node that has been publishing checkpoints is killed with SIGKILL under load
 * through HAProxy and the log's checkpoint advances again within 5 s, nothing acknowledged is lost
 * and every checkpoint stays consistent with the ones before; a sign-in started on one node
 * finishes on another and a third knows the person; a DPoP proof used at one node is refused at
 * another.
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class MultiNodeTest {
  private final Cleanup cleanup = new Cleanup();

  @AfterEach
  void stopEverything() {
    cleanup.run();
  }

  @Test
  void threeNodesBehindHaproxyShareOneDatabaseAndSurviveTheLossOfOne() throws Exception {
    Path work = Files.createTempDirectory("yinxin-multinode-");
    cleanup.add(() -> BackupRestoreTest.deleteTree(work)); // runs last
    String database = "yinxin_multinode_" + ProcessHandle.current().pid();
    try (Connection c =
        DriverManager.getConnection("jdbc:postgresql://127.0.0.1:5432/postgres", "postgres", "")) {
      c.createStatement().execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
      c.createStatement().execute("CREATE DATABASE " + database);
    }
    cleanup.add(
        () -> {
          try (Connection c =
              DriverManager.getConnection(
                  "jdbc:postgresql://127.0.0.1:5432/postgres", "postgres", "")) {
            c.createStatement().execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
          } catch (java.sql.SQLException e) {
            // left for the next run's clean-up
          }
        });
    String jdbc = "jdbc:postgresql://127.0.0.1:5432/" + database;
    int lbPort = FreePorts.next();
    String lb = "http://127.0.0.1:" + lbPort;
    Path data = work.resolve("data");
    String[] settings = {
      "--spring.datasource.url=" + jdbc,
      "--spring.datasource.username=postgres",
      "--spring.datasource.password=",
      "--yinxin.ca.public-url=" + lb,
      "--yinxin.sso.issuer=" + lb,
      "--yinxin.ca.issuer-uri=" + lb,
      "--yinxin.audit.issuer-uri=" + lb,
      // Each node's TSA records its tokens every half second (not every minute), so that the
      // nodes at rest are seen within seconds (step 6).
      "--yinxin.sign.tsa.key-use-interval=500ms"
    };
    // The first node creates the hierarchy and the keys; the other two start beside each other.
    List<Node> nodes = new ArrayList<>();
    nodes.add(NodeProcesses.start(cleanup, work, data, "node-1", settings));
    nodes.addAll(startTogether(work, data, settings, "node-2", "node-3"));
    startHaproxy(work, lbPort, nodes);
    await(() -> status(lb + "/actuator/health/readiness") == 200, 30, "HAProxy");

    JsonNode dev = JSON.readTree(Files.readString(data.resolve("dev.json")));
    String caToken = dev.path("caOperatorToken").asString();
    List<String> direct = nodes.stream().map(Node::base).toList();

    // 1. Concurrent issuance and appends on every node.
    Load everyNode = new Load(direct, caToken, dev.path("auditWriterToken").asString());
    everyNode.start();
    Thread.sleep(4000);
    everyNode.stop();
    assertThat(everyNode.certificates).hasSizeGreaterThan(20);
    assertThat(new HashSet<>(everyNode.certificates)).hasSameSizeAs(everyNode.certificates);
    assertThat(lost(jdbc, everyNode)).isZero();
    try (Connection c = DriverManager.getConnection(jdbc, "postgres", "");
        ResultSet rs =
            c.createStatement()
                .executeQuery("SELECT count(*), min(idx), max(idx) FROM audit.entries")) {
      rs.next();
      assertThat(rs.getLong(2)).isZero();
      assertThat(rs.getLong(1)).as("a gapless log").isEqualTo(rs.getLong(3) + 1);
    }

    // 2. A revocation on node 1 reaches OCSP on nodes 2 and 3 within a second.
    String serial = everyNode.certificates.peek();
    X509Certificate issuer = issuer(direct.get(0));
    assertThat(ocsp(direct.get(1), issuer, serial)).isEqualTo("good");
    assertThat(ocsp(direct.get(2), issuer, serial)).isEqualTo("good");
    HttpResponse<String> revoked =
        post(
            direct.get(0) + "/ca/v1/certificates/citizen/" + serial + "/revoke",
            caToken,
            "{\"reason\":\"keyCompromise\"}");
    long revokedAt = System.nanoTime();
    assertThat(revoked.statusCode()).as(revoked.body()).isEqualTo(200);
    double[] seen = new double[2];
    for (int i = 1; i <= 2; i++) {
      String node = direct.get(i);
      await(() -> ocsp(node, issuer, serial).equals("revoked"), 5, "revoked at " + node);
      seen[i - 1] = (System.nanoTime() - revokedAt) / 1e9;
    }
    assertThat(seen[1]).as("seconds until OCSP on the other nodes said revoked").isLessThan(1.0);

    // 3. A node that has been publishing checkpoints dies under load through HAProxy.
    Load throughLb = new Load(List.of(lb), caToken, dev.path("auditWriterToken").asString());
    throughLb.start();
    CheckpointWatcher watcher = new CheckpointWatcher(() -> lb);
    Thread.sleep(2000);
    int publisher = recentPublisher(nodes);
    nodes.get(publisher).process().destroyForcibly().waitFor();
    long killedAt = System.nanoTime();
    throughLb.markKilled(killedAt);
    String survivor = direct.get((publisher + 1) % 3);
    // A checkpoint signed after the kill: larger than the newest one as the node died.
    Checkpoint atKill = checkpoint(survivor);
    await(() -> checkpoint(survivor).size() > atKill.size(), 10, "a checkpoint after the kill");
    double takeover = (System.nanoTime() - killedAt) / 1e9;
    Thread.sleep(2000);
    throughLb.stop();
    watcher.stop();
    assertThat(takeover).as("seconds until the next checkpoint").isLessThan(5.0);
    assertThat(throughLb.firstEntryAfterKill.get()).as("appends after the kill").isNotZero();
    assertThat(lost(jdbc, throughLb)).isZero();
    assertConsistentWith(survivor, watcher.seen, throughLb);

    // 4. A sign-in started on one node finishes on another; the third knows the person.
    String a = direct.get((publisher + 1) % 3);
    String b = direct.get((publisher + 2) % 3);
    HttpClient browser =
        HttpClient.newBuilder()
            .cookieHandler(new CookieManager())
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
    String page = browser.send(request(a + "/login").build(), body()).body();
    Matcher csrf = Pattern.compile("name=\"_csrf\" value=\"([^\"]+)\"").matcher(page);
    assertThat(csrf.find()).as("the sign-in form's CSRF token").isTrue();
    String form =
        "username="
            + enc(dev.path("demoUser").path("username").asString())
            + "&password="
            + enc(dev.path("demoUser").path("password").asString())
            + "&_csrf="
            + enc(csrf.group(1));
    HttpResponse<String> signedIn =
        browser.send(
            request(b + "/login")
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form))
                .build(),
            body());
    assertThat(signedIn.statusCode()).isEqualTo(302);
    assertThat(signedIn.headers().firstValue("Location").orElse("")).doesNotContain("/login");
    HttpResponse<String> account = browser.send(request(lb + "/account").build(), body());
    assertThat(account.statusCode()).as(account.body()).isEqualTo(200);
    assertThat(account.body()).contains(dev.path("demoUser").path("username").asString());

    // 5. A DPoP proof (RFC 9449) used at one node is refused at another. Both are sent HAProxy's
    // Host header, as the proxy passes it on, so both see the proof's htu as their own URL.
    com.nimbusds.jose.jwk.ECKey key =
        new com.nimbusds.jose.jwk.gen.ECKeyGenerator(com.nimbusds.jose.jwk.Curve.P_256).generate();
    String basic =
        "Basic "
            + java.util.Base64.getEncoder()
                .encodeToString(
                    (dev.path("demoClient").path("id").asString()
                            + ":"
                            + dev.path("demoClient").path("secret").asString())
                        .getBytes(StandardCharsets.UTF_8));
    String proof = dpopProof(key, lb + "/oauth2/token");
    assertThat(tokenRequest(a, lbPort, basic, proof))
        .startsWith("HTTP/1.1 200")
        .contains("\"token_type\":\"DPoP\"");
    assertThat(tokenRequest(b, lbPort, basic, proof))
        .as("the same proof at another node")
        .startsWith("HTTP/1.1 400")
        .contains("invalid_dpop_proof");
    assertThat(tokenRequest(b, lbPort, basic, dpopProof(key, lb + "/oauth2/token")))
        .as("a fresh proof at that node")
        .startsWith("HTTP/1.1 200");

    // 6. Left alone, the two nodes that are left come to rest: each stamps the checkpoints it
    // sees with its own TSA, whose tokens are entries in the log, but one node at a time asks,
    // and a checkpoint adding only the record of the last stamp is not stamped.
    long[] last = {-1};
    long[] since = {System.nanoTime()};
    await(
        () -> {
          long size = checkpoint(a).size();
          if (size != last[0]) {
            last[0] = size;
            since[0] = System.nanoTime();
          }
          return System.nanoTime() - since[0] > 3_000_000_000L;
        },
        90,
        "the log at rest (no new entry for 3 s)");
    long rest = last[0];
    assertThat(checkpoint(b).size()).isEqualTo(rest);

    System.out.printf(
        "multi-node: 3 nodes behind HAProxy; every node: %d certificates (unique), %d entries"
            + " (gapless); revocation seen by OCSP on the others after %.2fs and %.2fs; publisher"
            + " node-%d killed, next checkpoint after %.2fs; %d certificates and %d entries"
            + " acknowledged through HAProxy, none lost; %d checkpoints consistent; at rest at"
            + " size %d%n",
        everyNode.certificates.size(),
        everyNode.entries.size(),
        seen[0],
        seen[1],
        publisher + 1,
        takeover,
        throughLb.certificates.size(),
        throughLb.entries.size(),
        watcher.seen.size(),
        rest);
  }

  private static String dpopProof(com.nimbusds.jose.jwk.ECKey key, String htu) throws Exception {
    com.nimbusds.jwt.SignedJWT proof =
        new com.nimbusds.jwt.SignedJWT(
            new com.nimbusds.jose.JWSHeader.Builder(com.nimbusds.jose.JWSAlgorithm.ES256)
                .type(new com.nimbusds.jose.JOSEObjectType("dpop+jwt"))
                .jwk(key.toPublicJWK())
                .build(),
            new com.nimbusds.jwt.JWTClaimsSet.Builder()
                .jwtID(java.util.UUID.randomUUID().toString())
                .claim("htm", "POST")
                .claim("htu", htu)
                .issueTime(new java.util.Date())
                .build());
    proof.sign(new com.nimbusds.jose.crypto.ECDSASigner(key));
    return proof.serialize();
  }

  /** A client-credentials token request to {@code base} with {@code Host: 127.0.0.1:hostPort}. */
  private static String tokenRequest(String base, int hostPort, String basic, String dpop)
      throws Exception {
    URI node = URI.create(base);
    byte[] body = "grant_type=client_credentials&scope=profile".getBytes(StandardCharsets.US_ASCII);
    try (java.net.Socket s = new java.net.Socket(node.getHost(), node.getPort())) {
      s.setSoTimeout(10_000);
      s.getOutputStream()
          .write(
              ("POST /oauth2/token HTTP/1.1\r\nHost: 127.0.0.1:"
                      + hostPort
                      + "\r\nAuthorization: "
                      + basic
                      + "\r\nDPoP: "
                      + dpop
                      + "\r\nContent-Type: application/x-www-form-urlencoded"
                      + "\r\nConnection: close\r\nContent-Length: "
                      + body.length
                      + "\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().write(body);
      s.getOutputStream().flush();
      return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private List<Node> startTogether(Path work, Path data, String[] settings, String... names)
      throws Exception {
    List<java.util.concurrent.Future<Node>> starting = new ArrayList<>();
    java.util.concurrent.ExecutorService pool =
        java.util.concurrent.Executors.newFixedThreadPool(names.length);
    try {
      for (String name : names) {
        starting.add(pool.submit(() -> NodeProcesses.start(cleanup, work, data, name, settings)));
      }
      List<Node> started = new ArrayList<>();
      for (var f : starting) {
        started.add(f.get(180, TimeUnit.SECONDS));
      }
      return started;
    } finally {
      pool.shutdownNow();
    }
  }

  private void startHaproxy(Path work, int port, List<Node> nodes) throws Exception {
    StringBuilder cfg =
        new StringBuilder(
            """
            global
              maxconn 2000
            defaults
              mode http
              timeout connect 2s
              timeout client 60s
              timeout server 60s
              retries 2
              option redispatch
            frontend yinxin
              bind 127.0.0.1:%d
              default_backend nodes
            backend nodes
              balance roundrobin
              option httpchk GET /actuator/health/readiness
              http-check expect status 200
            """
                .formatted(port));
    for (int i = 0; i < nodes.size(); i++) {
      cfg.append("  server node-")
          .append(i + 1)
          .append(' ')
          .append(URI.create(nodes.get(i).base()).getAuthority())
          .append(" check inter 300ms fall 2 rise 2\n");
    }
    Path file = work.resolve("haproxy.cfg");
    Files.writeString(file, cfg.toString());
    Process p =
        new ProcessBuilder("haproxy", "-f", file.toString(), "-db")
            .redirectErrorStream(true)
            .redirectOutput(work.resolve("haproxy.log").toFile())
            .start();
    cleanup.add(() -> p.destroyForcibly());
  }

  /**
   * The node whose count of checkpoints it signed ({@code yinxin_audit_checkpoints_total}) grew
   * last: every node competes for the publication lock each round, so this is one that was
   * publishing when it dies.
   */
  private static int recentPublisher(List<Node> nodes) throws Exception {
    double[] before = new double[nodes.size()];
    for (int i = 0; i < nodes.size(); i++) {
      before[i] = published(nodes.get(i));
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      Thread.sleep(100);
      for (int i = 0; i < nodes.size(); i++) {
        if (published(nodes.get(i)) > before[i]) {
          return i;
        }
      }
    }
    throw new AssertionError("no node published a checkpoint for 10 s");
  }

  private static double published(Node node) throws Exception {
    for (String line : get(node.base() + "/actuator/prometheus").split("\n")) {
      if (line.startsWith("yinxin_audit_checkpoints_total")) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return 0;
  }

  private static X509Certificate issuer(String base) throws Exception {
    String pem = get(base + "/ca/v1/cas/citizen/certificate?format=pem");
    return (X509Certificate)
        CertificateFactory.getInstance("X.509")
            .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
  }

  /** What the node's OCSP responder says of the certificate: good, revoked or unknown. */
  private static String ocsp(String base, X509Certificate issuer, String serial) throws Exception {
    CertificateID id =
        new JcaCertificateID(
            new JcaDigestCalculatorProviderBuilder().build().get(CertificateID.HASH_SHA1),
            issuer,
            new BigInteger(serial, 16));
    HttpResponse<byte[]> r =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(base + "/ca/ocsp"))
                .header("Content-Type", "application/ocsp-request")
                .POST(
                    HttpRequest.BodyPublishers.ofByteArray(
                        new OCSPReqBuilder().addRequest(id).build().getEncoded()))
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());
    Object status =
        ((BasicOCSPResp) new OCSPResp(r.body()).getResponseObject())
            .getResponses()[0].getCertStatus();
    return status == null ? "good" : status instanceof RevokedStatus ? "revoked" : "unknown";
  }

  private static int status(String url) {
    try {
      return HTTP.send(request(url).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (Exception e) {
      return 0;
    }
  }

  private static HttpRequest.Builder request(String url) {
    return HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10));
  }

  private static HttpResponse.BodyHandler<String> body() {
    return HttpResponse.BodyHandlers.ofString();
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
