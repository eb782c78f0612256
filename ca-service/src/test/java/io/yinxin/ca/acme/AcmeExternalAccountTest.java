package io.yinxin.ca.acme;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.yinxin.audit.store.PostgresDatabase;
import io.yinxin.ca.http.CaOperators;
import io.yinxin.ca.http.TestApp;
import io.yinxin.ca.testing.TestCsr;
import io.yinxin.ca.testing.TestNodes;
import io.yinxin.hsm.testing.FreePorts;
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
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.shredzone.acme4j.Account;
import org.shredzone.acme4j.AccountBuilder;
import org.shredzone.acme4j.Session;
import org.shredzone.acme4j.exception.AcmeServerException;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.ObjectMapper;

/**
 * External account binding (RFC 8555 §7.3.4) on a CA that requires it, judged by acme4j and certbot
 * ({@code --eab-kid}, {@code --eab-hmac-key}): no account without a key an operator made; a key
 * binds one account, once, even when two clients race with it; a wrong MAC or another account key
 * binds nothing; the key's creation is in the evidence log, without the MAC key.
 */
@SpringBootTest(
    classes = TestApp.class,
    webEnvironment = SpringBootTest.WebEnvironment.DEFINED_PORT)
class AcmeExternalAccountTest {
  static final PostgresDatabase DB = TestNodes.database();
  static final Path DATA = TestNodes.dataDir("yinxin-acme-eab-");
  static final int PORT = FreePorts.next();
  static final String BASE = "http://127.0.0.1:" + PORT;
  static final String DIRECTORY = BASE + "/acme/directory";
  static final String OPERATOR = "eab-operator-" + java.util.UUID.randomUUID();
  static final HttpClient HTTP = HttpClient.newHttpClient();
  static final ObjectMapper JSON = new ObjectMapper();

  @DynamicPropertySource
  static void props(DynamicPropertyRegistry r) {
    AcmeTest.node(r, DB, DATA, PORT);
    r.add("yinxin.ca.acme.external-account-required", () -> "true");
    r.add("yinxin.ca.operators[0].name", () -> "ra-eab");
    r.add(
        "yinxin.ca.operators[0].token-sha256",
        () -> HexFormat.of().formatHex(CaOperators.sha256(OPERATOR)));
    r.add("yinxin.ca.operators[0].scopes", () -> "ca:issue,ca:read");
  }

  private static HttpResponse<String> newKey(String label, String token) throws Exception {
    return send(
        "POST",
        "/ca/v1/acme/eab-keys"
            + (label == null
                ? ""
                : "?label=" + java.net.URLEncoder.encode(label, StandardCharsets.UTF_8)),
        token);
  }

