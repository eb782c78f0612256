package io.yinxin.sso;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jwt.SignedJWT;
import io.yinxin.sso.account.Accounts;
import io.yinxin.sso.client.DemoClient;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.json.JsonMapper;

/**
 * Password + TOTP through the pages, with {@code oathtool} (Debian's OATH toolkit) as the
 * authenticator app: enrolment from the page's secret, the second step after the password (the
 * session is not signed in before it, and gets a new id after it), amr/acr in the ID token, codes
 * and recovery codes good once, and five wrong codes blocking the second step with the time to try
 * again, each attempt audited.
 */
@SpringBootTest(
    classes = OpenIdProviderTest.App.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class SecondFactorTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final String REDIRECT = "http://127.0.0.1:8000/callback";

  @DynamicPropertySource
  static void props(DynamicPropertyRegistry r) throws Exception {
    OpenIdProviderTest.h2Node(r, "sso-2fa");
  }

  @LocalServerPort int port;
  @Autowired Accounts accounts;
  @Autowired DemoClient client;
  @Autowired DataSource dataSource;
  @Autowired io.yinxin.audit.store.LogStore auditStore;

  private String base() {
    return "http://127.0.0.1:" + port;
  }

  /** A TOTP code from oathtool, {@code offset} seconds from now. */
  static String oathtool(String base32, int offset) throws Exception {
    Process p =
        new ProcessBuilder(
                "oathtool",
                "--totp",
                "-b",
                "-N",
                "now " + (offset >= 0 ? "+" : "") + offset + " seconds",
                base32)
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(out).as("oathtool").matches("[0-9]{6}");
    return out;
  }

  /**
   * An authenticator app set up on {@code /account/totp}: its secret, and the page that said so.
   */
  record AppSetUp(String secret, HttpResponse<String> page) {}

  /** Sets up an app for whoever the browser is signed in as, oathtool being the app. */
  static AppSetUp setUpApp(Browser b) throws Exception {
    HttpResponse<String> enrol = b.get("/account/totp");
    assertThat(enrol.statusCode()).isEqualTo(200);
    String secret =
        Browser.group("id=\"totp-secret\">([A-Z2-7 ]+)<", enrol.body()).replace(" ", "");
    HttpResponse<String> done =
        b.post(
            "/account/totp",
            Map.of(
                "code",
                oathtool(secret, 0),
                "_csrf",
                Browser.group("name=\"_csrf\" value=\"([^\"]+)\"", enrol.body())),
            null);
    assertThat(done.body()).contains("recovery-codes");
    return new AppSetUp(secret, done);
  }

  /** Gives the second step ({@code /login/otp}) a code; the answer. */
  static HttpResponse<String> secondStep(Browser b, String code) throws Exception {
    HttpResponse<String> page = b.get("/login/otp");
    return b.post(
        "/login/otp",
        Map.of(
            "code", code, "_csrf", Browser.group("name=\"_csrf\" value=\"([^\"]+)\"", page.body())),
        null);
  }

  private record Enrolled(String secret, List<String> recoveryCodes) {}

  /** RFC 4648 base32, decoded here (not by the server's code). */
  private static byte[] base32(String text) {
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    int buffer = 0;
    int bits = 0;
    for (char ch : text.replace("=", "").toUpperCase(java.util.Locale.ROOT).toCharArray()) {
      buffer = (buffer << 5) | alphabet.indexOf(ch);
      bits += 5;
      if (bits >= 8) {
        out.write((buffer >> (bits - 8)) & 0xff);
        bits -= 8;
      }
    }
    return out.toByteArray();
  }

  /** Signs {@code user} in (password only) on a fresh browser and enrols TOTP through the page. */
  private Enrolled enrol(String user, String password) throws Exception {
    accounts.create(user, password, user);
    Browser b = new Browser(base());
    String login = Browser.location(b.get("/account/totp"));
    assertThat(login).endsWith("/login");
    String csrf = Browser.group("name=\"_csrf\" value=\"([^\"]+)\"", b.get("/login").body());
    HttpResponse<String> signedIn =
        b.post("/login", Map.of("username", user, "password", password, "_csrf", csrf), null);
    HttpResponse<String> page = b.get(Browser.location(signedIn));
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.body())
        .contains("<html lang=\"zh-CN\">", "<svg", "role=\"img\"", "aria-label=\"身份验证器二维码\"")
        .doesNotContain("src=\"http");
    String secret = Browser.group("id=\"totp-secret\">([A-Z2-7 ]+)<", page.body()).replace(" ", "");
    assertThat(secret).hasSize(32); // 160 bits
    String pageCsrf = Browser.group("name=\"_csrf\" value=\"([^\"]+)\"", page.body());
    HttpResponse<String> wrong =
        b.post("/account/totp", Map.of("code", "12345", "_csrf", pageCsrf), null);
    assertThat(wrong.body()).contains("验证码不正确");
    HttpResponse<String> done =
        b.post("/account/totp", Map.of("code", oathtool(secret, 0), "_csrf", pageCsrf), null);
    assertThat(done.statusCode()).isEqualTo(200);
    List<String> codes = new ArrayList<>();
    Matcher m =
        Pattern.compile("<li><code>([a-z2-7]{5}-[a-z2-7]{5})</code></li>").matcher(done.body());
    while (m.find()) {
      codes.add(m.group(1));
    }
    assertThat(codes).hasSize(10).doesNotHaveDuplicates();
    return new Enrolled(secret, codes);
  }

  /** Starts a code flow on a fresh browser and passes the password step: now at /login/otp. */
  private Browser passwordStep(String user, String password, String challenge) throws Exception {
    Browser b = new Browser(base());
    HttpResponse<String> r = b.get(authorizeUrl(challenge));
    assertThat(Browser.location(r)).endsWith("/login");
    String csrf = Browser.group("name=\"_csrf\" value=\"([^\"]+)\"", b.get("/login").body());
    r = b.post("/login", Map.of("username", user, "password", password, "_csrf", csrf), null);
    assertThat(Browser.location(r)).endsWith("/login/otp");
    // Not signed in yet: the provider still sends the browser to sign in.
    assertThat(Browser.location(b.get(authorizeUrl(challenge)))).endsWith("/login");
    return b;
  }

  private HttpResponse<String> otp(Browser b, String code) throws Exception {
    HttpResponse<String> page = b.get("/login/otp");
    assertThat(page.statusCode()).isEqualTo(200);
    String csrf = Browser.group("name=\"_csrf\" value=\"([^\"]+)\"", page.body());
    return b.post("/login/otp", Map.of("code", code, "_csrf", csrf), null);
  }

  private String authorizeUrl(String challenge) {
    return "/oauth2/authorize?response_type=code&client_id="
        + client.clientId()
        + "&scope=openid&state=s-1&nonce=n-1&code_challenge_method=S256&code_challenge="
        + challenge
        + "&redirect_uri="
        + URLEncoder.encode(REDIRECT, StandardCharsets.UTF_8);
  }

  @Test
  void passwordThenTotpSignsInWithANewSessionAndTheIdTokenSaysSo() throws Exception {
    Enrolled e = enrol("ada", "ada-password-1");
    // At rest the secret is sealed under the data protection key, not the secret itself.
    try (var c = dataSource.getConnection();
        var ps = c.prepareStatement("SELECT secret FROM sso.totp_credentials WHERE username = ?")) {
      ps.setString(1, "ada");
      try (var rs = ps.executeQuery()) {
        assertThat(rs.next()).isTrue();
        byte[] stored = rs.getBytes(1);
        byte[] raw = base32(e.secret());
        assertThat(raw).hasSize(20); // the 160-bit secret the page showed
        assertThat(stored.length).isGreaterThan(raw.length + 16);
        assertThat(new String(stored, java.nio.charset.StandardCharsets.ISO_8859_1))
            .doesNotContain(new String(raw, java.nio.charset.StandardCharsets.ISO_8859_1))
            .doesNotContain(java.util.Base64.getEncoder().encodeToString(raw));
      }
    }
    String verifier = Browser.verifier();
    String challenge = Browser.challenge(verifier);
    Browser b = passwordStep("ada", "ada-password-1", challenge);
    // The password alone earns no device cookie: it would exempt this browser's password attempts
    // from the account's block (DeviceCookies) before the sign-in is complete.
    assertThat(b.cookie(io.yinxin.sso.account.DeviceCookies.COOKIE)).isNull();
    String before = b.sessionId();
    HttpResponse<String> wrong =
        otp(b, "000000".equals(oathtool(e.secret(), 30)) ? "111111" : "000000");
    assertThat(wrong.statusCode()).isEqualTo(200);
    assertThat(wrong.body()).contains("验证码不正确");
    // The next step's code (the current one was spent by the enrolment).
    String spent = oathtool(e.secret(), 30);
    HttpResponse<String> ok = otp(b, spent);
    String back = Browser.location(ok);
    assertThat(back).contains("/oauth2/authorize");
    assertThat(b.cookie(io.yinxin.sso.account.DeviceCookies.COOKIE)).isNotNull();
    assertThat(b.sessionId()).isNotNull().isNotEqualTo(before);
    HttpResponse<String> r = b.get(back);
    String code = Browser.query(Browser.location(r)).get("code");
    String basic = Browser.basic(client.clientId(), client.secret().orElseThrow());
    HttpResponse<String> tokens = b.tokensFor(code, REDIRECT, verifier, basic);
    assertThat(tokens.statusCode()).as(tokens.body()).isEqualTo(200);
    SignedJWT id = SignedJWT.parse(JSON.readTree(tokens.body()).path("id_token").asString());
    assertThat(id.getJWTClaimsSet().getStringListClaim("amr")).containsExactly("pwd", "otp", "mfa");
    assertThat(id.getJWTClaimsSet().getStringClaim("acr")).isEqualTo("urn:yinxin:loa:2");

    // The same code again, in another sign-in: refused (used once). A recovery code works once.
    // (The very code, not one computed again: across a 30 s boundary that would be the next.)
    Browser again = passwordStep("ada", "ada-password-1", challenge);
    assertThat(otp(again, spent).statusCode()).isEqualTo(200);
    assertThat(Browser.location(otp(again, e.recoveryCodes().get(0))))
        .contains("/oauth2/authorize");
    Browser third = passwordStep("ada", "ada-password-1", challenge);
    assertThat(otp(third, e.recoveryCodes().get(0)).body()).contains("验证码不正确");
  }

  @Test
  void fiveWrongCodesBlockTheSecondStepAndSayUntilWhenAndEveryAttemptIsAudited() throws Exception {
    Enrolled e = enrol("bea", "bea-password-1");
    Browser b = passwordStep("bea", "bea-password-1", Browser.challenge(Browser.verifier()));
    String right = oathtool(e.secret(), 30);
    String wrongCode = right.equals("123456") ? "654321" : "123456";
    HttpResponse<String> last = null;
    for (int i = 0; i < 5; i++) {
      last = otp(b, wrongCode);
    }
    assertThat(last.body())
        .contains("错误次数过多")
        .containsPattern("\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}");
    // Even the right code is refused while blocked.
    assertThat(otp(b, right).body()).contains("错误次数过多");
    assertThat(
            AuditEvents.countFor(
                dataSource, auditStore, "LOGIN_FAILED", "bea", "\"method\":\"otp\""))
        .isEqualTo(6);
  }

  @Test
  void theSecondStepPageNeedsAPasswordStepFirst() throws Exception {
    Browser b = new Browser(base());
    assertThat(Browser.location(b.get("/login/otp"))).isEqualTo("/login");
    String csrf = Browser.group("name=\"_csrf\" value=\"([^\"]+)\"", b.get("/login").body());
    assertThat(
            Browser.location(b.post("/login/otp", Map.of("code", "123456", "_csrf", csrf), null)))
        .isEqualTo("/login");
  }
}
