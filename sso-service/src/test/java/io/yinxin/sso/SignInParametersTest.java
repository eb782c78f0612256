package io.yinxin.sso;

import static io.yinxin.sso.Browser.location;
import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jwt.SignedJWT;
import io.yinxin.sso.account.Accounts;
import io.yinxin.sso.client.DemoClient;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.json.JsonMapper;

/**
 * OpenID Connect's sign-in parameters (Core §3.1.2.1). {@code prompt=login} and {@code max_age}: a
 * signed-in person is sent to sign in again before the client gets a code, the ID token's {@code
 * auth_time} is that new sign-in's, and the new sign-in answers only the request that asked for it.
 * {@code ui_locales} and {@code login_hint}: the sign-in page's language and username.
 */
@SpringBootTest(
    classes = OpenIdProviderTest.App.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class SignInParametersTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final String REDIRECT = "http://127.0.0.1:8000/callback";
  private static final String PASSWORD = "correct horse battery staple";

  @DynamicPropertySource
  static void props(DynamicPropertyRegistry r) {
    OpenIdProviderTest.h2Node(r, "sso-fresh-sign-in");
  }

  @LocalServerPort int port;
  @Autowired Accounts accounts;
  @Autowired DemoClient demo;
  @Autowired io.yinxin.sso.client.ClientAdmin clientAdmin;

  private String base() {
    return "http://127.0.0.1:" + port;
  }

  private String authorize(String verifier, String state, String extra) throws Exception {
    return "/oauth2/authorize?response_type=code&client_id="
        + demo.clientId()
        + "&scope=openid&state="
        + state
        + "&code_challenge_method=S256&code_challenge="
        + Browser.challenge(verifier)
        + "&redirect_uri="
        + URLEncoder.encode(REDIRECT, StandardCharsets.UTF_8)
        + extra;
  }

  /** The ID token the client gets for a code. */
  private String idToken(Browser b, String code, String verifier) throws Exception {
    HttpResponse<String> tokens =
        b.tokensFor(
            code, REDIRECT, verifier, Browser.basic(demo.clientId(), demo.secret().orElseThrow()));
    assertThat(tokens.statusCode()).as(tokens.body()).isEqualTo(200);
    return JSON.readTree(tokens.body()).path("id_token").asString();
  }

  /** The ID token's auth_time for a code. */
  private Instant authTime(Browser b, String code, String verifier) throws Exception {
    return SignedJWT.parse(idToken(b, code, verifier))
        .getJWTClaimsSet()
        .getDateClaim("auth_time")
        .toInstant();
  }

  /** A signed-in browser's ID token, from a code flow without any parameter. */
  private String idTokenOf(Browser b) throws Exception {
    String v = Browser.verifier();
    return idToken(b, Browser.query(location(b.get(authorize(v, "t", "")))).get("code"), v);
  }

  /** Signs in on the page a request was sent to; the request saved for after it. */
  private static String signInAgain(Browser b) throws Exception {
    String back = location(b.signIn("fresh.user", PASSWORD));
    assertThat(back).contains("/oauth2/authorize");
    return back;
  }

  @Test
  void promptLoginAndMaxAgeSendASignedInPersonToSignInAgain() throws Exception {
    accounts.create("fresh.user", PASSWORD, "Fresh");
    Browser b = new Browser(base());
    assertThat(location(b.signIn("fresh.user", PASSWORD))).doesNotContain("/login");

    // Signed in a moment ago: without prompt, or within max_age, the code comes at once.
    String v = Browser.verifier();
    String plain = location(b.get(authorize(v, "a", "")));
    assertThat(plain).startsWith(REDIRECT + "?");
    Instant first = authTime(b, Browser.query(plain).get("code"), v);
    assertThat(location(b.get(authorize(Browser.verifier(), "b", "&max_age=3600"))))
        .startsWith(REDIRECT + "?")
        .contains("code=");

    // prompt=login: to the sign-in page, then back to this request, then the code.
    Thread.sleep(1100); // auth_time has whole seconds
    v = Browser.verifier();
    String asking = authorize(v, "c", "&prompt=login");
    assertThat(location(b.get(asking))).endsWith("/login");
    String back = signInAgain(b);
    String code = Browser.query(location(b.get(back))).get("code");
    assertThat(code).isNotNull();
    Instant second = authTime(b, code, v);
    assertThat(second).isAfter(first);

    // That new sign-in answered its own request only: another one with prompt=login asks again.
    assertThat(location(b.get(authorize(Browser.verifier(), "d", "&prompt=login"))))
        .endsWith("/login");
    // max_age=0 is a fresh sign-in every time, as well.
    Thread.sleep(1100);
    v = Browser.verifier();
    assertThat(location(b.get(authorize(v, "e", "&max_age=0")))).endsWith("/login");
    code = Browser.query(location(b.get(signInAgain(b)))).get("code");
    assertThat(authTime(b, code, v)).isAfter(second);

    // With prompt=none the client is told, not the person asked.
    Map<String, String> none =
        Browser.query(
            location(b.get(authorize(Browser.verifier(), "f", "&prompt=none&max_age=0"))));
    assertThat(none).containsEntry("error", "login_required").containsEntry("state", "f");
    assertThat(none).doesNotContainKey("code");
  }

  /** The acr and amr of the ID token a code gets. */
  private com.nimbusds.jwt.JWTClaimsSet idClaims(Browser b, String location, String verifier)
      throws Exception {
    assertThat(location).startsWith(REDIRECT + "?").contains("code=");
    return SignedJWT.parse(idToken(b, Browser.query(location).get("code"), verifier))
        .getJWTClaimsSet();
  }

  private static final String TWO = "&acr_values=urn%3Ayinxin%3Aloa%3A2";

  @Test
  void acrValuesForTwoFactorsStepASignInUp() throws Exception {
    accounts.create("step.up", PASSWORD, "Step up");
    Browser b = new Browser(base());
    assertThat(location(b.signIn("step.up", PASSWORD))).doesNotContain("/login");

    // One factor is enough where the request accepts it, or names no level this provider knows.
    for (String acr :
        new String[] {
          "&acr_values=urn%3Ayinxin%3Aloa%3A1",
          "&acr_values=urn%3Ayinxin%3Aloa%3A2+urn%3Ayinxin%3Aloa%3A1",
          "&acr_values=urn%3Aexample%3Agold",
          ""
        }) {
      String v = Browser.verifier();
      assertThat(idClaims(b, location(b.get(authorize(v, "one", acr))), v).getStringClaim("acr"))
          .as(acr)
          .isEqualTo("urn:yinxin:loa:1");
    }
    // Two factors asked of a one-factor sign-in: with prompt=none the portal is told...
    Map<String, String> none =
        Browser.query(location(b.get(authorize(Browser.verifier(), "n", TWO + "&prompt=none"))));
    assertThat(none).containsEntry("error", "login_required").doesNotContainKey("code");

    // ... otherwise the person signs in again, told why, and, having no authenticator app, sets
    // one up (on the way, nothing else opens); then the portal gets its code, with two factors.
    String v = Browser.verifier();
    String asking = authorize(v, "two", TWO);
    assertThat(location(b.get(asking))).endsWith("/login?stepup");
    assertThat(b.get("/login?stepup&lang=en").body())
        .contains("This service asks for two-step verification");
    assertThat(b.get("/login?stepup&lang=zh-CN").body()).contains("该服务要求两步验证");
    assertThat(location(b.signIn("step.up", PASSWORD))).endsWith("/account/totp");
    // (The last page asked for on the way is where the enrolment goes on to.)
    assertThat(location(b.get("/account"))).endsWith("/account/totp");
    assertThat(location(b.get(asking))).endsWith("/account/totp");
    HttpResponse<String> done = SecondFactorTest.setUpApp(b).page();
    String next =
        Browser.group("id=\"continue\" href=\"([^\"]+)\"", done.body()).replace("&amp;", "&");
    assertThat(next).contains("acr_values=urn%3Ayinxin%3Aloa%3A2");
    var claims = idClaims(b, location(b.get(next)), v);
    assertThat(claims.getStringClaim("acr")).isEqualTo("urn:yinxin:loa:2");
    assertThat(claims.getStringListClaim("amr")).containsExactly("pwd", "otp", "mfa");
    // The session has two factors now: the next such request is answered at once.
    v = Browser.verifier();
    assertThat(idClaims(b, location(b.get(authorize(v, "again", TWO))), v).getStringClaim("acr"))
        .isEqualTo("urn:yinxin:loa:2");
  }

  @Test
  void anAccountWithAnAppStepsUpWithItsCode() throws Exception {
    // Signed in with the password only, then set up an app: the session stays at one factor.
    accounts.create("step.up.app", PASSWORD, "Step up app");
    Browser b = new Browser(base());
    assertThat(location(b.signIn("step.up.app", PASSWORD))).doesNotContain("/login");
    String secret = SecondFactorTest.setUpApp(b).secret();
    String v = Browser.verifier();
    assertThat(idClaims(b, location(b.get(authorize(v, "pwd", ""))), v).getStringClaim("acr"))
        .isEqualTo("urn:yinxin:loa:1");

    // A request for two factors: password and code again, then the code for the portal.
    v = Browser.verifier();
    assertThat(location(b.get(authorize(v, "two", TWO)))).endsWith("/login?stepup");
    assertThat(location(b.signIn("step.up.app", PASSWORD))).endsWith("/login/otp");
    String back = location(SecondFactorTest.secondStep(b, SecondFactorTest.oathtool(secret, 30)));
    assertThat(back).contains("/oauth2/authorize");
    var claims = idClaims(b, location(b.get(back)), v);
    assertThat(claims.getStringClaim("acr")).isEqualTo("urn:yinxin:loa:2");
    assertThat(claims.getStringListClaim("amr")).containsExactly("pwd", "otp", "mfa");
  }

  @Test
  void aClientsDefaultAcrValuesApplyWhereItsRequestNamesNone() throws Exception {
    var registered =
        clientAdmin.create(
            "test",
            Optional.of("two-factor-portal"),
            io.yinxin.sso.client.ClientMetadata.from(
                Map.of(
                    "client_name",
                    "Two-factor portal",
                    "redirect_uris",
                    List.of(REDIRECT),
                    "scope",
                    "openid",
                    "require_consent",
                    false,
                    "default_acr_values",
                    List.of("urn:yinxin:loa:2"))));
    assertThat(io.yinxin.sso.client.ClientMetadata.describe(registered.client()))
        .containsEntry("default_acr_values", List.of("urn:yinxin:loa:2"));
    accounts.create("default.acr", PASSWORD, "Default acr");
    Browser b = new Browser(base());
    assertThat(location(b.signIn("default.acr", PASSWORD))).doesNotContain("/login");
    String plain =
        authorize(Browser.verifier(), "d", "").replace(demo.clientId(), "two-factor-portal");
    assertThat(plain).contains("client_id=two-factor-portal&");
    // No acr_values: the client's default asks for two factors.
    assertThat(location(b.get(plain))).endsWith("/login?stepup");
    // The request's own acr_values come first (Registration §2), so the portal must still check
    // the ID token's acr; the demo client, registered without a default, is not asked.
    assertThat(location(b.get(plain + "&acr_values=urn%3Ayinxin%3Aloa%3A1")))
        .startsWith(REDIRECT + "?")
        .contains("code=");
    assertThat(location(b.get(authorize(Browser.verifier(), "e", ""))))
        .startsWith(REDIRECT + "?")
        .contains("code=");

    // A client registered with minimum_acr two factors is not lowered by its request.
    clientAdmin.create(
        "test",
        Optional.of("sealing-portal"),
        io.yinxin.sso.client.ClientMetadata.from(
            Map.of(
                "client_name", "Sealing portal",
                "redirect_uris", List.of(REDIRECT),
                "scope", "openid",
                "require_consent", false,
                "minimum_acr", "urn:yinxin:loa:2")));
    String sealing =
        authorize(Browser.verifier(), "m", "&acr_values=urn%3Ayinxin%3Aloa%3A1")
            .replace(demo.clientId(), "sealing-portal");
    assertThat(location(b.get(sealing))).endsWith("/login?stepup");
  }

  @Test
  void aPersonNotSignedInIsToldAtOnceThatTwoFactorsAreAsked() throws Exception {
    accounts.create("step.up.new", PASSWORD, "Step up new");
    Browser b = new Browser(base());
    String v = Browser.verifier();
    assertThat(location(b.get(authorize(v, "s", TWO)))).endsWith("/login?stepup");
    // The first sign-in is held to it: no app, so one is set up before the portal gets a code.
    assertThat(location(b.signIn("step.up.new", PASSWORD))).endsWith("/account/totp");
    assertThat(location(b.get(authorize(v, "s", TWO)))).endsWith("/account/totp");
    // A value that is not text of a sane length is refused.
    Map<String, String> bad =
        Browser.query(
            location(
                new Browser(base())
                    .get(authorize(Browser.verifier(), "x", "&acr_values=" + "a".repeat(2_049)))));
    assertThat(bad).containsEntry("error", "invalid_request");
  }

  @Test
  void aPersonNotSignedInSignsInOnceForPromptLogin() throws Exception {
    accounts.create("fresh.once", PASSWORD, "Once");
    Browser b = new Browser(base());
    String v = Browser.verifier();
    assertThat(location(b.get(authorize(v, "g", "&prompt=login&max_age=0")))).endsWith("/login");
    String back = location(b.signIn("fresh.once", PASSWORD));
    String redirected = location(b.get(back));
    assertThat(redirected).startsWith(REDIRECT + "?").contains("code=");
  }

  @Test
  void aPushedRequestAsksForAFreshSignInToo() throws Exception {
    accounts.create("fresh.pushed", PASSWORD, "Pushed");
    Browser b = new Browser(base());
    b.signIn("fresh.pushed", PASSWORD);
    String v = Browser.verifier();
    HttpResponse<String> pushed =
        b.post(
            "/oauth2/par",
            Map.of(
                "response_type", "code",
                "client_id", demo.clientId(),
                "scope", "openid",
                "state", "p",
                "redirect_uri", REDIRECT,
                "code_challenge_method", "S256",
                "code_challenge", Browser.challenge(v),
                "prompt", "login"),
            Browser.basic(demo.clientId(), demo.secret().orElseThrow()));
    assertThat(pushed.statusCode()).as(pushed.body()).isEqualTo(201);
    String requestUri = JSON.readTree(pushed.body()).path("request_uri").asString();
    String asking =
        "/oauth2/authorize?client_id="
            + demo.clientId()
            + "&request_uri="
            + URLEncoder.encode(requestUri, StandardCharsets.UTF_8);
    // The query has no prompt: it is in the pushed request.
    assertThat(location(b.get(asking))).endsWith("/login");
    String back = location(b.signIn("fresh.pushed", PASSWORD));
    assertThat(location(b.get(back))).startsWith(REDIRECT + "?").contains("code=");
  }

  @Test
  void uiLocalesAndLoginHintShapeTheSignInPage() throws Exception {
    Browser b = new Browser(base());
    assertThat(b.get("/login").body()).contains("<html lang=\"zh-CN\">");
    String asking =
        authorize(
            Browser.verifier(),
            "u",
            "&ui_locales=fr-CA%20en-GB%20zh-CN&login_hint=" + "Li.Si%40example.cn");
    assertThat(location(b.get(asking))).endsWith("/login");
    String page = b.get("/login").body();
    assertThat(page)
        .contains("<html lang=\"en\">", "Sign in")
        .contains("name=\"username\" autocomplete=\"username\" value=\"li.si@example.cn\"");
    // A hint that is no username is not written into the page; a language we lack is no choice.
    b.get(
        authorize(
            Browser.verifier(),
            "v",
            "&ui_locales=fr&login_hint="
                + URLEncoder.encode("\"><script>alert(1)</script>", StandardCharsets.UTF_8)));
    page = b.get("/login").body();
    assertThat(page).contains("<html lang=\"zh-CN\">").doesNotContain("<script>alert");
    assertThat(page).doesNotContain("value=\"li.si@example.cn\"");
  }

  @Test
  void promptConsentAsksEvenWhereNoConsentWasNeeded() throws Exception {
    accounts.create("fresh.consent", PASSWORD, "Consent");
    Browser b = new Browser(base());
    b.signIn("fresh.consent", PASSWORD);
    // Only openid: no consent page without prompt=consent, the consent page with it.
    assertThat(location(b.get(authorize(Browser.verifier(), "w", "")))).startsWith(REDIRECT);
    String v = Browser.verifier();
    String consent = location(b.get(authorize(v, "x", "&prompt=consent")));
    assertThat(consent).contains("/oauth2/consent?");
    HttpResponse<String> page = b.get(consent);
    // Agreeing to "only who you are" sends openid as the agreed scope (nothing agreed: refused).
    assertThat(page.body())
        .contains("仅确认您的身份", "<input type=\"hidden\" name=\"scope\" value=\"openid\">");
    String state = Browser.group("name=\"state\"[^>]*value=\"([^\"]+)\"", page.body());
    String csrf = Browser.group("name=\"_csrf\"[^>]*value=\"([^\"]+)\"", page.body());
    String redirected =
        location(
            b.post(
                "/oauth2/authorize",
                Map.of(
                    "client_id", demo.clientId(), "state", state, "scope", "openid", "_csrf", csrf),
                null));
    assertThat(Browser.query(redirected)).containsEntry("state", "x").containsKey("code");
  }

  @Test
  void anIdTokenHintForSomeoneElseAsksForASignIn() throws Exception {
    accounts.create("hint.alice", PASSWORD, "Alice");
    accounts.create("hint.bob", PASSWORD, "Bob");
    Browser alice = new Browser(base());
    alice.signIn("hint.alice", PASSWORD);
    String alicesToken = idTokenOf(alice);
    Browser bob = new Browser(base());
    bob.signIn("hint.bob", PASSWORD);
    String bobsToken = idTokenOf(bob);

    // The hint names the person signed in: the code, even with prompt=none.
    String hint = "&id_token_hint=" + alicesToken;
    assertThat(location(alice.get(authorize(Browser.verifier(), "j", "&prompt=none" + hint))))
        .contains("code=");
    // It names someone else: login_required with prompt=none, the sign-in page without.
    Map<String, String> none =
        Browser.query(
            location(
                alice.get(
                    authorize(
                        Browser.verifier(), "k", "&prompt=none&id_token_hint=" + bobsToken))));
    assertThat(none).containsEntry("error", "login_required").doesNotContainKey("code");
    String v = Browser.verifier();
    assertThat(location(alice.get(authorize(v, "l", "&id_token_hint=" + bobsToken))))
        .endsWith("/login");
    String back = location(alice.signIn("hint.bob", PASSWORD));
    String code = Browser.query(location(alice.get(back))).get("code");
    assertThat(SignedJWT.parse(idToken(alice, code, v)).getJWTClaimsSet().getSubject())
        .isEqualTo("hint.bob");
    // A token this provider never issued names nobody: ignored.
    String forged = alicesToken.substring(0, alicesToken.lastIndexOf('.') + 1) + "AAAA";
    assertThat(
            location(
                alice.get(
                    authorize(Browser.verifier(), "m", "&prompt=none&id_token_hint=" + forged))))
        .contains("code=");
  }

  @Test
  void maxAgeIsOneCanonicalDecimal() throws Exception {
    accounts.create("fresh.numbers", PASSWORD, "Numbers");
    Browser b = new Browser(base());
    b.signIn("fresh.numbers", PASSWORD);
    for (String bad :
        new String[] {"abc", "-1", "+5", "01", "1e3", "0x10", "99999999999", "3.5", ""}) {
      Map<String, String> answer =
          Browser.query(
              location(
                  b.get(
                      authorize(
                          Browser.verifier(),
                          "h",
                          "&max_age=" + URLEncoder.encode(bad, StandardCharsets.UTF_8)))));
      assertThat(answer)
          .as(bad)
          .containsEntry("error", "invalid_request")
          .doesNotContainKey("code");
    }
    assertThat(location(b.get(authorize(Browser.verifier(), "i", "&max_age=9999999999"))))
        .contains("code=");
  }
}
