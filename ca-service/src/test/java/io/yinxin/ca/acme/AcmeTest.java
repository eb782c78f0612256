package io.yinxin.ca.acme;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.sun.net.httpserver.HttpServer;
import io.yinxin.audit.store.PostgresDatabase;
import io.yinxin.ca.http.TestApp;
import io.yinxin.ca.testing.TestCsr;
import io.yinxin.ca.testing.TestNodes;
import io.yinxin.hsm.testing.FreePorts;
import io.yinxin.hsm.testing.OpenSsl;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.shredzone.acme4j.Account;
import org.shredzone.acme4j.AccountBuilder;
import org.shredzone.acme4j.Authorization;
import org.shredzone.acme4j.Certificate;
import org.shredzone.acme4j.Order;
import org.shredzone.acme4j.RevocationReason;
import org.shredzone.acme4j.Session;
import org.shredzone.acme4j.Status;
import org.shredzone.acme4j.challenge.Http01Challenge;
import org.shredzone.acme4j.exception.AcmeServerException;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The ACME server, judged by two independent clients: certbot (standalone mode, the Debian package)
 * and acme4j; and by requests an attacker would send.
 */
@SpringBootTest(
    classes = TestApp.class,
    webEnvironment = SpringBootTest.WebEnvironment.DEFINED_PORT)
class AcmeTest {
  static final PostgresDatabase DB = TestNodes.database();
  static final Path DATA = TestNodes.dataDir("yinxin-acme-");
  static final int PORT = FreePorts.next();
  static final int HTTP01 = FreePorts.next();
  static final String BASE = "http://127.0.0.1:" + PORT;
  static final String DIRECTORY = BASE + "/acme/directory";
  static final HttpClient HTTP = HttpClient.newHttpClient();

  @DynamicPropertySource
  static void props(DynamicPropertyRegistry r) {
    node(r, DB, DATA, PORT);
    r.add("yinxin.ca.acme.http01-port", () -> HTTP01);
    // Every test's clients share 127.0.0.1's bucket: room for all of them at once (the flood test
    // sends its 300 requests from 127.0.0.2, well past this burst).
    r.add("yinxin.ca.acme.rate-limits.request-burst", () -> "200");
  }

  /** A CA node for ACME tests: its database, loopback port, data folder, soft keys, .localhost. */
  static void node(DynamicPropertyRegistry r, PostgresDatabase db, Path data, int port) {
    r.add("spring.datasource.url", db::url);
    r.add("spring.datasource.username", () -> PostgresDatabase.USER);
    r.add("spring.datasource.password", () -> "");
    r.add("server.port", () -> port);
    r.add("server.address", () -> "127.0.0.1");
    r.add("yinxin.data-dir", data::toString);
    r.add("yinxin.keys.soft.enabled", () -> "true");
    r.add("yinxin.ca.init-on-start", () -> "true");
    r.add("yinxin.ca.acme.allow-localhost", () -> "true");
    r.add("yinxin.audit.generate-dev-tokens", () -> "true");
  }

