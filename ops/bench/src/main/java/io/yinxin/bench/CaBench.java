package io.yinxin.bench;

import com.zaxxer.hikari.HikariDataSource;
import io.yinxin.audit.AuditLog;
import io.yinxin.audit.store.Integrator;
import io.yinxin.audit.store.LogStore;
import io.yinxin.ca.crl.CrlService;
import io.yinxin.ca.hierarchy.Hierarchy;
import io.yinxin.ca.issue.CertificateFactory;
import io.yinxin.ca.issue.Urls;
import io.yinxin.ca.profile.HierarchyConfig;
import io.yinxin.ca.store.CaStore;
import io.yinxin.ca.store.CrlStore.CrlRecord;
import io.yinxin.ca.store.CrlStore.RevokedEntry;
import io.yinxin.hsm.BouncyCastle;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyServices;
import io.yinxin.hsm.soft.SoftKeyBackend;
import java.math.BigInteger;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v2CRLBuilder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.bc.BcX509ExtensionUtils;
import org.bouncycastle.cert.ocsp.CertificateID;
import org.bouncycastle.cert.ocsp.OCSPReqBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.bc.BcDigestCalculatorProvider;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/**
 * The CA on this machine. Prints one table:
 *
 * <ul>
 *   <li><b>crl</b>: a full CRL of 1,000,000 revoked entries published by Yinxin (read from
 *       PostgreSQL, encoded, signed, stored), against a straightforward Bouncy Castle {@code
 *       X509v2CRLBuilder} build of the same entries from memory, in the same run;
 *   <li><b>issue</b>: certificates issued per second through the REST API of a running node (P-256
 *       leaves; CA key in the software backend, then in SoftHSM2), each one checked, signed, stored
 *       and audited, against raw Bouncy Castle issuance in one process (parse the CSR, verify it,
 *       build and sign the certificate; no HTTP, no storage, no audit);
 *   <li><b>ocsp</b>: OCSP responses per second from the cache at 64 connections ({@code wrk}), GET
 *       requests cycling over {@code bench.ocsp.serials} (2,000) distinct certificates, against the
 *       same node answering requests with a nonce (signed per request, POST), each side warmed up
 *       the same way until its rate stops improving; a static CA certificate through Spring MVC on
 *       the same node is printed for scale (the HTTP ceiling).
 * </ul>
 *
 * Environment: BENCH_PHASES (crl,issue,ocsp), BENCH_SECONDS (15), BENCH_WARMUP_SECONDS (60, the
 * least warm-up; it goes on while throughput still improves, up to BENCH_WARMUP_MAX_SECONDS, 420),
 * BENCH_NODE_JVM_OPTS (extra options for the node's JVM, e.g. a flight recording),
 * BENCH_CONCURRENCY (32 issuing clients), BENCH_CRL_ENTRIES (1000000), YINXIN_JAR
 * (ops/target/yinxin.jar), YINXIN_BENCH_MODULE / YINXIN_BENCH_TOKEN / YINXIN_BENCH_PIN (SoftHSM2,
 * set by ops/bench/run-ca).
 */
public final class CaBench {
  private static final int SECONDS =
      Integer.parseInt(System.getenv().getOrDefault("BENCH_SECONDS", "15"));
  private static final int CONCURRENCY =
      Integer.parseInt(System.getenv().getOrDefault("BENCH_CONCURRENCY", "32"));
  private static final int CRL_ENTRIES =
      Integer.parseInt(System.getenv().getOrDefault("BENCH_CRL_ENTRIES", "1000000"));
  static final String TOKEN = "bench-" + UUID.randomUUID();
  private static final int WARMUP_SECONDS =
      Integer.parseInt(System.getenv().getOrDefault("BENCH_WARMUP_SECONDS", "60"));
  static final int WARMUP_MAX_SECONDS =
      Integer.parseInt(System.getenv().getOrDefault("BENCH_WARMUP_MAX_SECONDS", "420"));

  private CaBench() {}

