package io.yinxin.sso;

import static io.yinxin.sso.Browser.location;
import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.sso.account.Accounts;
import io.yinxin.sso.account.SecondFactors;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Changing how an account signs in needs a recent sign-in ({@code RecentSignIn}): with a session
 * older than {@code yinxin.sso.credential-change-max-age} (3 s here), the TOTP and passkey pages
 * send the person to sign in again and back, and a change sent later than three times that is
 * refused and changes nothing, even with a right code. And a sign-in lasts at most {@code
 * yinxin.sso.session-max-lifetime} (15 s here), however busy its session ({@code SignInLifetime}).
 */
@SpringBootTest(
    classes = OpenIdProviderTest.App.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class RecentSignInTest {
  private static final String PASSWORD = "recent sign-in pass 7";
  private static final long MAX_AGE_MS = 3_000;
  private static final long LIFETIME_MS = 15_000;
  private static final String REDIRECT = "http://127.0.0.1:8000/callback";

  @DynamicPropertySource
  static void props(DynamicPropertyRegistry r) {
    OpenIdProviderTest.h2Node(r, "sso-recent-sign-in");
    r.add("yinxin.sso.credential-change-max-age", () -> MAX_AGE_MS + "ms");
    r.add("yinxin.sso.passkeys-rp-id", () -> "localhost");
    r.add("yinxin.sso.passkeys-origins[0]", () -> "http://localhost:1");
    r.add("yinxin.sso.session-max-lifetime", () -> LIFETIME_MS + "ms");
  }

  @LocalServerPort int port;
  @Autowired Accounts accounts;
  @Autowired SecondFactors factors;
  @Autowired io.yinxin.sso.client.DemoClient demo;
  @Autowired javax.sql.DataSource dataSource;

  private static String csrf(HttpResponse<String> page) {
    return Browser.group("name=\"_csrf\" value=\"([^\"]+)\"", page.body());
  }

  @Test
  void credentialPagesAskAnOldSessionToSignInAgainAndLateChangesChangeNothing() throws Exception {
    accounts.create("recent.user", PASSWORD, "Recent");
    Browser b = new Browser("http://127.0.0.1:" + port);
    assertThat(location(b.signIn("recent.user", PASSWORD))).doesNotContain("/login");

    // Just signed in: the pages open, and a passkey ceremony may start.
    HttpResponse<String> totp = b.get("/account/totp");
    assertThat(totp.statusCode()).isEqualTo(200);
    assertThat(totp.body()).contains("id=\"totp-secret\"");
    assertThat(b.get("/webauthn/register").statusCode()).isEqualTo(200);
    HttpResponse<String> options =
        b.post("/webauthn/register/options", Map.of("_csrf", csrf(totp)), null);
    assertThat(options.statusCode()).as(options.body()).isEqualTo(200);
    assertThat(options.body()).contains("\"challenge\"");

    // Older than the maximum age: both pages send the browser to sign in again, saying why.
    Thread.sleep(MAX_AGE_MS + 500);
    for (String page : new String[] {"/account/totp", "/webauthn/register"}) {
      HttpResponse<String> r = b.get(page);
      assertThat(r.statusCode()).as(page).isEqualTo(302);
      assertThat(location(r)).as(page).endsWith("/login?reauth");
    }
    assertThat(b.get("/login?reauth&lang=en").body())
        .contains("Sign in again to confirm it is you before you change how you sign in.");
    assertThat(b.get("/login?reauth").body()).contains("更改登录方式前，请重新登录以确认是您本人。");
    // Signing in again brings the browser back to the page it asked for (the last one saved).
    String back = location(b.signIn("recent.user", PASSWORD));
    assertThat(back).contains("/webauthn/register");
    assertThat(b.get(back).statusCode()).isEqualTo(200);
    HttpResponse<String> again = b.get("/account/totp");
    assertThat(again.statusCode()).isEqualTo(200);
    String secret =
        Browser.group("id=\"totp-secret\">([A-Z2-7 ]+)<", again.body()).replace(" ", "");

    // The change comes more than three times the maximum age after that sign-in: a right code
    // for the secret the page showed is not taken, the form goes back to its page.
    Thread.sleep(3 * MAX_AGE_MS + 500);
    HttpResponse<String> late =
        b.post(
            "/account/totp",
            Map.of("code", SecondFactorTest.oathtool(secret, 0), "_csrf", csrf(again)),
            null);
    assertThat(location(late)).endsWith("/account/totp");
    assertThat(factors.hasTotp("recent.user")).isFalse();
    HttpResponse<String> lateOptions =
        b.post("/webauthn/register/options", Map.of("_csrf", csrf(again)), null);
    assertThat(lateOptions.statusCode()).isEqualTo(403);
    assertThat(lateOptions.body()).contains("sign_in_again");
    // A page the sign-in does not guard is still open.
    assertThat(b.get("/account").statusCode()).isEqualTo(200);
  }

  private String authorize() throws Exception {
    return "/oauth2/authorize?response_type=code&client_id="
        + demo.clientId()
        + "&scope=openid&state=s&code_challenge_method=S256&code_challenge="
        + Browser.challenge(Browser.verifier())
        + "&redirect_uri="
        + java.net.URLEncoder.encode(REDIRECT, java.nio.charset.StandardCharsets.UTF_8);
  }

  private boolean sessionStored(String cookie) throws Exception {
    String id =
        new String(
            java.util.Base64.getDecoder().decode(cookie), java.nio.charset.StandardCharsets.UTF_8);
    try (var c = dataSource.getConnection();
        var ps = c.prepareStatement("SELECT 1 FROM sso.spring_session WHERE session_id = ?")) {
      ps.setString(1, id);
      try (var rs = ps.executeQuery()) {
        return rs.next();
      }
    }
  }

  @Test
  void aSignInEndsAfterItsMaximumLifetimeHoweverBusyItsSession() throws Exception {
    accounts.create("busy.user", PASSWORD, "Busy");
    Browser b = new Browser("http://127.0.0.1:" + port);
    long signedIn = System.nanoTime();
    assertThat(location(b.signIn("busy.user", PASSWORD))).doesNotContain("/login");
    String cookie = b.sessionId();
    assertThat(sessionStored(cookie)).isTrue();
    // Used every two seconds (far inside the idle timeout): the session keeps working.
    while (System.nanoTime() - signedIn < (LIFETIME_MS - 4_000) * 1_000_000L) {
      assertThat(b.get("/account").statusCode()).isEqualTo(200);
      Thread.sleep(2_000);
    }
    assertThat(location(b.get(authorize()))).startsWith(REDIRECT + "?").contains("code=");
    // Past the lifetime: the session is gone from the store, and the provider asks for a sign-in
    // again, for a portal as for the account page.
    long left = LIFETIME_MS + 500 - (System.nanoTime() - signedIn) / 1_000_000L;
    Thread.sleep(Math.max(0, left));
    assertThat(location(b.get(authorize()))).endsWith("/login");
    assertThat(sessionStored(cookie)).isFalse();
    assertThat(location(b.get("/account"))).endsWith("/login");
    // Signing in again gives a new sign-in with its own lifetime.
    b.signIn("busy.user", PASSWORD);
    assertThat(b.get("/account").statusCode()).isEqualTo(200);
  }
}