  private static HttpResponse<String> send(String method, String path, String token)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(BASE + path))
            .method(method, HttpRequest.BodyPublishers.noBody());
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> key(String label) throws Exception {
    HttpResponse<String> r = newKey(label, OPERATOR);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    assertThat(r.headers().firstValue("Cache-Control")).hasValue("no-store");
    return JSON.readValue(r.body(), Map.class);
  }

  private static Account account(String kid, String hmacKey) throws Exception {
    return new AccountBuilder()
        .agreeToTermsOfService()
        .withKeyIdentifier(kid, hmacKey)
        .useKeyPair(TestCsr.ec("secp256r1"))
        .create(new Session(URI.create(DIRECTORY)));
  }

  @Test
  void acme4jOpensAnAccountOnlyWithAnOperatorsKeyAndEachKeyOnce() throws Exception {
    String directory =
        HTTP.send(
                HttpRequest.newBuilder(URI.create(DIRECTORY)).build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    assertThat(directory).contains("\"externalAccountRequired\":true");
    assertThatThrownBy(
            () ->
                new AccountBuilder()
                    .agreeToTermsOfService()
                    .useKeyPair(TestCsr.ec("secp256r1"))
                    .create(new Session(URI.create(DIRECTORY))))
        .isInstanceOfSatisfying(
            AcmeServerException.class,
            e ->
                assertThat(e.getType().toString())
                    .isEqualTo("urn:ietf:params:acme:error:externalAccountRequired"));

    // Only an operator makes keys, and names whom for.
    assertThat(newKey("agency-a", null).statusCode()).isEqualTo(401);
    assertThat(newKey("agency-a", "not-a-token").statusCode()).isEqualTo(401);
    assertThat(newKey(null, OPERATOR).statusCode()).isEqualTo(400);
    assertThat(newKey(" padded ", OPERATOR).statusCode()).isEqualTo(400);
    assertThat(newKey("x".repeat(201), OPERATOR).statusCode()).isEqualTo(400);

    Map<String, Object> k = key("agency-a");
    String kid = (String) k.get("kid");
    String mac = (String) k.get("hmacKey");
    assertThat(java.util.Base64.getUrlDecoder().decode(mac)).hasSize(32);
    Account a = account(kid, mac);
    assertThat(a.getLocation().toString()).startsWith(BASE + "/acme/acct/");
    // Spent: it binds no second account.
    assertThatThrownBy(() -> account(kid, mac))
        .isInstanceOfSatisfying(
            AcmeServerException.class,
            e -> assertThat(e.getType().toString()).endsWith(":unauthorized"));

    // A wrong MAC key binds nothing, and leaves the key unspent.
    Map<String, Object> k2 = key("agency-b");
    String kid2 = (String) k2.get("kid");
    byte[] wrong = new byte[32];
    new java.security.SecureRandom().nextBytes(wrong);
    assertThatThrownBy(
            () ->
                account(
                    kid2, java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(wrong)))
        .isInstanceOfSatisfying(
            AcmeServerException.class,
            e -> assertThat(e.getType().toString()).endsWith(":unauthorized"));
    assertThatThrownBy(() -> account("no-such-kid", mac)).isInstanceOf(AcmeServerException.class);

    // Four clients race with one key: one account is opened.
    ExecutorService pool = Executors.newFixedThreadPool(4);
    String mac2 = (String) k2.get("hmacKey");
    List<Future<Object>> raced = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      raced.add(
          pool.submit(
              () -> {
                try {
                  return account(kid2, mac2);
                } catch (AcmeServerException e) {
                  return e;
                }
              }));
    }
    int opened = 0;
    for (Future<Object> f : raced) {
      Object r = f.get(60, TimeUnit.SECONDS);
      if (r instanceof Account) {
        opened++;
      } else {
        assertThat(((AcmeServerException) r).getType().toString()).endsWith(":unauthorized");
      }
    }
    pool.shutdown();
    assertThat(opened).isEqualTo(1);

    // Operators see the keys, never their MAC keys, and take them back: a spent key's account is
    // deactivated (it orders nothing more), an unspent key binds nothing more.
    HttpResponse<String> listed = send("GET", "/ca/v1/acme/eab-keys", OPERATOR);
    assertThat(listed.statusCode()).isEqualTo(200);
    assertThat(listed.body())
        .contains(kid, "agency-a", "ra-eab", a.getLocation().toString())
        .doesNotContain(mac)
        .doesNotContain("hmacKey");
    assertThat(send("DELETE", "/ca/v1/acme/eab-keys/" + kid, null).statusCode()).isEqualTo(401);
    assertThat(send("DELETE", "/ca/v1/acme/eab-keys/no-such-kid", OPERATOR).statusCode())
        .isEqualTo(404);
    HttpResponse<String> revoked = send("DELETE", "/ca/v1/acme/eab-keys/" + kid, OPERATOR);
    assertThat(revoked.statusCode()).as(revoked.body()).isEqualTo(200);
    assertThat(revoked.body()).contains("\"deactivatedAccount\":\"" + a.getLocation() + "\"");
    assertThatThrownBy(() -> a.newOrder().domains("eab.gov.localhost").create())
        .isInstanceOfSatisfying(
            AcmeServerException.class,
            e -> assertThat(e.getType().toString()).endsWith(":unauthorized"));
    Map<String, Object> k3 = key("agency-c");
    assertThat(send("DELETE", "/ca/v1/acme/eab-keys/" + k3.get("kid"), OPERATOR).statusCode())
        .isEqualTo(200);
    assertThatThrownBy(() -> account((String) k3.get("kid"), (String) k3.get("hmacKey")))
        .isInstanceOfSatisfying(
            AcmeServerException.class,
            e -> assertThat(e.getType().toString()).endsWith(":unauthorized"));

    try (Connection c = DriverManager.getConnection(DB.url(), PostgresDatabase.USER, "");
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT (SELECT COUNT(*) FROM ca.acme_accounts WHERE eab_kid = ?),"
                    + " (SELECT COUNT(*) FROM audit.events WHERE subject = ? AND type ="
                    + " 'CONFIG_CHANGED'),"
                    + " (SELECT COUNT(*) FROM audit.events WHERE event LIKE ?)")) {
      ps.setString(1, kid2);
      ps.setString(2, "acme-eab-key:" + kid);
      ps.setString(3, "%" + mac2 + "%");
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        assertThat(rs.getInt(1)).isEqualTo(1);
        assertThat(rs.getInt(2)).as("created, revoked").isEqualTo(2);
        assertThat(rs.getInt(3)).isZero();
      }
    }
  }

  /** certbot, another client: refused without a binding, registered with one. */
  @Test
  void certbotRegistersWithTheKeyAndIsRefusedWithout() throws Exception {
    Map<String, Object> k = key("agency-certbot");
    Path dir = Files.createTempDirectory(DATA, "certbot-eab-");
    String without = certbot(dir.resolve("a"));
    assertThat(without).contains("external account");
    String with =
        certbot(
            dir.resolve("b"),
            "--eab-kid",
            (String) k.get("kid"),
            "--eab-hmac-key",
            (String) k.get("hmacKey"));
    assertThat(with).contains("Account registered");
  }

  /** Runs {@code certbot register} against the CA; its output, after asserting how it exited. */
  private static String certbot(Path dir, String... eab) throws Exception {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "certbot",
                "register",
                "--non-interactive",
                "--agree-tos",
                "--register-unsafely-without-email",
                "--server",
                DIRECTORY,
                "--config-dir",
                dir.resolve("config").toString(),
                "--work-dir",
                dir.resolve("work").toString(),
                "--logs-dir",
                dir.resolve("logs").toString()));
    cmd.addAll(List.of(eab));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(out).isEqualTo(eab.length == 0 ? 1 : 0);
    return out;
  }
}