  public static void main(String[] args) throws Exception {
    List<String> rows =
        new ArrayList<>() {
          private static final long serialVersionUID = 1L;

          @Override
          public boolean add(String row) {
            System.out.println(row);
            return super.add(row);
          }
        };
    rows.add("| measurement | Yinxin | baseline | ratio | notes |");
    rows.add("|---|---|---|---|---|");
    String phases = System.getenv().getOrDefault("BENCH_PHASES", "crl,issue,ocsp");
    if (phases.contains("crl")) {
      crl(rows);
    }
    // Each measurement on a fresh node of its own: what the JIT compiled for one load (and the
    // OCSP answers an issuing burst leaves to pre-sign) would otherwise weigh on the next.
    if (phases.contains("ocsp")) {
      try (Node node = Node.start("soft")) {
        ocsp(rows, node);
      }
    }
    if (phases.contains("issue")) {
      double raw = rawIssuance();
      try (Node soft = Node.start("soft")) {
        issue(rows, soft, "soft", raw);
      }
      if (System.getenv("YINXIN_BENCH_MODULE") != null) {
        try (Node hsm = Node.start("pkcs11")) {
          issue(rows, hsm, "SoftHSM2", raw);
        }
      }
    }
    System.out.println();
    rows.forEach(System.out::println);
  }

  // ---- CRL

  static void crl(List<String> rows) throws Exception {
    String db = BenchDb.create();
    Path keysDir = Files.createTempDirectory("yinxin-bench-ca-keys");
    try (HikariDataSource ds = BenchDb.pool(db, 8);
        KeyServices keys = KeyServices.of(SoftKeyBackend.open(keysDir));
        Integrator integrator = new Integrator(LogStore.open(ds), 1000, 10_000)) {
      AuditLog audit = integrator::append;
      CaStore store = CaStore.open(ds);
      Hierarchy h =
          new Hierarchy(
              HierarchyConfig.defaults(),
              store,
              keys,
              KeyRef.Scheme.SOFT,
              new Urls("http://127.0.0.1:8080"),
              integrator);
      h.init();
      long t0 = System.nanoTime();
      List<RevokedEntry> batch = new ArrayList<>();
      Instant base = Instant.parse("2026-01-01T00:00:00Z");
      List<BigInteger> serials = new ArrayList<>(CRL_ENTRIES);
      for (int i = 0; i < CRL_ENTRIES; i++) {
        BigInteger serial = CertificateFactory.newSerial();
        serials.add(serial);
        batch.add(new RevokedEntry(serial.toString(16), base.plusSeconds(i), i % 7 == 0 ? 0 : 1));
        if (batch.size() == 20_000) {
          List<RevokedEntry> b = batch;
          store.inTransaction(
              c -> {
                store.crls().insertRevokedBulk(c, "citizen", 0, b);
                return null;
              });
          batch = new ArrayList<>();
        }
      }
      if (!batch.isEmpty()) {
        List<RevokedEntry> b = batch;
        store.inTransaction(
            c -> {
              store.crls().insertRevokedBulk(c, "citizen", 0, b);
              return null;
            });
      }
      System.out.printf(
          Locale.ROOT, "loaded %,d revoked entries in %.1f s%n", CRL_ENTRIES, secs(t0));
      CrlService crls =
          new CrlService(
              h,
              store,
              keys,
              integrator,
              Duration.ofDays(1),
              Duration.ofHours(1),
              Duration.ofDays(30));
      crls.publishFull("citizen", 0); // warm-up (JIT, buffers)
      long t1 = System.nanoTime();
      CrlRecord r = crls.publishFull("citizen", 0);
      double yinxin = secs(t1);

      KeyPair caKey = ecKey();
      X500Name issuer = h.issuer("citizen").subject();
      Date when = Date.from(base);
      bcCrl(issuer, serials, when, caKey); // warm-up
      long t2 = System.nanoTime();
      byte[] bc = bcCrl(issuer, serials, when, caKey);
      double baseline = secs(t2);
      rows.add(
          String.format(
              Locale.ROOT,
              "| full CRL, %,d entries: seconds (lower is better) | %.2f s (%.1f MB) | %.2f s"
                  + " (%.1f MB) | %s | Yinxin: read from PostgreSQL, encode, sign (soft"
                  + " P-256), store; baseline: Bouncy Castle X509v2CRLBuilder from memory |",
              r.entries(),
              yinxin,
              r.der().length / 1e6,
              baseline,
              bc.length / 1e6,
              baseline >= yinxin
                  ? String.format(Locale.ROOT, "%.2f× faster", baseline / yinxin)
                  : String.format(Locale.ROOT, "%.2f× slower", yinxin / baseline)));
    }
  }

