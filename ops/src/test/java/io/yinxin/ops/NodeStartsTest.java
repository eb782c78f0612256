package io.yinxin.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.hsm.testing.FreePorts;
import io.yinxin.hsm.testing.LoopbackClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** The embedded default starts, reports its key backend UP and writes dev.json. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.DEFINED_PORT)
class NodeStartsTest {
  private static final Path DATA = tempDir();

  private static Path tempDir() {
    try {
      return Files.createTempDirectory("yinxin-ops-");
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /**
   * A fixed free port rather than port 0: the CA writes its URL into every certificate (OCSP, CRL,
   * issuer), and pdfsig checks the seal certificate's status over OCSP at that URL.
   */
  private static final int PORT = FreePorts.next();

  @DynamicPropertySource
  static void dataDir(DynamicPropertyRegistry r) {
    r.add("yinxin.data-dir", DATA::toString);
    r.add("server.port", () -> Integer.toString(PORT));
    // The TSA's tally of tokens is recorded every half second, not every minute, so that the idle
    // node test sees it within seconds.
    r.add("yinxin.sign.tsa.key-use-interval", () -> "500ms");
    // A burst that the idle-node test's 200 time stamps from 127.0.0.1 fit in; five a second leave
    // room for the node's own checkpoint time stamps from there.
    r.add("yinxin.sign.tsa.limits.per-address-per-second", () -> "5");
    r.add("yinxin.sign.tsa.limits.per-address-burst", () -> "300");
    // Four validations at once, two of them from one address (the default share: half), on any
    // number of processors.
    r.add("yinxin.sign.concurrent-validations", () -> "4");
    // Four seals at once, two of them for one caller (the default share: half).
    r.add("yinxin.sign.concurrent-seals", () -> "4");
  }

  @LocalServerPort int port;

  @org.springframework.beans.factory.annotation.Autowired
  @org.springframework.beans.factory.annotation.Qualifier("signValidationGate")
  io.yinxin.sign.http.DocumentGate validationGate;

  @org.springframework.beans.factory.annotation.Autowired
  @org.springframework.beans.factory.annotation.Qualifier("signSealGate")
  io.yinxin.sign.http.DocumentGate sealGate;

  @Test
  void healthIsUpWithTheKeysComponentAndDevJsonIsWritten() throws Exception {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/actuator/health"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("\"status\":\"UP\"").contains("\"keys\"").contains("\"soft\"");

    Path devJson = DATA.resolve("dev.json");
    assertThat(Files.readString(devJson)).contains("\"baseUrl\" : \"http://127.0.0.1:" + port);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(devJson)))
        .isEqualTo("rw-------");
    assertThat(Files.exists(DATA.resolve("keys").resolve("keystore.password"))).isTrue();
    // The H2 files hold full ID numbers: their folder is owner-only.
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(DATA.resolve("db"))))
        .isEqualTo("rwx------");
    assertThat(Files.readString(devJson))
        .contains("\"auditLogUrl\" : \"http://127.0.0.1:" + port + "/audit\"")
        .contains("\"auditVerifierKey\" : \"yinxin.localhost/audit+")
        .contains("\"auditorToken\"");
  }

  @Test
  void theDemoOidcClientFromDevJsonGetsAnAccessTokenFromTheEmbeddedIssuer() throws Exception {
    String dev = Files.readString(DATA.resolve("dev.json"));
    String issuer = field(dev, "oidcIssuer");
    assertThat(field(dev, "username")).isEqualTo("demo");
    assertThat(issuer).isEqualTo("http://127.0.0.1:" + port);
    HttpClient http = HttpClient.newHttpClient();
    HttpResponse<String> discovery =
        http.send(
            HttpRequest.newBuilder(URI.create(issuer + "/.well-known/openid-configuration"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(discovery.statusCode()).isEqualTo(200);
    assertThat(discovery.body()).contains("\"issuer\":\"" + issuer + "\"");
    HttpResponse<String> token =
        NodeProcesses.clientCredentials(issuer, "yinxin-demo", field(dev, "secret"));
    assertThat(token.statusCode()).as(token.body()).isEqualTo(200);
    assertThat(token.body()).contains("\"access_token\"");
  }

  /**
   * Issue 13 §4 end to end: an operator client registered through the SSO admin API gets a
   * client-credentials token from the embedded issuer, and the CA and audit APIs of the same node
   * take it as resource servers (through the issuer's published metadata only).
   */
  @Test
  void anOperatorClientRegisteredAtTheSsoCallsTheCaAndAuditApisWithItsAccessToken()
      throws Exception {
    String dev = Files.readString(DATA.resolve("dev.json"));
    String base = "http://127.0.0.1:" + port;
    HttpClient http = HttpClient.newHttpClient();
    HttpResponse<String> registered =
        http.send(
            HttpRequest.newBuilder(URI.create(field(dev, "ssoClientsUrl")))
                .header("Authorization", "Bearer " + field(dev, "ssoAdminToken"))
                .header("Content-Type", "application/json")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"client_id\": \"ra-console\", \"client_name\": \"RA console\","
                            + " \"grant_types\": [\"client_credentials\"], \"scope\":"
                            + " \"ca:read audit:read\"}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(registered.statusCode()).as(registered.body()).isEqualTo(201);
    String secret = field(registered.body(), "client_secret");
    String basic =
        java.util.Base64.getEncoder()
            .encodeToString(
                ("ra-console:" + secret).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    HttpResponse<String> token =
        http.send(
            HttpRequest.newBuilder(URI.create(base + "/oauth2/token"))
                .header("Authorization", "Basic " + basic)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "grant_type=client_credentials&scope=ca:read%20audit:read"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(token.statusCode()).as(token.body()).isEqualTo(200);
    String accessToken = field(token.body(), "access_token");
    HttpResponse<String> certs =
        http.send(
            HttpRequest.newBuilder(URI.create(base + "/ca/v1/certificates?profile=citizen-sign"))
                .header("Authorization", "Bearer " + accessToken)
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(certs.statusCode()).as(certs.body()).isEqualTo(200);
    HttpResponse<String> check =
        http.send(
            HttpRequest.newBuilder(URI.create(base + "/audit/v1/check"))
                .header("Authorization", "Bearer " + accessToken)
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(check.statusCode()).as(check.body()).isEqualTo(200);
    // It was not given ca:issue, so issuing is forbidden, not merely unauthenticated.
    HttpResponse<String> issue =
        http.send(
            HttpRequest.newBuilder(URI.create(base + "/ca/v1/certificates"))
                .header("Authorization", "Bearer " + accessToken)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(issue.statusCode()).as(issue.body()).isEqualTo(403);
  }

  @Test
  void everyResponseCarriesTheSecurityHeaders() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    for (String path : new String[] {"/login", "/ca/v1/cas/root/certificate", "/no-such-page"}) {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
              HttpResponse.BodyHandlers.ofString());
      var h = r.headers();
      assertThat(h.allValues("X-Content-Type-Options")).as(path).containsExactly("nosniff");
      assertThat(h.allValues("Referrer-Policy")).as(path).containsExactly("no-referrer");
      assertThat(h.allValues("X-Frame-Options")).as(path).containsExactly("DENY");
      assertThat(h.firstValue("Content-Security-Policy"))
          .as(path)
          .hasValue("frame-ancestors 'none'");
      // Plain HTTP: no HSTS (RFC 6797 §7.2).
      assertThat(h.firstValue("Strict-Transport-Security")).as(path).isEmpty();
    }
  }

  @Test
  void theEmbeddedDefaultCreatesTheCaHierarchyAndServesItsRootCertificate() throws Exception {
    String dev = Files.readString(DATA.resolve("dev.json"));
    String rootUrl = field(dev, "rootCaCertificateUrl");
    assertThat(rootUrl).isEqualTo("http://127.0.0.1:" + port + "/ca/v1/cas/root/certificate");
    assertThat(field(dev, "caOperatorToken")).startsWith("yx_");
    assertThat(field(dev, "acmeDirectoryUrl"))
        .isEqualTo("http://127.0.0.1:" + port + "/acme/directory");
    HttpResponse<byte[]> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(rootUrl)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type")).hasValue("application/pkix-cert");
    java.security.cert.X509Certificate root =
        (java.security.cert.X509Certificate)
            java.security.cert.CertificateFactory.getInstance("X.509")
                .generateCertificate(new java.io.ByteArrayInputStream(r.body()));
    root.verify(root.getPublicKey());
    assertThat(root.getBasicConstraints()).isEqualTo(1);
  }

  /**
   * The embedded TSA signs with the CA hierarchy's TSA certificate; openssl verifies the reply to
   * its own query against the root served by the CA, and refuses it for other data.
   */
  @Test
  void theEmbeddedTsaAnswersOpensslAndItsTokenVerifiesAgainstTheRootCa() throws Exception {
    String dev = Files.readString(DATA.resolve("dev.json"));
    String tsaUrl = field(dev, "tsaUrl");
    assertThat(tsaUrl).isEqualTo("http://127.0.0.1:" + port + "/tsa");
    Path dir = Files.createTempDirectory(DATA, "tsa-");
    Files.writeString(dir.resolve("doc.txt"), "licence 2026-0042");
    Files.writeString(dir.resolve("other.txt"), "licence 2026-0043");
    assertThat(
            openssl(dir, "ts", "-query", "-data", "doc.txt", "-sha256", "-cert", "-out", "q.tsq")[
                0])
        .isEqualTo("0");
    HttpResponse<byte[]> reply =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(tsaUrl))
                    .header("Content-Type", "application/timestamp-query")
                    .POST(HttpRequest.BodyPublishers.ofFile(dir.resolve("q.tsq")))
                    .build(),
                HttpResponse.BodyHandlers.ofByteArray());
    assertThat(reply.statusCode()).isEqualTo(200);
    assertThat(reply.headers().firstValue("Content-Type")).hasValue("application/timestamp-reply");
    Files.write(dir.resolve("r.tsr"), reply.body());
    writeRootPem(dev, dir.resolve("root.pem"));

    String[] ok =
        openssl(dir, "ts", "-verify", "-queryfile", "q.tsq", "-in", "r.tsr", "-CAfile", "root.pem");
    assertThat(ok[1]).contains("Verification: OK");
    String[] other =
        openssl(dir, "ts", "-verify", "-data", "other.txt", "-in", "r.tsr", "-CAfile", "root.pem");
    assertThat(other[1]).doesNotContain("Verification: OK");
    assertThat(openssl(dir, "ts", "-reply", "-in", "r.tsr", "-text")[1])
        .contains("Status: Granted")
        .contains("Yinxin Time-Stamping Authority");

    // Over the limit: refused before it is read further. Not a time-stamp query: 415.
    HttpResponse<String> big =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(tsaUrl))
                    .header("Content-Type", "application/timestamp-query")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[1 << 20]))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(big.statusCode()).isEqualTo(413);
    assertThat(big.body()).contains("\"code\":\"TOO_LARGE\"");
    HttpResponse<String> json =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(tsaUrl))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{}"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(json.statusCode()).isEqualTo(415);
    assertThat(json.body()).contains("\"code\":\"UNSUPPORTED_MEDIA_TYPE\"");
    // A content type in another case, with a parameter, is still a time-stamp query.
    HttpResponse<byte[]> cased =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(tsaUrl))
                    .header("Content-Type", "Application/TimeStamp-Query; charset=binary")
                    .POST(HttpRequest.BodyPublishers.ofFile(dir.resolve("q.tsq")))
                    .build(),
                HttpResponse.BodyHandlers.ofByteArray());
    assertThat(cased.statusCode()).isEqualTo(200);
    assertThat(cased.headers().firstValue("Content-Type")).hasValue("application/timestamp-reply");
    HttpResponse<String> get =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(tsaUrl)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(get.statusCode()).isEqualTo(405);
  }

  /**
   * Every time-stamp token is a signature anyone may ask for: one address gets its burst (here 300,
   * then five a second), then 429 with Retry-After; another address is still stamped, and openssl
   * verifies its token.
   */
  @Test
  void aFloodOfTimeStampRequestsFromOneAddressGets429AndAnotherAddressIsStillStamped()
      throws Exception {
    String dev = Files.readString(DATA.resolve("dev.json"));
    Path dir = Files.createTempDirectory(DATA, "tsa-flood-");
    Files.writeString(dir.resolve("doc.txt"), "licence 2026-0044");
    assertThat(
            openssl(dir, "ts", "-query", "-data", "doc.txt", "-sha256", "-cert", "-out", "q.tsq")[
                0])
        .isEqualTo("0");
    byte[] query = Files.readAllBytes(dir.resolve("q.tsq"));
    int stamped = 0;
    LoopbackClient.Answer refused = null;
    long start = System.nanoTime();
    for (int i = 0; i < 1000 && refused == null; i++) {
      LoopbackClient.Answer a =
          LoopbackClient.post("127.0.0.2", port, "/tsa", "application/timestamp-query", query);
      if (a.status() == 200) {
        stamped++;
      } else {
        refused = a;
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    assertThat(refused).as("refused after %d tokens in %.1f s", stamped, seconds).isNotNull();
    assertThat(stamped).isBetween(300, 300 + (int) Math.ceil(5 * seconds) + 1);
    assertThat(refused.status()).isEqualTo(429);
    assertThat(refused.header("Retry-After")).hasValue("1");
    assertThat(new String(refused.body(), java.nio.charset.StandardCharsets.UTF_8))
        .contains("\"code\":\"RATE_LIMITED\"");

    HttpResponse<byte[]> other =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(field(dev, "tsaUrl")))
                    .header("Content-Type", "application/timestamp-query")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(query))
                    .build(),
                HttpResponse.BodyHandlers.ofByteArray());
    assertThat(other.statusCode()).isEqualTo(200);
    Files.write(dir.resolve("r.tsr"), other.body());
    writeRootPem(dev, dir.resolve("root.pem"));
    assertThat(
            openssl(
                dir, "ts", "-verify", "-queryfile", "q.tsq", "-in", "r.tsr", "-CAfile", "root.pem")[
                1])
        .contains("Verification: OK");
  }

  /**
   * Validation needs no account, and a document can take long to validate: one address may have
   * only its share of the validations in work (here two of four). With two held for 127.0.0.2 (as
   * two slow documents would), a third from there is answered 429 with Retry-After at once, while
   * 127.0.0.1 is still validated; once one of them is done, 127.0.0.2 is validated again.
   */
  @Test
  void anAddressWithItsShareOfValidationsInWorkGets429AndAnotherAddressIsStillValidated()
      throws Exception {
    Path dir = Files.createTempDirectory(DATA, "validate-share-");
    Path pdf = plainPdf(dir.resolve("plain.pdf"));
    byte[] body = Files.readAllBytes(pdf);
    io.yinxin.sign.http.DocumentGate.Permit first = validationGate.enter("127.0.0.2");
    io.yinxin.sign.http.DocumentGate.Permit second = validationGate.enter("127.0.0.2");
    try {
      LoopbackClient.Answer third =
          LoopbackClient.post("127.0.0.2", port, "/sign/v1/validate", "application/pdf", body);
      assertThat(third.status()).isEqualTo(429);
      assertThat(third.header("Retry-After")).hasValue("1");
      assertThat(new String(third.body(), java.nio.charset.StandardCharsets.UTF_8))
          .contains("\"code\":\"RATE_LIMITED\"");

      LoopbackClient.Answer other =
          LoopbackClient.post("127.0.0.1", port, "/sign/v1/validate", "application/pdf", body);
      assertThat(other.status())
          .as(new String(other.body(), java.nio.charset.StandardCharsets.UTF_8))
          .isEqualTo(200);
      assertThat(new String(other.body(), java.nio.charset.StandardCharsets.UTF_8))
          .contains("\"signatures\":[]");

      first.close();
      LoopbackClient.Answer again =
          LoopbackClient.post("127.0.0.2", port, "/sign/v1/validate", "application/pdf", body);
      assertThat(again.status()).isEqualTo(200);
    } finally {
      first.close();
      second.close();
    }
    assertThat(validationGate.available()).isEqualTo(4);
    assertThat(validationGate.addressesInWork()).isZero();
  }

  /**
   * The seal API holds each caller to its share of the seal turns (here two of four): with two held
   * for another caller, the development caller still seals; with two held for the development
   * caller (as a bulk job of its own would), its next seal is answered 429 with Retry-After at
   * once, though a seal waits up to 30 s for a turn.
   */
  @Test
  void aCallerWithItsShareOfSealsInWorkGets429AndAnotherCallerStillSeals() throws Exception {
    String dev = Files.readString(DATA.resolve("dev.json"));
    byte[] pdf =
        Files.readAllBytes(
            plainPdf(Files.createTempDirectory(DATA, "seal-share-").resolve("in.pdf")));
    try (var other1 = sealGate.enterAsCaller("another-agency");
        var other2 = sealGate.enterAsCaller("another-agency")) {
      HttpResponse<byte[]> sealed = sealApi(dev, "/sign?level=B-B", "application/pdf", pdf);
      assertThat(sealed.statusCode()).as(new String(sealed.body())).isEqualTo(200);
    }
    try (var mine1 = sealGate.enterAsCaller("dev-sealer");
        var mine2 = sealGate.enterAsCaller("dev-sealer")) {
      long start = System.nanoTime();
      HttpResponse<byte[]> refused = sealApi(dev, "/sign?level=B-B", "application/pdf", pdf);
      assertThat(System.nanoTime() - start).isLessThan(java.time.Duration.ofSeconds(10).toNanos());
      assertThat(refused.statusCode()).as(new String(refused.body())).isEqualTo(429);
      assertThat(refused.headers().firstValue("Retry-After")).hasValue("1");
      assertThat(new String(refused.body(), java.nio.charset.StandardCharsets.UTF_8))
          .contains("\"code\":\"RATE_LIMITED\"")
          .contains("this caller already has 2");
    }
    assertThat(sealGate.available()).isEqualTo(4);
    assertThat(sealGate.addressesInWork()).isZero();
  }

  /**
   * The README's one curl: the demo seal seals a PDF; pdfsig finds the seal valid and, with the
   * embedded root CA trusted, the certificate trusted; the seal use is in the evidence log.
   */
  @Test
  void theDemoSealSealsAPdfThatPdfsigReportsValidAndTrusted() throws Exception {
    String dev = Files.readString(DATA.resolve("dev.json"));
    String api = field(dev, "sealApiUrl");
    String sealId = field(dev, "demoSealId");
    String token = field(dev, "sealToken");
    assertThat(api).isEqualTo("http://127.0.0.1:" + port + "/sign/v1");
    Path dir = Files.createTempDirectory(DATA, "seal-");
    Path in = plainPdf(dir.resolve("in.pdf"));
    HttpResponse<byte[]> sealed =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(api + "/seals/" + sealId + "/sign"))
                    .header("Authorization", "Bearer " + token)
                    .header("Content-Type", "application/pdf")
                    .POST(HttpRequest.BodyPublishers.ofFile(in))
                    .build(),
                HttpResponse.BodyHandlers.ofByteArray());
    assertThat(sealed.statusCode()).as(new String(sealed.body())).isEqualTo(200);
    assertThat(sealed.headers().firstValue("Content-Type")).hasValue("application/pdf");
    Path out = Files.write(dir.resolve("sealed.pdf"), sealed.body());

    writeRootPem(dev, dir.resolve("root.pem"));
    Path nss = dir.resolve("nss");
    Files.createDirectories(nss);
    assertThat(run(dir, "certutil", "-N", "-d", "sql:" + nss, "--empty-password")[0])
        .isEqualTo("0");
    assertThat(
            run(
                dir,
                "certutil",
                "-A",
                "-d",
                "sql:" + nss,
                "-n",
                "root",
                "-t",
                "CT,C,C",
                "-i",
                "root.pem")[0])
        .isEqualTo("0");
    String report = run(dir, "pdfsig", "-nssdir", "sql:" + nss, out.toString())[1];
    assertThat(report)
        .contains("Signature Validation: Signature is Valid.")
        .contains("Certificate Validation: Certificate is Trusted.")
        .contains("ETSI.CAdES.detached");

    // Without a token, with another seal id, with a body that is not a PDF: problem+json, 4xx.
    HttpResponse<String> anonymous = postPdf(api + "/seals/" + sealId + "/sign", null, in);
    assertThat(anonymous.statusCode()).isEqualTo(401);
    assertThat(postPdf(api + "/seals/seal-00000000000000000000/sign", token, in).statusCode())
        .isEqualTo(404);
    Path zip = Files.writeString(dir.resolve("zip.pdf"), "PK\u0003\u0004 not a pdf");
    HttpResponse<String> notPdf = postPdf(api + "/seals/" + sealId + "/sign", token, zip);
    assertThat(notPdf.statusCode()).isEqualTo(400);
    assertThat(notPdf.body()).contains("\"code\":\"NOT_PDF\"");

    // The seal use is evidence: an auditor finds it by type once a checkpoint covers it.
    String after = sha256Hex(sealed.body());
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(20))
        .until(
            () -> {
              HttpResponse<String> bundle =
                  HttpClient.newHttpClient()
                      .send(
                          HttpRequest.newBuilder(
                                  URI.create("http://127.0.0.1:" + port + "/audit/v1/bundles"))
                              .header("Authorization", "Bearer " + field(dev, "auditorToken"))
                              .header("Content-Type", "application/json")
                              .POST(
                                  HttpRequest.BodyPublishers.ofString(
                                      "{\"type\":\"DOCUMENT_SEALED\"}"))
                              .build(),
                          HttpResponse.BodyHandlers.ofString());
              return bundle.statusCode() == 200
                  && bundle.body().contains(sealId)
                  && bundle.body().contains(after);
            });
  }

  /** The embedded root CA certificate, as served by the CA, in PEM. */
  /** An unsigned one-page A4 PDF written by PDFBox. */
  private static Path plainPdf(Path file) throws java.io.IOException {
    try (var doc = new org.apache.pdfbox.pdmodel.PDDocument()) {
      doc.addPage(
          new org.apache.pdfbox.pdmodel.PDPage(org.apache.pdfbox.pdmodel.common.PDRectangle.A4));
      doc.save(file.toFile());
    }
    return file;
  }

  private static void writeRootPem(String dev, Path file) throws Exception {
    byte[] root =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(field(dev, "rootCaCertificateUrl"))).build(),
                HttpResponse.BodyHandlers.ofByteArray())
            .body();
    Files.writeString(
        file,
        "-----BEGIN CERTIFICATE-----\n"
            + java.util.Base64.getMimeEncoder().encodeToString(root)
            + "\n-----END CERTIFICATE-----\n");
  }

  /**
   * EU DSS, offline and trusting only the embedded root, recognises B-LT and B-LTA seals as
   * PAdES-BASELINE-LT / -LTA and passes them: the DSS dictionary carries everything it needs.
   */
  @Test
  void bLtAndBLtaSealsPassEuDssOfflineWithOnlyTheRootTrusted() throws Exception {
    String dev = Files.readString(DATA.resolve("dev.json"));
    String api = field(dev, "sealApiUrl");
    String sealId = field(dev, "demoSealId");
    String token = field(dev, "sealToken");
    Path dir = Files.createTempDirectory(DATA, "dss-");
    Path in = plainPdf(dir.resolve("in.pdf"));
    writeRootPem(dev, dir.resolve("root.pem"));
    org.bouncycastle.cert.X509CertificateHolder root;
    try (var r =
        new org.bouncycastle.openssl.PEMParser(Files.newBufferedReader(dir.resolve("root.pem")))) {
      root = (org.bouncycastle.cert.X509CertificateHolder) r.readObject();
    }
    io.yinxin.sign.validate.PadesValidator dss =
        new io.yinxin.sign.validate.PadesValidator(() -> java.util.List.of(root));
    for (String level : new String[] {"B-LT", "B-LTA"}) {
      HttpResponse<byte[]> sealed =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(
                          URI.create(api + "/seals/" + sealId + "/sign?level=" + level))
                      .header("Authorization", "Bearer " + token)
                      .header("Content-Type", "application/pdf")
                      .POST(HttpRequest.BodyPublishers.ofFile(in))
                      .build(),
                  HttpResponse.BodyHandlers.ofByteArray());
      assertThat(sealed.statusCode()).as(new String(sealed.body())).isEqualTo(200);
      Path out = Files.write(dir.resolve(level + ".pdf"), sealed.body());
      var reports = dss.validate(out);
      var simple = reports.getSimpleReport();
      String id = simple.getFirstSignatureId();
      assertThat(simple.getSignatureFormat(id).toString())
          .as(level)
          .isEqualTo(level.equals("B-LT") ? "PAdES-BASELINE-LT" : "PAdES-BASELINE-LTA");
      assertThat(simple.getIndication(id).toString())
          .as(level + ": " + io.yinxin.sign.validate.PadesValidator.summary(reports))
          .isEqualTo("TOTAL_PASSED");

      // The node's own validation endpoint says the same; one changed byte inside the signed
      // range (in the header's binary comment, so the PDF still parses) makes it fail.
      HttpResponse<String> report = validate(out);
      assertThat(report.statusCode()).as(report.body()).isEqualTo(200);
      assertThat(report.body())
          .contains("\"indication\":\"TOTAL_PASSED\"")
          .contains("\"format\":\"" + simple.getSignatureFormat(id) + "\"");
      byte[] tampered = sealed.body().clone();
      int comment =
          new String(tampered, java.nio.charset.StandardCharsets.ISO_8859_1).indexOf('\n') + 2;
      tampered[comment] ^= 0x01;
      Path bad = Files.write(dir.resolve(level + "-tampered.pdf"), tampered);
      HttpResponse<String> failed = validate(bad);
      assertThat(failed.statusCode()).isEqualTo(200);
      assertThat(failed.body())
          .contains("\"indication\":\"TOTAL_FAILED\"")
          .contains("HASH_FAILURE");
    }
    HttpResponse<String> etsi =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/sign/v1/validate?format=etsi"))
                    .header("Content-Type", "application/pdf")
                    .POST(HttpRequest.BodyPublishers.ofFile(dir.resolve("B-LT.pdf")))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(etsi.statusCode()).isEqualTo(200);
    assertThat(etsi.body())
        .contains("ValidationReport")
        .contains("urn:etsi:019102:mainindication:total-passed");
  }

  /** A zip of documents comes back as a zip: each sealed, or its error beside its name. */
  @Test
  void aBatchZipIsSealedDocumentByDocumentWithErrorsBesideTheirNames() throws Exception {
    String dev = Files.readString(DATA.resolve("dev.json"));
    Path dir = Files.createTempDirectory(DATA, "batch-");
    Path one = dir.resolve("one.pdf");
    try (var doc = new org.apache.pdfbox.pdmodel.PDDocument()) {
      doc.addPage(new org.apache.pdfbox.pdmodel.PDPage());
      doc.save(one.toFile());
    }
    java.io.ByteArrayOutputStream zip = new java.io.ByteArrayOutputStream();
    try (var z = new java.util.zip.ZipOutputStream(zip)) {
      for (String name : new String[] {"合同-1.pdf", "../../etc/evil.pdf", "bad.pdf"}) {
        z.putNextEntry(new java.util.zip.ZipEntry(name));
        z.write(name.equals("bad.pdf") ? "not a pdf".getBytes() : Files.readAllBytes(one));
        z.closeEntry();
      }
    }
    HttpResponse<byte[]> r = sealBatch(dev, zip.toByteArray());
    assertThat(r.statusCode()).isEqualTo(200);
    java.util.Map<String, byte[]> entries = new java.util.LinkedHashMap<>();
    try (var z = new java.util.zip.ZipInputStream(new java.io.ByteArrayInputStream(r.body()))) {
      for (java.util.zip.ZipEntry e; (e = z.getNextEntry()) != null; ) {
        entries.put(e.getName(), z.readAllBytes());
      }
    }
    assertThat(entries.keySet()).containsExactly("合同-1.pdf", "evil.pdf", "bad.pdf.error.json");
    assertThat(new String(entries.get("bad.pdf.error.json"))).contains("\"code\":\"NOT_PDF\"");
    Path sealed = Files.write(dir.resolve("sealed.pdf"), entries.get("evil.pdf"));
    assertThat(run(dir, "pdfsig", sealed.toString())[1]).contains("Signature is Valid.");

    // A body that is not a zip, and a zip holding nothing, are refused, not answered an empty zip.
    java.io.ByteArrayOutputStream empty = new java.io.ByteArrayOutputStream();
    new java.util.zip.ZipOutputStream(empty).close();
    for (byte[] body : java.util.List.of("not a zip".getBytes(), empty.toByteArray())) {
      HttpResponse<byte[]> r2 = sealBatch(dev, body);
      String problem = new String(r2.body(), java.nio.charset.StandardCharsets.UTF_8);
      assertThat(r2.statusCode()).as(problem).isEqualTo(400);
      assertThat(problem).contains("INVALID_REQUEST");
    }

    // The same document as multipart/form-data.
    String boundary = "yinxin" + System.nanoTime();
    java.io.ByteArrayOutputStream form = new java.io.ByteArrayOutputStream();
    form.write(
        ("--"
                + boundary
                + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n"
                + "Content-Type: application/pdf\r\n\r\n")
            .getBytes());
    form.write(Files.readAllBytes(one));
    form.write(("\r\n--" + boundary + "--\r\n").getBytes());
    HttpResponse<byte[]> m =
        sealApi(
            dev,
            "/sign?level=B-B&invisible=true",
            "multipart/form-data; boundary=" + boundary,
            form.toByteArray());
    assertThat(m.statusCode()).as(new String(m.body())).isEqualTo(200);
    Path viaForm = Files.write(dir.resolve("form.pdf"), m.body());
    assertThat(run(dir, "pdfsig", viaForm.toString())[1]).contains("Signature is Valid.");
  }

  /** POST sign-batch of the demo seal at B-B, with the development seal token. */
  private static HttpResponse<byte[]> sealBatch(String dev, byte[] zip) throws Exception {
    return sealApi(dev, "/sign-batch?level=B-B", "application/zip", zip);
  }

  /** POSTs {@code body} to the demo seal's {@code path} with the development seal token. */
  private static HttpResponse<byte[]> sealApi(String dev, String path, String type, byte[] body)
      throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(
                    URI.create(
                        field(dev, "sealApiUrl") + "/seals/" + field(dev, "demoSealId") + path))
                .header("Authorization", "Bearer " + field(dev, "sealToken"))
                .header("Content-Type", type)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());
  }

  private HttpResponse<String> validate(Path pdf) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/sign/v1/validate"))
                .header("Content-Type", "application/pdf")
                .POST(HttpRequest.BodyPublishers.ofFile(pdf))
                .build(),
            HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> postPdf(String url, String token, Path body)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url))
            .header("Content-Type", "application/pdf")
            .POST(HttpRequest.BodyPublishers.ofFile(body));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String sha256Hex(byte[] b) throws Exception {
    return java.util.HexFormat.of()
        .formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(b));
  }

  private static String[] run(Path dir, String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    String out =
        new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    return new String[] {Integer.toString(p.waitFor()), out};
  }

  private static String[] openssl(Path dir, String... args) throws Exception {
    java.util.List<String> cmd = new java.util.ArrayList<>();
    cmd.add("openssl");
    cmd.addAll(java.util.List.of(args));
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    String out =
        new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    return new String[] {Integer.toString(p.waitFor()), out};
  }

  /** The shipped audit-verify.jar, in its own JVM with nothing else on its class path. */
  @Test
  void auditVerifyJarAcceptsABundleFromThisNodeAndRejectsATamperedOne() throws Exception {
    theEmbeddedLogIsNotEmptyAndPublishesASignedCheckpoint();
    String dev = Files.readString(DATA.resolve("dev.json"));
    String token = field(dev, "auditorToken");
    String key = field(dev, "auditVerifierKey");
    HttpResponse<String> bundle =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/audit/v1/bundles"))
                    .header("Authorization", "Bearer " + token)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"type\":\"LOG_STARTED\"}"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(bundle.statusCode()).as(bundle.body()).isEqualTo(200);
    Path good = DATA.resolve("bundle.json");
    Files.writeString(good, bundle.body());
    Path bad = DATA.resolve("tampered.json");
    Files.writeString(
        bad,
        bundle.body().replace("\\\"actor\\\":\\\"audit-log\\\"", "\\\"actor\\\":\\\"mallory\\\""));
    assertThat(Files.readString(bad)).isNotEqualTo(bundle.body());

    String[] ok = runVerifier(good, key);
    assertThat(ok[0]).as(ok[1]).isEqualTo("0");
    assertThat(ok[1]).contains("VERDICT: VALID").contains("LOG_STARTED");
    String[] rejected = runVerifier(bad, key);
    assertThat(rejected[0]).as(rejected[1]).isEqualTo("1");
    assertThat(rejected[1]).contains("VERDICT: INVALID");
  }

  private static String[] runVerifier(Path bundle, String key) throws Exception {
    Path jar = Path.of("target", "audit-verify.jar");
    assertThat(jar).exists();
    Process p =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar",
                jar.toString(),
                bundle.toString(),
                "--key",
                key)
            .redirectErrorStream(true)
            .start();
    String out =
        new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    return new String[] {Integer.toString(p.waitFor()), out};
  }

  @org.springframework.beans.factory.annotation.Autowired DevWelcome welcome;
  @org.springframework.beans.factory.annotation.Autowired io.yinxin.hsm.KeyService keys;

  @org.springframework.beans.factory.annotation.Autowired
  io.yinxin.ca.issue.IssuanceService issuance;

  @org.springframework.beans.factory.annotation.Autowired
  io.yinxin.sign.registry.SealRegistry seals;

  /**
   * A seal registered under the demo seal's name, sub-line and grantee, with another key, does not
   * become the demo seal at the next start: the seal the previous start named in dev.json stays it.
   * Seal ids are random, so two such seals are made and dev.json names the one whose id sorts after
   * the other's, the look-alike: the look-up by name (ordered by id) would find the look-alike, or
   * a seal sorting before both, but never the one named.
   */
  @Test
  void aLookAlikeSealDoesNotBecomeTheDemoSealAtTheNextStart() throws Exception {
    Path devJson = DATA.resolve("dev.json");
    String before = Files.readString(devJson);
    String a = DemoSeal.create(keys, issuance, seals);
    String b = DemoSeal.create(keys, issuance, seals);
    String named = a.compareTo(b) > 0 ? a : b;
    String lookAlike = named.equals(a) ? b : a;
    assertThat(lookAlike).isLessThan(named);
    assertThat(seals.summary(lookAlike).orElseThrow().grantees()).contains(DemoSeal.GRANTEE);
    try {
      Files.writeString(
          devJson, before.replace("\"" + field(before, "demoSealId") + "\"", "\"" + named + "\""));
      assertThat(field(Files.readString(devJson), "demoSealId")).isEqualTo(named);

      welcome.welcome(); // what the next start does

      assertThat(field(Files.readString(devJson), "demoSealId")).isEqualTo(named);
    } finally {
      Files.writeString(devJson, before);
    }
  }

  static String field(String json, String name) {
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("\"" + name + "\"\\s*:\\s*\"([^\"]+)\"").matcher(json);
    assertThat(m.find()).as(name + " in dev.json").isTrue();
    return m.group(1);
  }

  @Test
  void theEmbeddedLogIsNotEmptyAndPublishesASignedCheckpoint() throws Exception {
    HttpClient client = HttpClient.newHttpClient();
    HttpResponse<String> r =
        org.awaitility.Awaitility.await()
            .atMost(java.time.Duration.ofSeconds(10))
            .until(
                () ->
                    client.send(
                        HttpRequest.newBuilder(
                                URI.create("http://127.0.0.1:" + port + "/audit/checkpoint"))
                            .build(),
                        HttpResponse.BodyHandlers.ofString()),
                resp -> resp.statusCode() == 200);
    assertThat(r.body())
        .startsWith("yinxin.localhost/audit\n")
        .contains("\n\n\u2014 yinxin.localhost/audit ");
    long size = Long.parseLong(r.body().split("\n")[1]);
    assertThat(size).isGreaterThanOrEqualTo(2);
  }

  /**
   * The embedded default stamps checkpoints with the node's own TSA, whose key use is an entry in
   * the same log: a node nobody uses must still come to rest (it used to add four entries a second
   * for ever, each the record of stamping the checkpoint holding the previous one). At rest the
   * newest checkpoint holds only the record of its predecessor's stamp. Two hundred time-stamps
   * anyone asks for add a tally per interval, not an entry each; an event appended then is stamped.
   */
  @Test
  void anIdleNodeComesToRestTimeStampRequestsDoNotFloodTheLogAndAnEventIsStamped()
      throws Exception {
    HttpClient client = HttpClient.newHttpClient();
    long rest = sizeAtRest(client);
    assertThat(timestampStatus(client, rest)).isEqualTo(404);
    assertThat(timestampStatus(client, rest - 1)).isEqualTo(200);

    long floodStart = System.nanoTime();
    for (int i = 0; i < 200; i++) {
      NodeProcesses.timeStamp("http://127.0.0.1:" + port, new byte[] {1});
    }
    long intervals = (System.nanoTime() - floodStart) / 500_000_000L + 2;
    long afterFlood = sizeAtRest(client);
    String dev = Files.readString(DATA.resolve("dev.json"));
    // What the TSA recorded from the first entry after the rest on (a node just started may
    // still be adding entries of its own, CRLs and the like: those are not counted).
    HttpResponse<String> recorded =
        NodeProcesses.post(
            "http://127.0.0.1:" + port + "/audit/v1/bundles",
            field(dev, "auditorToken"),
            "{\"type\":\"KEY_USED\",\"limit\":10000}");
    assertThat(recorded.statusCode()).as(recorded.body()).isEqualTo(200);
    var json = new tools.jackson.databind.ObjectMapper();
    long tallies = 0;
    long tokens = 0;
    for (var e : json.readTree(recorded.body()).path("entries")) {
      var attributes = json.readTree(e.path("event").asString()).path("attributes");
      if (e.path("index").asLong() >= rest
          && attributes.path("purpose").asString().equals("rfc3161-timestamp")) {
        tallies++;
        tokens += Long.parseLong(attributes.path("count").asString());
      }
    }
    // Every token counted, in a handful of entries: a tally per interval of the flood, and the
    // tallies of the node's own stamps of the checkpoints that followed (one entry per token
    // before, 200 or more).
    assertThat(tokens).isGreaterThanOrEqualTo(200);
    assertThat(tallies).isPositive().isLessThanOrEqualTo(2 * intervals + 4).isLessThan(20);

    HttpResponse<String> appended =
        client.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/audit/v1/entries"))
                .header("Authorization", "Bearer " + field(dev, "auditWriterToken"))
                .header("Content-Type", "application/json")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"type\":\"KEY_GENERATED\",\"actor\":\"ops-test\",\"subject\":\"idle-node\"}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(appended.statusCode()).isEqualTo(201);
    long index =
        Long.parseLong(
            java.util.regex.Pattern.compile("\"index\"\\s*:\\s*(\\d+)")
                .matcher(appended.body())
                .results()
                .findFirst()
                .orElseThrow()
                .group(1));
    assertThat(index).isGreaterThanOrEqualTo(afterFlood);
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(20))
        .until(() -> checkpointSize(client) > index && timestampStatus(client, index + 1) == 200);
  }

  /** The checkpoint size once it has not changed for three seconds (twelve checkpoint rounds). */
  private long sizeAtRest(HttpClient client) {
    long[] last = {-1};
    long[] since = {System.nanoTime()};
    return org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(60))
        .pollInterval(java.time.Duration.ofMillis(250))
        .until(
            () -> {
              long size = checkpointSize(client);
              if (size != last[0]) {
                last[0] = size;
                since[0] = System.nanoTime();
              }
              return System.nanoTime() - since[0] > 3_000_000_000L ? size : -1;
            },
            size -> size > 0);
  }

  private long checkpointSize(HttpClient client) throws Exception {
    HttpResponse<String> r =
        client.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/audit/checkpoint"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    return r.statusCode() == 200 ? Long.parseLong(r.body().split("\n")[1]) : -1;
  }

  private int timestampStatus(HttpClient client, long size) throws Exception {
    return client
        .send(
            HttpRequest.newBuilder(
                    URI.create(
                        "http://127.0.0.1:"
                            + port
                            + "/audit/v1/checkpoints/"
                            + size
                            + "/timestamp"))
                .build(),
            HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }
}