  @Test
  void certbotStandaloneObtainsACertificateThatOpensslAccepts() throws Exception {
    Path dir = Files.createTempDirectory(DATA, "certbot-");
    Process p =
        new ProcessBuilder(
                "certbot",
                "certonly",
                "--standalone",
                "--non-interactive",
                "--agree-tos",
                "--register-unsafely-without-email",
                "--server",
                DIRECTORY,
                "-d",
                "certbot.yinxin.localhost",
                "--http-01-port",
                Integer.toString(HTTP01),
                "--http-01-address",
                "127.0.0.1",
                "--config-dir",
                dir.resolve("config").toString(),
                "--work-dir",
                dir.resolve("work").toString(),
                "--logs-dir",
                dir.resolve("logs").toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(out).isZero();
    Path live = dir.resolve("config/live/certbot.yinxin.localhost");
    Files.writeString(dir.resolve("root.pem"), caPem("root"));
    OpenSsl.Result v =
        OpenSsl.run(
            dir,
            "verify",
            "-CAfile",
            "root.pem",
            "-untrusted",
            live.resolve("chain.pem").toString(),
            live.resolve("cert.pem").toString());
    assertThat(v.output()).as(v.output()).contains(": OK");
    OpenSsl.Result text =
        OpenSsl.run(dir, "x509", "-in", live.resolve("cert.pem").toString(), "-noout", "-text");
    assertThat(text.output())
        .contains("DNS:certbot.yinxin.localhost")
        .contains("TLS Web Server Authentication");

    // certbot can revoke what it obtained.
    Process rv =
        new ProcessBuilder(
                "certbot",
                "revoke",
                "--non-interactive",
                "--server",
                DIRECTORY,
                "--cert-path",
                live.resolve("cert.pem").toString(),
                "--reason",
                "keycompromise",
                "--no-delete-after-revoke",
                "--config-dir",
                dir.resolve("config").toString(),
                "--work-dir",
                dir.resolve("work").toString(),
                "--logs-dir",
                dir.resolve("logs").toString())
            .redirectErrorStream(true)
            .start();
    String rvOut = new String(rv.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(rv.waitFor()).as(rvOut).isZero();
    assertThat(statusOf("certbot.yinxin.localhost")).isEqualTo("R");
  }

  @Test
  void acme4jOrdersFinalizesDownloadsAndRevokes() throws Exception {
    KeyPair accountKey = TestCsr.ec("secp256r1");
    Session session = new Session(URI.create(DIRECTORY));
    Account account =
        new AccountBuilder().agreeToTermsOfService().useKeyPair(accountKey).create(session);
    // The same key finds the same account.
    Account again = new AccountBuilder().onlyExisting().useKeyPair(accountKey).create(session);
    assertThat(again.getLocation()).isEqualTo(account.getLocation());

    Map<String, String> tokens = new java.util.concurrent.ConcurrentHashMap<>();
    HttpServer server = challengeServer(tokens);
    Order order;
    try {
      order = readyOrder(account, tokens, "a.acme4j.localhost", "b.acme4j.localhost");
    } finally {
      server.stop(0);
    }
    KeyPair domainKey = TestCsr.ec("secp256r1");
    order.execute(domainKey);
    assertThat(order.waitForCompletion(Duration.ofSeconds(30))).isEqualTo(Status.VALID);
    Certificate cert = order.getCertificate();
    assertThat(cert.getCertificate().getSubjectAlternativeNames()).hasSize(2);
    assertThat(cert.getCertificateChain()).hasSize(2);
    cert.getCertificate().verify(cert.getCertificateChain().get(1).getPublicKey());

    // Reasons outside RFC 8555 §7.6 are refused, never narrowed (4294967297 is not 1).
    ECKey jwk =
        new ECKey.Builder(
                Curve.P_256, (java.security.interfaces.ECPublicKey) accountKey.getPublic())
            .privateKey((java.security.interfaces.ECPrivateKey) accountKey.getPrivate())
            .build();
    String revokeUrl = BASE + "/acme/revoke-cert";
    String certB64 =
        java.util.Base64.getUrlEncoder()
            .withoutPadding()
            .encodeToString(cert.getCertificate().getEncoded());
    for (String reason : new String[] {"4294967297", "-1", "2", "11", "1.0", "\"1\""}) {
      assertAcmeProblem(
          post(
              revokeUrl,
              jws(
                  jwk,
                  nonce(),
                  revokeUrl,
                  "{\"certificate\":\"" + certB64 + "\",\"reason\":" + reason + "}",
                  false,
                  account.getLocation().toString())),
          400,
          "badRevocationReason");
    }
    assertThat(statusOf("a.acme4j.localhost")).isNotEqualTo("R");
    cert.revoke(RevocationReason.KEY_COMPROMISE);
    assertThat(statusOf("a.acme4j.localhost")).isEqualTo("R");
    // Revoking twice is refused with the ACME error type.
    assertThatThrownBy(() -> cert.revoke(RevocationReason.KEY_COMPROMISE))
        .isInstanceOfSatisfying(
            AcmeServerException.class,
            e ->
                assertThat(e.getType().toString())
                    .isEqualTo("urn:ietf:params:acme:error:alreadyRevoked"));
  }

  @Test
  void aRevokedKeySentCompressedIsRefusedWithBadCsrAndTheOrderStaysReady() throws Exception {
    Session session = new Session(URI.create(DIRECTORY));
    Account account =
        new AccountBuilder()
            .agreeToTermsOfService()
            .useKeyPair(TestCsr.ec("secp256r1"))
            .create(session);
    String domain = "compressed.acme4j.localhost";
    Map<String, String> tokens = new java.util.concurrent.ConcurrentHashMap<>();
    HttpServer server = challengeServer(tokens);
    try {
      KeyPair key = TestCsr.ec("secp256r1");
      Order first = readyOrder(account, tokens, domain);
      first.execute(key);
      assertThat(first.waitForCompletion(Duration.ofSeconds(30))).isEqualTo(Status.VALID);
      first.getCertificate().revoke(RevocationReason.KEY_COMPROMISE);

      Order second = readyOrder(account, tokens, domain);
      byte[] compressed = TestCsr.derOtherKeyEncoding(key, "SHA256withECDSA", domain);
      assertThatThrownBy(() -> second.execute(compressed))
          .isInstanceOfSatisfying(
              AcmeServerException.class,
              e -> assertThat(e.getType().toString()).endsWith(":badCSR"));
      second.update();
      // RFC 8555 §7.4: a refused CSR leaves the order ready for another one.
      assertThat(second.getStatus()).isEqualTo(Status.READY);
      second.execute(TestCsr.ec("secp256r1"));
      assertThat(second.waitForCompletion(Duration.ofSeconds(30))).isEqualTo(Status.VALID);
    } finally {
      server.stop(0);
    }
  }

  /**
   * ACME Renewal Information (RFC 9773), judged by acme4j, which computes the certID itself: the
   * directory names the resource; a certificate in good standing is to be renewed from two thirds
   * to three quarters of its validity, asked again after six hours; one revoked is to be replaced
   * now. Of four orders racing to replace it, one is created and reflects "replaces"; the others,
   * and later ones while it may still succeed, get alreadyReplaced (409); another account may not
   * replace it, nor an order sharing no name with it.
   */
  @Test
  void renewalInfoSuggestsAWindowAndOneOrderAtATimeReplacesARevokedCertificate() throws Exception {
    KeyPair accountKey = TestCsr.ec("secp256r1");
    Session session = new Session(URI.create(DIRECTORY));
    Account account =
        new AccountBuilder().agreeToTermsOfService().useKeyPair(accountKey).create(session);
    Map<String, String> tokens = new java.util.concurrent.ConcurrentHashMap<>();
    HttpServer server = challengeServer(tokens);
    try {
      Order order = readyOrder(account, tokens, "ari.acme4j.localhost");
      order.execute(TestCsr.ec("secp256r1"));
      assertThat(order.waitForCompletion(Duration.ofSeconds(30))).isEqualTo(Status.VALID);
      Certificate cert = order.getCertificate();
      java.security.cert.X509Certificate x = cert.getCertificate();
      assertThat(cert.hasRenewalInfo()).isTrue();
      org.shredzone.acme4j.RenewalInfo info = cert.getRenewalInfo();
      java.time.Instant asked = java.time.Instant.now();
      java.time.Instant recheck = info.fetch().orElseThrow();
      assertThat(Duration.between(asked, recheck).toMinutes()).isBetween(359L, 360L);
      long life =
          Duration.between(x.getNotBefore().toInstant(), x.getNotAfter().toInstant()).toSeconds();
      assertThat(info.getSuggestedWindowStart())
          .isEqualTo(x.getNotBefore().toInstant().plusSeconds(life * 2 / 3));
      assertThat(info.getSuggestedWindowEnd())
          .isEqualTo(x.getNotBefore().toInstant().plusSeconds(life * 3 / 4));
      assertThat(info.renewalIsNotRequired(asked)).isTrue();
      assertThat(info.getExplanation()).isEmpty();

      // The same by hand: the certID acme4j computed, and what a cache may do with the answer.
      String location = cert.getRenewalInfoLocation().orElseThrow().toString();
      assertThat(location).startsWith(BASE + "/acme/renewal-info/");
      String certId = location.substring(location.lastIndexOf('/') + 1);
      HttpResponse<String> plain = get(BASE + "/acme/renewal-info/" + certId);
      assertThat(plain.statusCode()).isEqualTo(200);
      assertThat(plain.headers().firstValue("Retry-After")).hasValue("21600");
      assertThat(plain.headers().firstValue("Cache-Control"))
          .hasValueSatisfying(v -> assertThat(v).contains("max-age=3600").contains("public"));
      // Other spellings of it, and certificates it does not name.
      String[] parts = {
        certId.substring(0, certId.indexOf('.')), certId.substring(certId.indexOf('.') + 1)
      };
      byte[] serial = java.util.Base64.getUrlDecoder().decode(parts[1]);
      java.util.Base64.Encoder b64 = java.util.Base64.getUrlEncoder().withoutPadding();
      byte[] padded = new byte[serial.length + 1];
      System.arraycopy(serial, 0, padded, 1, serial.length);
      padded[0] = (byte) (serial[0] < 0 ? 0xff : 0);
      for (String bad :
          new String[] {
            parts[0] + "=." + parts[1],
            java.util.Base64.getUrlEncoder().encodeToString(x.getExtensionValue("2.5.29.35"))
                + "."
                + parts[1],
            parts[0] + "." + b64.encodeToString(padded),
            parts[0] + "." + b64.encodeToString(new byte[] {(byte) 0x87, 0x65}),
            parts[0],
            parts[0] + "." + parts[1] + "." + parts[1],
            parts[0] + ".AIdlQy%2B"
          }) {
        assertAcmeProblem(get(BASE + "/acme/renewal-info/" + bad), 400, "malformed");
      }
      byte[] otherSerial = serial.clone();
      otherSerial[otherSerial.length - 1] ^= 1;
      assertAcmeProblem(
          get(BASE + "/acme/renewal-info/" + parts[0] + "." + b64.encodeToString(otherSerial)),
          404,
          "malformed");

      // Revoked: to be replaced now, the window wholly in the past, with an explanation.
      cert.revoke(RevocationReason.KEY_COMPROMISE);
      info.fetch();
      assertThat(info.renewalIsOverdue(java.time.Instant.now())).isTrue();
      assertThat(info.getSuggestedWindowEnd()).isBefore(java.time.Instant.now().minusSeconds(3600));
      assertThat(info.getExplanation()).isPresent();

      // Four orders on four logins race to replace it: one is created.
      java.util.concurrent.ExecutorService pool =
          java.util.concurrent.Executors.newFixedThreadPool(4);
      List<java.util.concurrent.Future<Object>> raced = new java.util.ArrayList<>();
      for (int i = 0; i < 4; i++) {
        raced.add(
            pool.submit(
                () -> {
                  Session own = new Session(URI.create(DIRECTORY));
                  try {
                    return own.login(account.getLocation(), accountKey)
                        .getAccount()
                        .newOrder()
                        .domains("ari.acme4j.localhost")
                        .replaces(certId)
                        .create();
                  } catch (AcmeServerException e) {
                    return e;
                  }
                }));
      }
      List<Order> created = new java.util.ArrayList<>();
      for (var f : raced) {
        Object r = f.get(60, java.util.concurrent.TimeUnit.SECONDS);
        if (r instanceof Order o) {
          created.add(o);
        } else {
          assertThat(((AcmeServerException) r).getType().toString())
              .isEqualTo("urn:ietf:params:acme:error:alreadyReplaced");
        }
      }
      pool.shutdown();
      assertThat(created).hasSize(1);
      assertThat(created.get(0).getJSON().get("replaces").asString()).isEqualTo(certId);
      assertThatThrownBy(
              () -> account.newOrder().domains("ari.acme4j.localhost").replaces(certId).create())
          .isInstanceOfSatisfying(
              AcmeServerException.class,
              e ->
                  assertThat(e.getType().toString())
                      .isEqualTo("urn:ietf:params:acme:error:alreadyReplaced"));

      // Not another account's, and not for other names.
      Account stranger =
          new AccountBuilder()
              .agreeToTermsOfService()
              .useKeyPair(TestCsr.ec("secp256r1"))
              .create(new Session(URI.create(DIRECTORY)));
      assertThatThrownBy(
              () -> stranger.newOrder().domains("ari.acme4j.localhost").replaces(certId).create())
          .isInstanceOfSatisfying(
              AcmeServerException.class,
              e -> assertThat(e.getType().toString()).endsWith(":unauthorized"));
      assertThatThrownBy(
              () -> account.newOrder().domains("other.acme4j.localhost").replaces(certId).create())
          .isInstanceOfSatisfying(
              AcmeServerException.class,
              e -> assertThat(e.getType().toString()).endsWith(":malformed"));
    } finally {
      server.stop(0);
    }
  }

  static HttpResponse<String> get(String url) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create(url)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** An http-01 responder on the test's challenge port serving {@code tokens}. */
  private static HttpServer challengeServer(Map<String, String> tokens) throws Exception {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", HTTP01), 0);
    server.createContext(
        "/.well-known/acme-challenge/",
        ex -> {
          String token =
              ex.getRequestURI().getPath().substring("/.well-known/acme-challenge/".length());
          byte[] body = tokens.getOrDefault(token, "").getBytes(StandardCharsets.US_ASCII);
          ex.sendResponseHeaders(
              tokens.containsKey(token) ? 200 : 404, body.length == 0 ? -1 : body.length);
          if (body.length > 0) {
            ex.getResponseBody().write(body);
          }
          ex.close();
        });
    server.start();
    return server;
  }

  /** A new order for {@code domains}, its http-01 challenges answered, waited for until ready. */
  private static Order readyOrder(Account account, Map<String, String> tokens, String... domains)
      throws Exception {
    Order order = account.newOrder().domains(domains).create();
    for (Authorization auth : order.getAuthorizations()) {
      if (auth.getStatus() == Status.VALID) {
        continue;
      }
      Http01Challenge ch = auth.findChallenge(Http01Challenge.class).orElseThrow();
      tokens.put(ch.getToken(), ch.getAuthorization());
      ch.trigger();
      assertThat(auth.waitForCompletion(Duration.ofSeconds(30))).isEqualTo(Status.VALID);
    }
    assertThat(order.waitUntilReady(Duration.ofSeconds(30))).isEqualTo(Status.READY);
    return order;
  }

  @Test
  void aChallengeAnsweredWrongInvalidatesTheOrder() throws Exception {
    Session session = new Session(URI.create(DIRECTORY));
    Account account =
        new AccountBuilder()
            .agreeToTermsOfService()
            .useKeyPair(TestCsr.ec("secp256r1"))
            .create(session);
    Order order = account.newOrder().domains("wrong.acme4j.localhost").create();
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", HTTP01), 0);
    server.createContext(
        "/.well-known/acme-challenge/",
        ex -> {
          byte[] body = "not-the-key-authorization".getBytes(StandardCharsets.US_ASCII);
          ex.sendResponseHeaders(200, body.length);
          ex.getResponseBody().write(body);
          ex.close();
        });
    server.start();
    try {
      Authorization auth = order.getAuthorizations().get(0);
      auth.findChallenge(Http01Challenge.class).orElseThrow().trigger();
      assertThat(auth.waitForCompletion(Duration.ofSeconds(30))).isEqualTo(Status.INVALID);
    } finally {
      server.stop(0);
    }
    order.update();
    assertThat(order.getStatus()).isEqualTo(Status.INVALID);
    // Finalizing an invalid order is refused.
    assertThatThrownBy(() -> order.execute(TestCsr.ec("secp256r1")))
        .isInstanceOfSatisfying(
            AcmeServerException.class,
            e -> assertThat(e.getType().toString()).endsWith(":orderNotReady"));
  }

  @Test
  void forgedReplayedOrOutOfPolicyRequestsGetAcmeProblems() throws Exception {
    ECKey key = new ECKeyGenerator(Curve.P_256).generate();
    String newAccount = BASE + "/acme/new-account";
    // A good request creates the account.
    HttpResponse<String> ok =
        post(
            newAccount,
            jws(key, nonce(), newAccount, "{\"termsOfServiceAgreed\":true}", true, null));
    assertThat(ok.statusCode()).as(ok.body()).isEqualTo(201);
    String kid = ok.headers().firstValue("Location").orElseThrow();
    assertThat(ok.headers().firstValue("Replay-Nonce")).isPresent();

    // Replayed nonce.
    String n = nonce();
    post(newAccount, jws(key, n, newAccount, "{}", true, null));
    assertAcmeProblem(post(newAccount, jws(key, n, newAccount, "{}", true, null)), 400, "badNonce");
    // Made-up nonce.
    assertAcmeProblem(
        post(newAccount, jws(key, "bm9ub25jZQ", newAccount, "{}", true, null)), 400, "badNonce");
    // URL in the JWS is not the request URL.
    assertAcmeProblem(
        post(newAccount, jws(key, nonce(), BASE + "/acme/new-order", "{}", true, null)),
        403,
        "unauthorized");
    // Signature by another key than the jwk claims.
    ECKey other = new ECKeyGenerator(Curve.P_256).generate();
    assertAcmeProblem(
        post(newAccount, forgedJws(key, other, nonce(), newAccount)), 400, "malformed");
    // Garbage.
    assertAcmeProblem(post(newAccount, "{not json"), 400, "malformed");
    // An unknown account.
    String newOrder = BASE + "/acme/new-order";
    assertAcmeProblem(
        post(
            newOrder,
            jws(
                other,
                nonce(),
                newOrder,
                identifiers("x.localhost"),
                false,
                BASE + "/acme/acct/nope")),
        400,
        "accountDoesNotExist");
    // Names outside the policy, wildcards, IP addresses.
    for (String name :
        List.of("www.example.com", "*.yinxin.localhost", "127.0.0.1", "bad_name.localhost")) {
      assertAcmeProblem(
          post(newOrder, jws(key, nonce(), newOrder, identifiers(name), false, kid)),
          400,
          "rejectedIdentifier");
    }
    // Another account's order is not visible.
    HttpResponse<String> order =
        post(
            newOrder,
            jws(key, nonce(), newOrder, identifiers("mine.yinxin.localhost"), false, kid));
    assertThat(order.statusCode()).as(order.body()).isEqualTo(201);
    String orderUrl = order.headers().firstValue("Location").orElseThrow();
    // The account's orders list names it.
    String ordersUrl = kid + "/orders";
    HttpResponse<String> orders = post(ordersUrl, jws(key, nonce(), ordersUrl, "", false, kid));
    assertThat(orders.statusCode()).as(orders.body()).isEqualTo(200);
    assertThat(orders.body()).contains(orderUrl.substring(orderUrl.lastIndexOf('/') + 1));
    HttpResponse<String> otherAcct =
        post(
            newAccount,
            jws(other, nonce(), newAccount, "{\"termsOfServiceAgreed\":true}", true, null));
    String otherKid = otherAcct.headers().firstValue("Location").orElseThrow();
    assertAcmeProblem(
        post(orderUrl, jws(other, nonce(), orderUrl, "", false, otherKid)), 403, "unauthorized");
    // Finalize before the order is ready.
    String finalizeUrl = orderUrl + "/finalize";
    String csr =
        java.util.Base64.getUrlEncoder()
            .withoutPadding()
            .encodeToString(TestCsr.der(TestCsr.ec("secp256r1"), "SHA256withECDSA"));
    assertAcmeProblem(
        post(finalizeUrl, jws(key, nonce(), finalizeUrl, "{\"csr\":\"" + csr + "\"}", false, kid)),
        403,
        "orderNotReady");
    // Wrong content type.
    HttpResponse<String> json =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(newAccount))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(json.statusCode()).isEqualTo(415);
  }

  @Test
  void acme4jRollsTheAccountKeyOverAndTheOldKeyNoLongerFindsTheAccount() throws Exception {
    KeyPair oldKey = TestCsr.ec("secp256r1");
    KeyPair newKey = TestCsr.ec("secp384r1");
    Session session = new Session(URI.create(DIRECTORY));
    Account account =
        new AccountBuilder().agreeToTermsOfService().useKeyPair(oldKey).create(session);
    account.changeKey(newKey); // RFC 8555 §7.3.5, as acme4j writes it
    Account found =
        new AccountBuilder()
            .onlyExisting()
            .useKeyPair(newKey)
            .create(new Session(URI.create(DIRECTORY)));
    assertThat(found.getLocation()).isEqualTo(account.getLocation());
    assertThatThrownBy(
            () ->
                new AccountBuilder()
                    .onlyExisting()
                    .useKeyPair(oldKey)
                    .create(new Session(URI.create(DIRECTORY))))
        .isInstanceOfSatisfying(
            AcmeServerException.class,
            e ->
                assertThat(e.getType().toString())
                    .isEqualTo("urn:ietf:params:acme:error:accountDoesNotExist"));
  }

  /** A signed JWS in the flattened JSON serialization ACME uses (RFC 8555 §6.2). */
  static String flattened(JWSObject o) {
    return "{\"protected\":\""
        + o.getHeader().toBase64URL()
        + "\",\"payload\":\""
        + o.getPayload().toBase64URL()
        + "\",\"signature\":\""
        + o.getSignature()
        + "\"}";
  }

  /** A key change signed by the account's current key, carrying {@code inner}. */
  static HttpResponse<String> changeKey(ECKey current, String kid, String inner) throws Exception {
    String url = BASE + "/acme/key-change";
    return post(url, jws(current, nonce(), url, inner, false, kid));
  }

  /** The inner JWS of a key change: the new key in its header, url, no nonce. */
  static String innerJws(ECKey newKey, String url, String payload, String nonce) throws Exception {
    JWSHeader.Builder h =
        new JWSHeader.Builder(
                Curve.P_384.equals(newKey.getCurve()) ? JWSAlgorithm.ES384 : JWSAlgorithm.ES256)
            .jwk(newKey.toPublicJWK())
            .customParam("url", url);
    if (nonce != null) {
      h.customParam("nonce", nonce);
    }
    JWSObject o = new JWSObject(h.build(), new Payload(payload));
    o.sign(new ECDSASigner(newKey));
    return flattened(o);
  }

  static String keyChangePayload(String account, ECKey oldKey) {
    return "{\"account\":\""
        + account
        + "\",\"oldKey\":"
        + oldKey.toPublicJWK().toJSONString()
        + "}";
  }

  @Test
  void aKeyChangeThatDoesNotHoldTogetherIsRefusedAndAKeyHeldElsewhereIsAConflict()
      throws Exception {
    String newAccount = BASE + "/acme/new-account";
    String keyChange = BASE + "/acme/key-change";
    ECKey key = new ECKeyGenerator(Curve.P_256).generate();
    ECKey other = new ECKeyGenerator(Curve.P_256).generate();
    ECKey fresh = new ECKeyGenerator(Curve.P_256).generate();
    String kid =
        post(
                newAccount,
                jws(key, nonce(), newAccount, "{\"termsOfServiceAgreed\":true}", true, null))
            .headers()
            .firstValue("Location")
            .orElseThrow();
    String otherKid =
        post(
                newAccount,
                jws(other, nonce(), newAccount, "{\"termsOfServiceAgreed\":true}", true, null))
            .headers()
            .firstValue("Location")
            .orElseThrow();
    assertThat(
            HTTP.send(
                    HttpRequest.newBuilder(URI.create(BASE + "/acme/directory")).build(),
                    HttpResponse.BodyHandlers.ofString())
                .body())
        .contains("\"keyChange\":\"" + keyChange + "\"");

    // Each of these leaves the account's key as it was.
    Map<String, String> refused = new java.util.LinkedHashMap<>();
    refused.put("inner url differs", innerJws(fresh, newAccount, keyChangePayload(kid, key), null));
    refused.put(
        "inner has a nonce", innerJws(fresh, keyChange, keyChangePayload(kid, key), nonce()));
    refused.put(
        "another account named", innerJws(fresh, keyChange, keyChangePayload(otherKid, key), null));
    refused.put(
        "oldKey is not the account's",
        innerJws(fresh, keyChange, keyChangePayload(kid, other), null));
    refused.put(
        "oldKey missing", innerJws(fresh, keyChange, "{\"account\":\"" + kid + "\"}", null));
    refused.put(
        "inner signed by another key",
        innerWithForgedSignature(fresh, other, keyChange, keyChangePayload(kid, key)));
    refused.put("not a JWS", "{\"x\":1}");
    for (var e : refused.entrySet()) {
      HttpResponse<String> r = changeKey(key, kid, e.getValue());
      assertThat(r.statusCode()).as(e.getKey() + ": " + r.body()).isIn(400, 403);
      assertThat(r.headers().firstValue("Content-Type").orElse(""))
          .as(e.getKey())
          .startsWith("application/problem+json");
    }
    // The new key is another account's: 409, naming that account.
    HttpResponse<String> taken =
        changeKey(key, kid, innerJws(other, keyChange, keyChangePayload(kid, key), null));
    assertThat(taken.statusCode()).as(taken.body()).isEqualTo(409);
    assertThat(taken.headers().firstValue("Location")).hasValue(otherKid);
    // Nothing changed: the old key still speaks for the account.
    String ordersUrl = kid + "/orders";
    assertThat(post(ordersUrl, jws(key, nonce(), ordersUrl, "", false, kid)).statusCode())
        .isEqualTo(200);

    // A good change; afterwards the old key is refused and the new one is the account.
    HttpResponse<String> changed =
        changeKey(key, kid, innerJws(fresh, keyChange, keyChangePayload(kid, key), null));
    assertThat(changed.statusCode()).as(changed.body()).isEqualTo(200);
    assertAcmeProblem(
        post(ordersUrl, jws(key, nonce(), ordersUrl, "", false, kid)), 400, "malformed");
    assertThat(post(ordersUrl, jws(fresh, nonce(), ordersUrl, "", false, kid)).statusCode())
        .isEqualTo(200);
    HttpResponse<String> byNewKey =
        post(
            newAccount,
            jws(fresh, nonce(), newAccount, "{\"onlyReturnExisting\":true}", true, null));
    assertThat(byNewKey.statusCode()).isEqualTo(200);
    assertThat(byNewKey.headers().firstValue("Location")).hasValue(kid);
  }

  static String innerWithForgedSignature(ECKey claimed, ECKey signer, String url, String payload)
      throws Exception {
    JWSObject o =
        new JWSObject(
            new JWSHeader.Builder(JWSAlgorithm.ES256)
                .jwk(claimed.toPublicJWK())
                .customParam("url", url)
                .build(),
            new Payload(payload));
    o.sign(new ECDSASigner(signer));
    return flattened(o);
  }

  /**
   * Another spelling of the same key (RFC 7518 §6 allows one): Nimbus reads each as the same key
   * but RFC 7638 hashes the members as written, so each used to be a new account for a key that had
   * one already.
   */
  @Test
  void aKeyWrittenAnyOtherWayThanItsCanonicalFormIsRefused() throws Exception {
    String newAccount = BASE + "/acme/new-account";
    ECKey key = new ECKeyGenerator(Curve.P_256).generate();
    HttpResponse<String> first =
        post(
            newAccount,
            jws(key, nonce(), newAccount, "{\"termsOfServiceAgreed\":true}", true, null));
    assertThat(first.statusCode()).as(first.body()).isEqualTo(201);
    byte[] x = key.getX().decode();
    byte[] padded = new byte[x.length + 1];
    System.arraycopy(x, 0, padded, 1, x.length);
    String xs = key.getX().toString();
    // The last character of a 32-byte value carries 2 unused bits: set one.
    char last = xs.charAt(xs.length() - 1);
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    String strayBits =
        xs.substring(0, xs.length() - 1) + alphabet.charAt(alphabet.indexOf(last) | 1);
    for (String spelledX :
        List.of(com.nimbusds.jose.util.Base64URL.encode(padded).toString(), strayBits, xs + "=")) {
      Map<String, Object> m = new java.util.LinkedHashMap<>(key.toJSONObject());
      m.put("x", spelledX);
      ECKey respelled = ECKey.parse(m); // Nimbus takes each spelling as the same key
      assertThat(respelled.toECPublicKey()).isEqualTo(key.toECPublicKey());
      HttpResponse<String> r =
          post(
              newAccount,
              jws(respelled, nonce(), newAccount, "{\"termsOfServiceAgreed\":true}", true, null));
      assertAcmeProblem(r, 400, "badPublicKey");
    }
    // RSA: a modulus with a leading zero octet, and the exponent 65537 as 00 01 00 01.
    java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    KeyPair rsa = g.generateKeyPair();
    com.nimbusds.jose.jwk.RSAKey rsaKey =
        new com.nimbusds.jose.jwk.RSAKey.Builder(
                (java.security.interfaces.RSAPublicKey) rsa.getPublic())
            .privateKey(rsa.getPrivate())
            .build();
    byte[] n = rsaKey.getModulus().decode();
    byte[] n0 = new byte[n.length + 1];
    System.arraycopy(n, 0, n0, 1, n.length);
    for (String[] member :
        new String[][] {
          {"n", com.nimbusds.jose.util.Base64URL.encode(n0).toString()}, {"e", "AAEAAQ"}
        }) {
      Map<String, Object> m = new java.util.LinkedHashMap<>(rsaKey.toPublicJWK().toJSONObject());
      m.put(member[0], member[1]);
      com.nimbusds.jose.jwk.RSAKey respelled = com.nimbusds.jose.jwk.RSAKey.parse(m);
      JWSObject o =
          new JWSObject(
              new JWSHeader.Builder(JWSAlgorithm.RS256)
                  .jwk(respelled)
                  .customParam("nonce", nonce())
                  .customParam("url", newAccount)
                  .build(),
              new Payload("{\"termsOfServiceAgreed\":true}"));
      o.sign(new com.nimbusds.jose.crypto.RSASSASigner(rsa.getPrivate()));
      String body = flattened(o);
      assertAcmeProblem(post(newAccount, body), 400, "badPublicKey");
    }
    // The canonical form still finds the one account.
    HttpResponse<String> again =
        post(
            newAccount, jws(key, nonce(), newAccount, "{\"onlyReturnExisting\":true}", true, null));
    assertThat(again.statusCode()).isEqualTo(200);
    assertThat(again.headers().firstValue("Location"))
        .isEqualTo(first.headers().firstValue("Location"));
  }

  @Test
  void aFloodOfNonceRequestsFromOneAddressIsRateLimitedAndOtherAddressesAreNot() throws Exception {
    // 127.0.0.2 is another loopback address: its bucket is not the one the other tests use.
    int limited = 0;
    String retryAfter = null;
    for (int i = 0; i < 300 && limited == 0; i++) {
      String head = rawGetFrom("127.0.0.2", "/acme/new-nonce");
      if (head.startsWith("HTTP/1.1 429")) {
        limited++;
        assertThat(head).contains("urn:ietf:params:acme:error:rateLimited");
        Matcher m = Pattern.compile("(?im)^Retry-After: *(\\d+)").matcher(head);
        assertThat(m.find()).as(head).isTrue();
        retryAfter = m.group(1);
      } else {
        assertThat(head).startsWith("HTTP/1.1 204");
      }
    }
    assertThat(limited).as("the 300 requests from 127.0.0.2 were not limited").isEqualTo(1);
    assertThat(Long.parseLong(retryAfter)).isPositive();
    assertThat(nonce()).isNotBlank(); // 127.0.0.1 goes on
  }

  /** A GET sent from a chosen local address, answered headers and body as text. */
  static String rawGetFrom(String localAddress, String path) throws Exception {
    try (java.net.Socket s = new java.net.Socket()) {
      s.bind(new InetSocketAddress(localAddress, 0));
      s.connect(new InetSocketAddress("127.0.0.1", PORT), 5_000);
      s.setSoTimeout(10_000);
      s.getOutputStream()
          .write(
              ("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  // ---- helpers

  static String nonce() throws Exception {
    HttpResponse<Void> r =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(BASE + "/acme/new-nonce"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody())
                .build(),
            HttpResponse.BodyHandlers.discarding());
    assertThat(r.statusCode()).isEqualTo(200);
    return r.headers().firstValue("Replay-Nonce").orElseThrow();
  }

  static String identifiers(String name) {
    return "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"" + name + "\"}]}";
  }

  static JWSHeader header(ECKey key, String nonce, String url, boolean withJwk, String kid) {
    JWSHeader.Builder h =
        new JWSHeader.Builder(JWSAlgorithm.ES256)
            .customParam("nonce", nonce)
            .customParam("url", url);
    if (withJwk) {
      h.jwk(key.toPublicJWK());
    } else {
      h.keyID(kid);
    }
    return h.build();
  }

  static String jws(
      ECKey key, String nonce, String url, String payload, boolean withJwk, String kid)
      throws Exception {
    JWSObject o = new JWSObject(header(key, nonce, url, withJwk, kid), new Payload(payload));
    o.sign(new ECDSASigner(key));
    return "{\"protected\":\""
        + o.getHeader().toBase64URL()
        + "\",\"payload\":\""
        + (payload.isEmpty() ? "" : o.getPayload().toBase64URL().toString())
        + "\",\"signature\":\""
        + o.getSignature()
        + "\"}";
  }

  /** A header naming {@code claimed}'s public key, signed by {@code signer}. */
  static String forgedJws(ECKey claimed, ECKey signer, String nonce, String url) throws Exception {
    JWSObject o = new JWSObject(header(claimed, nonce, url, true, null), new Payload("{}"));
    o.sign(new ECDSASigner(signer));
    return flattened(o);
  }

  static HttpResponse<String> post(String url, String body) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create(url))
            .header("Content-Type", "application/jose+json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static void assertAcmeProblem(HttpResponse<String> r, int status, String type) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    assertThat(r.headers().firstValue("Content-Type"))
        .hasValueSatisfying(v -> assertThat(v).startsWith("application/problem+json"));
    assertThat(r.body()).contains("\"type\":\"urn:ietf:params:acme:error:" + type + "\"");
    assertThat(r.headers().firstValue("Replay-Nonce")).isPresent();
  }

  static String statusOf(String dns) throws Exception {
    try (Connection c = DriverManager.getConnection(DB.url(), PostgresDatabase.USER, "");
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT status FROM ca.certificates WHERE profile = 'server-tls-acme' AND subject LIKE '%"
                    + dns
                    + "%' ORDER BY issued_at DESC")) {
      assertThat(rs.next()).isTrue();
      return rs.getString(1);
    }
  }

  static String caPem(String ca) throws Exception {
    return HTTP.send(
            HttpRequest.newBuilder(
                    URI.create(BASE + "/ca/v1/cas/" + ca + "/certificate?format=pem"))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }
}