  static byte[] bcCrl(X500Name issuer, List<BigInteger> serials, Date base, KeyPair key)
      throws Exception {
    X509v2CRLBuilder b = new X509v2CRLBuilder(issuer, base);
    b.setNextUpdate(new Date(base.getTime() + 86_400_000L));
    long t = base.getTime();
    int i = 0;
    for (BigInteger s : serials) {
      b.addCRLEntry(
          s, new Date(t + 1000L * i), i % 7 == 0 ? CRLReason.unspecified : CRLReason.keyCompromise);
      i++;
    }
    return b.build(signer(key)).getEncoded();
  }

  // ---- issuance

  /** Raw Bouncy Castle issuance per second on all cores: the ceiling without HTTP, DB, audit. */
  static double rawIssuance() throws Exception {
    KeyPair ca = ecKey();
    List<byte[]> csrs = csrs(200);
    int threads = Runtime.getRuntime().availableProcessors();
    AtomicLong done = new AtomicLong();
    AtomicBoolean stop = new AtomicBoolean();
    List<Thread> ts = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int id = t;
      Thread th =
          new Thread(
              () -> {
                int i = id;
                try {
                  while (!stop.get()) {
                    PKCS10CertificationRequest req =
                        new PKCS10CertificationRequest(csrs.get(i++ % csrs.size()));
                    if (!req.isSignatureValid(
                        new JcaContentVerifierProviderBuilder()
                            .setProvider(BouncyCastle.PROVIDER)
                            .build(req.getSubjectPublicKeyInfo()))) {
                      throw new IllegalStateException("bad csr");
                    }
                    Date now = new Date();
                    X509v3CertificateBuilder b =
                        new X509v3CertificateBuilder(
                            new X500Name("CN=Bench CA"),
                            CertificateFactory.newSerial(),
                            now,
                            new Date(now.getTime() + 86_400_000L),
                            new X500Name("CN=leaf"),
                            req.getSubjectPublicKeyInfo());
                    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
                    b.addExtension(
                        Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
                    b.addExtension(
                        Extension.subjectKeyIdentifier,
                        false,
                        new BcX509ExtensionUtils()
                            .createSubjectKeyIdentifier(req.getSubjectPublicKeyInfo()));
                    b.build(signer(ca)).getEncoded();
                    done.incrementAndGet();
                  }
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              });
      ts.add(th);
      th.start();
    }
    Thread.sleep(3000);
    long start = done.get();
    long t0 = System.nanoTime();
    Thread.sleep(SECONDS * 1000L);
    double rate = (done.get() - start) / secs(t0);
    stop.set(true);
    for (Thread th : ts) {
      th.join();
    }
    return rate;
  }

  static void issue(List<String> rows, Node node, String backend, double raw) throws Exception {
    // wrk drives the load (a Java client would take a good share of the two cores itself),
    // rotating through 500 requests with distinct keys.
    Path lua = issueScript();
    String url = node.base + "/ca/v1/certificates";
    warmUp(
        "issuance (" + backend + ")",
        secs -> number(wrkRun(url, secs, lua, CONCURRENCY), "Requests/sec:\\s+([0-9.]+)"));
    String out = wrkRun(url, SECONDS, lua, CONCURRENCY);
    double rate = number(out, "Requests/sec:\\s+([0-9.]+)");
    Matcher errors = Pattern.compile("Non-2xx or 3xx responses: ([0-9]+)").matcher(out);
    rows.add(
        String.format(
            Locale.ROOT,
            "| certificates issued/s via REST, CA key %s, %d connections | %,.0f (p50 %s, p99 %s;"
                + " %s errors) | %,.0f | %.2f | baseline: raw Bouncy Castle parse+verify+sign on"
                + " all cores, no HTTP/DB/audit |",
            backend,
            CONCURRENCY,
            rate,
            latency(out, "50%"),
            latency(out, "99%"),
            errors.find() ? errors.group(1) : "0",
            raw,
            rate / raw));
  }

  /** A wrk script that posts issuance requests, rotating through 500 with distinct keys. */
  static Path issueScript() throws Exception {
    Path bodies = Files.createTempFile("issue-bodies", ".txt");
    StringBuilder all = new StringBuilder();
    for (byte[] csr : csrs(500)) {
      String pem =
          "-----BEGIN CERTIFICATE REQUEST-----\\n"
              + Base64.getEncoder().encodeToString(csr)
              + "\\n-----END CERTIFICATE REQUEST-----\\n";
      all.append(
              "{\"profile\":\"citizen-sign\",\"csr\":\""
                  + pem
                  + "\",\"subject\":{\"name\":\"张三\",\"idNumber\":\"11010519491231002X\"}}")
          .append('\n');
    }
    Files.writeString(bodies, all.toString(), StandardCharsets.UTF_8);
    Path lua = Files.createTempFile("issue", ".lua");
    Files.writeString(
        lua,
        "local bodies = {}\n"
            + "for line in io.lines(\""
            + bodies
            + "\") do bodies[#bodies + 1] = line end\n"
            + "local i = 0\n"
            + "request = function()\n"
            + "  i = i + 1\n"
            + "  return wrk.format(\"POST\", nil, {[\"Content-Type\"] = \"application/json\","
            + " [\"Authorization\"] = \"Bearer "
            + TOKEN
            + "\"}, bodies[(i % #bodies) + 1])\n"
            + "end\n",
        StandardCharsets.UTF_8);
    return lua;
  }

  /** One load round of the given length, returning its rate. */
  interface Round {
    double run(int seconds) throws Exception;
  }

  /**
   * On two cores the JIT needs minutes under load before the node reaches its steady state (the C2
   * compiler shares the cores with the load). Runs 20 s rounds for at least BENCH_WARMUP_SECONDS,
   * then until three rounds in a row no longer beat the best so far by 3 %, or
   * BENCH_WARMUP_MAX_SECONDS.
   */
  static void warmUp(String what, Round round) throws Exception {
    long start = System.nanoTime();
    double best = 0;
    int flat = 0;
    while (true) {
      double rate = round.run(20);
      double elapsed = secs(start);
      System.out.printf(Locale.ROOT, "warm-up %s: %.0f/s after %.0f s%n", what, rate, elapsed);
      if (rate > best * 1.03) {
        best = rate;
        flat = 0;
      } else {
        flat++;
      }
      if (elapsed >= WARMUP_MAX_SECONDS || (elapsed >= WARMUP_SECONDS && flat >= 3)) {
        return;
      }
    }
  }

  static String wrkRun(String url, int seconds, Path script, int connections) throws Exception {
    return wrkRun(url, seconds, script, connections, List.of("--latency"));
  }

  /** wrk's output; {@code options} go before the script (e.g. {@code --timeout 30s}). */
  static String wrkRun(String url, int seconds, Path script, int connections, List<String> options)
      throws Exception {
    List<String> cmd =
        new ArrayList<>(List.of("wrk", "-t2", "-c" + connections, "-d" + seconds + "s"));
    cmd.addAll(options);
    cmd.add("-s");
    cmd.add(script.toString());
    cmd.add(url);
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IllegalStateException("wrk exited with " + p.exitValue() + ": " + out);
    }
    return out;
  }

