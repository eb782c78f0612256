package io.yinxin.sso;

import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.hsm.testing.FreePorts;
import io.yinxin.sso.account.Accounts;
import io.yinxin.sso.realname.RealNames;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Citizen certificate sign-in over mutual TLS, judged by curl presenting the certificate: a good
 * certificate whose ID number belongs to an account signs that account in (and its OCSP answer is
 * cached until nextUpdate); a revoked, expired, foreign-CA or unknown person's certificate, or
 * none, is refused with the reason, each attempt audited. The citizen CA and its OCSP responder are
 * made here with Bouncy Castle (sso-service may not use the CA module's code).
 */
@SpringBootTest(
    classes = OpenIdProviderTest.App.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class CertificateLoginTest {
  private static final String ID = "11010519491231002X";
  private static final Path DIR = OpenIdProviderTest.tempDir("yinxin-cert-login-");
  private static final TestCa TEST_CA = new TestCa("CN=Test Citizen CA,O=Yinxin tests,C=CN");
  private static final KeyPair CA_KEY = TEST_CA.key;
  private static final X509Certificate CA = TEST_CA.certificate;
  private static final int TLS_PORT = FreePorts.next();

  @DynamicPropertySource
  static void props(DynamicPropertyRegistry r) throws Exception {
    OpenIdProviderTest.h2Node(r, "sso-certificate");
    Path pem = DIR.resolve("citizen-ca.pem");
    Files.writeString(pem, TestCredentials.pem(CA));
    r.add("yinxin.sso.citizen-ca", pem::toString);
    r.add("yinxin.sso.certificate-login-port", () -> TLS_PORT);
    // The main connector's limits, which the certificate port must share (ops sets 20 s, 16 KB).
    r.add("server.tomcat.connection-timeout", () -> "2s");
    r.add("server.tomcat.keep-alive-timeout", () -> "20s");
    r.add("server.max-http-request-header-size", () -> "16KB");
  }

  /**
   * Spring Boot gives its own connector the configured timeouts and header limit, not another: the
   * certificate port had Tomcat's 60 s for a client to send its request and 8 KB of headers.
   */
  @Test
  void theCertificatePortHasTheMainConnectorsTimeoutsAndHeaderLimit() throws Exception {
    try (java.net.Socket idle = new java.net.Socket("127.0.0.1", TLS_PORT)) {
      idle.setSoTimeout(15_000);
      long start = System.nanoTime();
      int read;
      try {
        read = idle.getInputStream().read();
      } catch (java.net.SocketException reset) {
        read = -1;
      }
      long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
      assertThat(read).isEqualTo(-1);
      assertThat(seconds).as("closed after the 2 s connection timeout").isBetween(1L, 8L);
    }
    String pad = "x".repeat(12_000);
    assertThat(curlHeader("X-Pad: " + pad)).startsWith("HTTP/1.1 200");
    assertThat(curlHeader("X-Pad: " + pad + pad)).startsWith("HTTP/1.1 400");
  }

  /** curl's answer for discovery on the certificate port, with one extra request header. */
  private static String curlHeader(String header) throws Exception {
    Process p =
        new ProcessBuilder(
                "curl",
                "-sSk",
                "-i",
                "--max-time",
                "20",
                "-H",
                header,
                "https://127.0.0.1:" + TLS_PORT + "/.well-known/openid-configuration")
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return out;
  }

  @Autowired Accounts accounts;
  @Autowired RealNames realNames;
  @Autowired DataSource dataSource;
  @Autowired io.yinxin.audit.store.LogStore auditStore;
  @Autowired io.yinxin.sso.account.LoginAudit loginAudit;
  @Autowired io.yinxin.sso.account.LoginThrottle throttle;

  @AfterAll
  static void stop() {
    TEST_CA.stop();
  }

  private static KeyPair keyPair() {
    return TestCa.ecKey();
  }

  /** A citizen authentication certificate (the CA's citizen-auth profile's shape). */
  private static X509Certificate citizen(
      KeyPair key, String idNumber, Instant notBefore, Instant notAfter, KeyPair issuerKey)
      throws Exception {
    return TEST_CA.issue(
        key, "C=CN,CN=赵六,SERIALNUMBER=" + idNumber, notBefore, notAfter, issuerKey);
  }

  /**
   * curl's answer (status line, headers, body) for {@code path} on the certificate port with this
   * certificate (or none), this cookie jar (or none) and any further curl arguments ({@code -d}).
   */
  private static String curl(
      X509Certificate cert, KeyPair key, String path, String cookieJar, String... extra)
      throws Exception {
    List<String> cmd = new ArrayList<>(List.of("curl", "-sSk", "-i", "--max-time", "20"));
    cmd.addAll(List.of(extra));
    if (cert != null) {
      cmd.addAll(TestCredentials.curlArguments(DIR, cert, key));
    }
    if (cookieJar != null) {
      cmd.addAll(List.of("-c", cookieJar, "-b", cookieJar));
    }
    cmd.add("https://127.0.0.1:" + TLS_PORT + path);
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return out;
  }

  private long events(String type, String contains) throws Exception {
    // Like SQL's LIKE: each part between % signs is in the event.
    return AuditEvents.count(
        dataSource,
        auditStore,
        type,
        java.util.Arrays.stream(contains.split("%"))
            .filter(t -> !t.isEmpty())
            .toArray(String[]::new));
  }

  @Test
  void curlWithAGoodCertificateSignsInItsPersonAndTheStatusIsCachedUntilNextUpdate()
      throws Exception {
    accounts.create("zhaoliu", "correct horse battery staple", "Zhao Liu");
    realNames.set("op", "zhaoliu", "赵六", Optional.of(ID), Optional.empty(), "self_declared");
    KeyPair key = keyPair();
    Instant now = Instant.now();
    X509Certificate cert =
        citizen(key, ID, now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(365)), CA_KEY);
    String jar = DIR.resolve("cookies-" + System.nanoTime()).toString();
    int before = TEST_CA.ocspRequests.get();
    String out = curl(cert, key, "/login/certificate", jar);
    assertThat(out).as(out).startsWith("HTTP/1.1 302").containsIgnoringCase("location: /account");
    assertThat(out).contains("YINXIN_SSO=");
    // The session is signed in as the certificate's person.
    String account = curl(null, null, "/account", jar);
    assertThat(account).as(account).startsWith("HTTP/1.1 200").contains("zhaoliu", "赵六");
    // Again: the responder is not asked twice before nextUpdate.
    assertThat(curl(cert, key, "/login/certificate", null)).startsWith("HTTP/1.1 302");
    assertThat(TEST_CA.ocspRequests.get() - before).isEqualTo(1);
    assertThat(events("LOGIN_SUCCEEDED", "%\"method\":\"x509\"%")).isGreaterThanOrEqualTo(2);
    assertThat(events("LOGIN_SUCCEEDED", "%" + ID + "%")).isZero();
  }

  @Test
  void revokedExpiredForeignUnknownOrMissingCertificatesAreRefusedWithTheReason() throws Exception {
    accounts.create("sunqi", "correct horse battery staple", "Sun Qi");
    String id = "110101199003074477";
    realNames.set("op", "sunqi", "孙七", Optional.of(id), Optional.empty(), "self_declared");
    Instant now = Instant.now();
    KeyPair key = keyPair();

    X509Certificate revoked =
        citizen(key, id, now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(365)), CA_KEY);
    TEST_CA.revoked.add(revoked.getSerialNumber());
    String r = curl(revoked, key, "/login/certificate", null);
    assertThat(r).startsWith("HTTP/1.1 403").contains("证书已被吊销");

    X509Certificate expired =
        citizen(key, id, now.minus(Duration.ofDays(30)), now.minus(Duration.ofDays(1)), CA_KEY);
    assertThat(curl(expired, key, "/login/certificate", null))
        .startsWith("HTTP/1.1 403")
        .contains("证书已过期");

    KeyPair otherCaKey = keyPair();
    X509Certificate foreign =
        citizen(
            key,
            id,
            now.minus(Duration.ofDays(1)),
            now.plus(Duration.ofDays(365)),
            otherCaKey); // names the same issuer, signed by another key
    assertThat(curl(foreign, key, "/login/certificate", null))
        .startsWith("HTTP/1.1 403")
        .contains("受信任");

    X509Certificate stranger =
        citizen(
            key,
            "11010519491231003X".substring(0, 17) + "8",
            now.minus(Duration.ofDays(1)),
            now.plus(Duration.ofDays(365)),
            CA_KEY);
    assertThat(curl(stranger, key, "/login/certificate", null)).startsWith("HTTP/1.1 403");

    assertThat(curl(null, null, "/login/certificate", null))
        .startsWith("HTTP/1.1 403")
        .contains("没有出示证书");
    assertThat(events("LOGIN_FAILED", "%\"result\":\"revoked\"%")).isEqualTo(1);
    assertThat(events("LOGIN_FAILED", "%\"result\":\"expired\"%")).isEqualTo(1);
    // A certificate the citizen CA did not issue, or none, costs the sender nothing: such attempts
    // are counted and recorded once a minute, not one event each.
    assertThat(events("LOGIN_FAILED", "%\"result\":\"untrusted\"%")).isZero();
    assertThat(events("LOGIN_FAILED", "%\"result\":\"no_certificate\"%")).isZero();
    loginAudit.recordTally();
    assertThat(events("LOGIN_FAILED", "%\"result\":\"untrusted\"%\"count\":\"1\"%")).isEqualTo(1);
    assertThat(events("LOGIN_FAILED", "%\"result\":\"no_certificate\"%\"count\":\"1\"%"))
        .isEqualTo(1);
    assertThat(events("LOGIN_FAILED", "%" + id + "%")).isZero();
  }

  /**
   * A person who forgot the password, and blocked the account guessing, signs in with the citizen
   * certificate and sets a new password on the account page without the current one (NIST SP
   * 800-63B §6.1.2.3: replaced after signing in with an authenticator at least as strong): the
   * blocks of the guesses are lifted, other sessions end, the new password signs in, a
   * password_replaced event is recorded. A password sign-in cannot do the same without the current
   * password. The sign-in page links to what a person who forgot it can do.
   */
  @Test
  void aCertificateSignInReplacesAForgottenPasswordWhichAPasswordSignInCannot() throws Exception {
    String old = "correct horse battery staple";
    String next = "an entirely fresh passphrase, 2026";
    accounts.create("qianba", old, "Qian Ba");
    String id = "110105198001010016";
    realNames.set("op", "qianba", "钱八", Optional.of(id), Optional.empty(), "self_declared");

    String viaPassword = jar();
    assertThat(signIn(viaPassword, "qianba", old)).doesNotContain("error");
    String pwdPage = curl(null, null, "/account", viaPassword);
    assertThat(pwdPage).startsWith("HTTP/1.1 200").doesNotContain("id=\"replace\"");
    String refused = setPassword(viaPassword, next, csrf(pwdPage));
    assertThat(refused).startsWith("HTTP/1.1 400").contains("当前密码不正确");

    for (int i = 0; i < 10 && throttle.passwordBlockedUntil("qianba").isEmpty(); i++) {
      signIn(jar(), "qianba", "wrong guess number " + i);
    }
    assertThat(throttle.passwordBlockedUntil("qianba")).as("blocked by the guesses").isPresent();

    KeyPair key = keyPair();
    Instant now = Instant.now();
    X509Certificate cert =
        citizen(key, id, now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(365)), CA_KEY);
    String viaCertificate = jar();
    assertThat(curl(cert, key, "/login/certificate", viaCertificate)).startsWith("HTTP/1.1 302");
    String page = curl(null, null, "/account", viaCertificate);
    assertThat(page).contains("id=\"replace\"", "当前密码（可不填）");
    assertThat(curl(null, null, "/account?lang=en", viaCertificate))
        .contains("Current password (optional)");
    String replaced = setPassword(viaCertificate, next, csrf(page));
    assertThat(replaced).startsWith("HTTP/1.1 200").contains("密码已修改", "其他 1 个会话已退出");

    assertThat(throttle.passwordBlockedUntil("qianba")).isEmpty();
    assertThat(signIn(jar(), "qianba", old)).contains("error");
    assertThat(signIn(jar(), "qianba", next)).startsWith("HTTP/1.1 302").doesNotContain("error");
    assertThat(events("CONFIG_CHANGED", "%password_replaced%")).isEqualTo(1);

    assertThat(curl(null, null, "/login", null)).contains("href=\"/login/forgot\"", "忘记密码？");
    assertThat(curl(null, null, "/login/forgot", null))
        .startsWith("HTTP/1.1 200")
        .contains("<html lang=\"zh-CN\">", "通行密钥或数字证书", "/login/certificate", "15 分钟")
        .contains("否则请联系服务台");
    assertThat(curl(null, null, "/login/forgot?lang=en", null))
        .contains("<html lang=\"en\">", "Forgot your password", "Otherwise ask the service desk");
  }

  private static String jar() {
    return DIR.resolve("cookies-" + System.nanoTime()).toString();
  }

  private static String csrf(String html) {
    return Browser.group("name=\"_csrf\"[^>]*value=\"([^\"]+)\"", html);
  }

  /** The sign-in form on the certificate port, sent in this cookie jar's session. */
  private static String signIn(String jar, String username, String password) throws Exception {
    String form = curl(null, null, "/login", jar);
    return curl(
        null,
        null,
        "/login",
        jar,
        "--data-urlencode",
        "username=" + username,
        "--data-urlencode",
        "password=" + password,
        "--data-urlencode",
        "_csrf=" + csrf(form));
  }

  /** The account page's password form without the current password. */
  private static String setPassword(String jar, String next, String csrf) throws Exception {
    return curl(
        null,
        null,
        "/account/password",
        jar,
        "--data-urlencode",
        "password=" + next,
        "--data-urlencode",
        "repeat=" + next,
        "--data-urlencode",
        "_csrf=" + csrf);
  }
}