  static double number(String out, String regex) {
    Matcher m = Pattern.compile(regex).matcher(out);
    if (!m.find()) {
      throw new IllegalStateException("wrk: " + out);
    }
    return Double.parseDouble(m.group(1));
  }

  static String latency(String out, String pct) {
    Matcher m = Pattern.compile("\\s" + pct + "\\s+([0-9.]+[a-z]+)").matcher(out);
    return m.find() ? m.group(1) : "?";
  }

  // ---- OCSP

  /** Distinct certificates the OCSP phase asks about: a real responder sees many serials. */
  static final int OCSP_SERIALS = Integer.getInteger("bench.ocsp.serials", 2000);

  static void ocsp(List<String> rows, Node node) throws Exception {
    // Issue many certificates, then ask for their status without a nonce (the cached path),
    // cycling through all of them, so the cache is measured, not one hot entry.
    HttpClient http = HttpClient.newHttpClient();
    byte[] caDer =
        http.send(
                HttpRequest.newBuilder(URI.create(node.base + "/ca/v1/cas/citizen/certificate"))
                    .build(),
                HttpResponse.BodyHandlers.ofByteArray())
            .body();
    X509CertificateHolder ca = new X509CertificateHolder(caDer);
    List<String> paths = new ArrayList<>();
    CertificateID first = null;
    for (byte[] csr : csrs(OCSP_SERIALS)) {
      String pem =
          "-----BEGIN CERTIFICATE REQUEST-----\\n"
              + Base64.getEncoder().encodeToString(csr)
              + "\\n-----END CERTIFICATE REQUEST-----\\n";
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create(node.base + "/ca/v1/certificates"))
                  .header("Authorization", "Bearer " + TOKEN)
                  .header("Content-Type", "application/json")
                  .POST(
                      HttpRequest.BodyPublishers.ofString(
                          "{\"profile\":\"citizen-sign\",\"csr\":\""
                              + pem
                              + "\",\"subject\":{\"name\":\"x\",\"idNumber\":\"11010519491231002X\"}}"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      Matcher m = Pattern.compile("\"serial\":\"([0-9a-f]+)\"").matcher(r.body());
      if (!m.find()) {
        throw new IllegalStateException("issue failed: " + r.body());
      }
      CertificateID id =
          new CertificateID(
              new BcDigestCalculatorProvider().get(CertificateID.HASH_SHA1),
              ca,
              new BigInteger(m.group(1), 16));
      if (first == null) {
        first = id;
      }
      byte[] req = new OCSPReqBuilder().addRequest(id).build().getEncoded();
      paths.add(
          "/ca/ocsp/"
              + Base64.getEncoder()
                  .encodeToString(req)
                  .replace("+", "%2B")
                  .replace("/", "%2F")
                  .replace("=", "%3D"));
    }
    Path getLua = Files.createTempFile("ocsp-get", ".lua");
    StringBuilder lua = new StringBuilder("paths = {\n");
    for (String p : paths) {
      lua.append("  \"").append(p).append("\",\n");
    }
    lua.append(
        "}\ni = 0\nrequest = function()\n  i = i + 1\n"
            + "  return wrk.format(\"GET\", paths[(i % #paths) + 1])\nend\n");
    Files.writeString(getLua, lua);
    // The baseline: the same kind of question with a nonce (RFC 8954), signed per request.
    OCSPReqBuilder withNonce = new OCSPReqBuilder().addRequest(first);
    withNonce.setRequestExtensions(
        new org.bouncycastle.asn1.x509.Extensions(
            new Extension(
                org.bouncycastle.asn1.ocsp.OCSPObjectIdentifiers.id_pkix_ocsp_nonce,
                false,
                new org.bouncycastle.asn1.DEROctetString(new byte[16]).getEncoded())));
    Path body = Files.createTempFile("ocsp-nonce", ".der");
    Files.write(body, withNonce.build().getEncoded());
    Path postLua = Files.createTempFile("ocsp-post", ".lua");
    Files.writeString(
        postLua,
        "wrk.method = \"POST\"\n"
            + "local f = io.open(\""
            + body
            + "\", \"rb\")\nwrk.body = f:read(\"*all\")\nf:close()\n"
            + "wrk.headers[\"Content-Type\"] = \"application/ocsp-request\"\n");
    String staticUrl = node.base + "/ca/v1/cas/citizen/certificate";
    // Both sides get the same warm-up, each until its rate stops improving, and each is
    // measured right after its own warm-up (the other path would send it back through the JIT).
    warmUp("OCSP nonce baseline", secs -> wrk(node.base + "/ca/ocsp", secs, postLua));
    double signed = wrk(node.base + "/ca/ocsp", SECONDS, postLua);
    warmUp("OCSP cached", secs -> wrk(node.base + "/ca/ocsp", secs, getLua));
    double ocsp = wrk(node.base + "/ca/ocsp", SECONDS, getLua);
    double ceiling = wrk(staticUrl, SECONDS, null);
    rows.add(
        String.format(
            Locale.ROOT,
            "| OCSP responses/s from the cache (GET over %,d distinct certificates), 64"
                + " connections | %,.0f | %,.0f | %.1f× |"
                + " baseline: a request with a nonce, signed per request (POST), warmed up the"
                + " same way; for scale, a static CA certificate through Spring MVC on the same"
                + " node: %,.0f/s; wrk -t2 -c64 shares the 2 cores |",
            paths.size(),
            ocsp,
            signed,
            ocsp / signed,
            ceiling));
  }

  static double wrk(String url, int seconds, Path script) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("wrk", "-t2", "-c64", "-d" + seconds + "s"));
    if (script != null) {
      cmd.add("-s");
      cmd.add(script.toString());
    }
    cmd.add(url);
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor();
    Matcher m = Pattern.compile("Requests/sec:\\s+([0-9.]+)").matcher(out);
    if (!m.find() || out.contains("Non-2xx")) {
      throw new IllegalStateException("wrk: " + out);
    }
    return Double.parseDouble(m.group(1));
  }

  // ---- a node in its own process

  static final class Node implements AutoCloseable {
    final Process process;
    final String base;
    final String db;

    private Node(Process process, String base, String db) {
      this.process = process;
      this.base = base;
      this.db = db;
    }

    static Node start(String backend) throws Exception {
      return start(backend, BenchDb.create(), Files.createTempDirectory("yinxin-bench-node"));
    }

    /**
     * A node on database {@code db} with data directory {@code data}: nodes given the same two are
     * several nodes of one installation (one database, one key store).
     */
    static Node start(String backend, String db, Path data, String... settings) throws Exception {
      int port = freePort();
      String jar = System.getenv().getOrDefault("YINXIN_JAR", "ops/target/yinxin.jar");
      List<String> cmd = new ArrayList<>();
      cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      cmd.add("-Xmx2g");
      // e.g. -XX:StartFlightRecording=... to profile the node under load
      String extra = System.getenv().getOrDefault("BENCH_NODE_JVM_OPTS", "").strip();
      if (!extra.isEmpty()) {
        cmd.addAll(List.of(extra.split("\\s+")));
      }
      cmd.add("-jar");
      cmd.add(jar);
      cmd.add("--server.port=" + port);
      cmd.add("--yinxin.data-dir=" + data);
      cmd.add("--spring.datasource.url=" + BenchDb.url(db));
      cmd.add("--spring.datasource.username=" + BenchDb.USER);
      cmd.add("--spring.datasource.hikari.maximum-pool-size=16");
      cmd.add("--yinxin.ca.operators[0].name=bench");
      cmd.add(
          "--yinxin.ca.operators[0].token-sha256="
              + HexFormat.of()
                  .formatHex(
                      MessageDigest.getInstance("SHA-256")
                          .digest(TOKEN.getBytes(StandardCharsets.UTF_8))));
      cmd.add("--yinxin.ca.operators[0].scopes=ca:issue,ca:read,ca:revoke,ca:crl,ca:emergency");
      // The benchmarks measure signing, not the limit on answers signed per client address.
      cmd.add("--yinxin.ca.ocsp-limits.per-address-per-second=1000000");
      cmd.add("--yinxin.ca.ocsp-limits.per-address-burst=1000000");
      cmd.add("--yinxin.ca.ocsp-limits.per-second=1000000");
      cmd.addAll(List.of(settings));
      if (backend.equals("pkcs11")) {
        cmd.add("--yinxin.keys.pkcs11.library=" + System.getenv("YINXIN_BENCH_MODULE"));
        cmd.add("--yinxin.keys.pkcs11.token=" + System.getenv("YINXIN_BENCH_TOKEN"));
        cmd.add("--yinxin.keys.pkcs11.pin-env=YINXIN_BENCH_PIN");
        cmd.add("--yinxin.ca.key-backend=pkcs11");
      }
      Process p =
          new ProcessBuilder(cmd)
              .redirectErrorStream(true)
              .redirectOutput(data.resolve("node-" + port + ".log").toFile())
              .start();
      String base = "http://127.0.0.1:" + port;
      HttpClient http = HttpClient.newHttpClient();
      long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
      while (true) {
        try {
          HttpResponse<String> r =
              http.send(
                  HttpRequest.newBuilder(URI.create(base + "/actuator/health")).build(),
                  HttpResponse.BodyHandlers.ofString());
          if (r.statusCode() == 200) {
            break;
          }
        } catch (java.io.IOException e) {
          // not up yet
        }
        if (!p.isAlive() || System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "node did not start; see " + data.resolve("node-" + port + ".log"));
        }
        Thread.sleep(500);
      }
      System.out.println(
          "node ("
              + backend
              + ") up at "
              + base
              + ", log "
              + data.resolve("node-" + port + ".log"));
      return new Node(p, base, db);
    }

    @Override
    public void close() throws Exception {
      process.destroy();
      process.waitFor();
    }
  }

  // ---- helpers

  static List<byte[]> csrs(int n) throws Exception {
    List<byte[]> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      KeyPair kp = ecKey();
      out.add(
          new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=bench"), kp.getPublic())
              .build(signer(kp))
              .getEncoded());
    }
    return out;
  }

  static KeyPair ecKey() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC", BouncyCastle.PROVIDER);
    g.initialize(new ECGenParameterSpec("secp256r1"));
    return g.generateKeyPair();
  }

  static ContentSigner signer(KeyPair kp) throws Exception {
    return new JcaContentSignerBuilder("SHA256withECDSA")
        .setProvider(BouncyCastle.PROVIDER)
        .build(kp.getPrivate());
  }

  static double pct(long[] sorted, double p) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    return sorted[Math.min(sorted.length - 1, (int) (sorted.length * p))] / 1e6;
  }

  static double secs(long t0) {
    return (System.nanoTime() - t0) / 1e9;
  }

  static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
