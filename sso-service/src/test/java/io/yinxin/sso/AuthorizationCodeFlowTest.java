package io.yinxin.sso;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.SignedJWT;
import io.yinxin.sso.account.DemoUser;
import io.yinxin.sso.client.DemoClient;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A person signs in through the authorization code flow with PKCE as a browser would, step by step
 * over HTTP with cookies: the authorize request sends them to the login form, the form (with its
 * CSRF token) signs them in, consent is given, the code comes back to the registered redirect URI
 * and is exchanged with the PKCE verifier for tokens; the ID token verifies against the published
 * RS256 key. Then what must fail: the same code twice (which also revokes the tokens it gave), a
 * redirect URI not registered, a sign-in without the form's CSRF token.
 */
@SpringBootTest(
    classes = OpenIdProviderTest.App.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class AuthorizationCodeFlowTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final String REDIRECT = "http://127.0.0.1:8000/callback";

  @DynamicPropertySource
  static void props(DynamicPropertyRegistry r) throws Exception {
    OpenIdProviderTest.h2Node(r, "sso-code");
  }

  @LocalServerPort int port;
  @Autowired DemoClient client;
  @Autowired DemoUser user;
  @Autowired DataSource dataSource;
  @Autowired io.yinxin.audit.store.LogStore auditStore;
  @Autowired io.yinxin.sso.http.SsoAdmins admins;

  private Browser browser;

  private String base() {
    return "http://127.0.0.1:" + port;
  }

  private HttpResponse<String> get(String url) throws Exception {
    if (browser == null) {
      browser = new Browser(base());
    }
    return browser.get(url);
  }

  private HttpResponse<String> post(String path, Map<String, String> form, String basic)
      throws Exception {
    if (browser == null) {
      browser = new Browser(base());
    }
    return browser.post(path, form, basic);
  }

  private static String location(HttpResponse<String> r) {
    return Browser.location(r);
  }

  private static String group(String regex, String text) {
    return Browser.group(regex, text);
  }

  private static Map<String, String> query(String url) {
    return Browser.query(url);
  }

  private String authorizeUrl(String challenge, String redirect) {
    return authorizeUrl(challenge, redirect, "openid%20profile");
  }

  private String authorizeUrl(String challenge, String redirect, String scope) {
    return "/oauth2/authorize?response_type=code&client_id="
        + client.clientId()
        + "&scope="
        + scope
        + "&state=s-123&nonce=n-456&code_challenge_method=S256"
        + "&code_challenge="
        + challenge
        + "&redirect_uri="
        + URLEncoder.encode(redirect, StandardCharsets.UTF_8);
  }

  private static String verifier() {
    return Browser.verifier();
  }

  private static String challenge(String verifier) throws Exception {
    return Browser.challenge(verifier);
  }

  @Test
  void aPersonSignsInConsentsAndTheClientGetsTokensForTheCodeOnce() throws Exception {
    java.time.Instant testStarted = java.time.Instant.now();
    String verifier = verifier();
    String challenge = challenge(verifier);

    // Not signed in: to the login form, whose CSRF token the sign-in must carry.
    assertThat(location(get(authorizeUrl(challenge, REDIRECT)))).endsWith("/login");
    HttpResponse<String> form = get("/login");
    String csrf = group("name=\"_csrf\"[^>]*value=\"([^\"]+)\"", form.body());
    HttpResponse<String> withoutCsrf =
        post(
            "/login",
            Map.of("username", user.username(), "password", user.password().orElseThrow()),
            null);
    assertThat(withoutCsrf.statusCode()).isEqualTo(403);
    // Session fixation: the session known before signing in is not the signed-in one.
    String before = browser.sessionId();
    assertThat(before).isNotNull();
    String back =
        location(
            post(
                "/login",
                Map.of(
                    "username",
                    user.username(),
                    "password",
                    user.password().orElseThrow(),
                    "_csrf",
                    csrf),
                null));
    assertThat(back).contains("/oauth2/authorize");
    assertThat(browser.sessionId()).isNotNull().isNotEqualTo(before);

    // The consent page (Chinese by default), then the code at the registered redirect URI.
    String consentUrl = location(get(back));
    assertThat(consentUrl).contains("/oauth2/consent?");
    HttpResponse<String> consent = get(consentUrl);
    assertThat(consent.statusCode()).as(consent.body()).isEqualTo(200);
    assertThat(consent.body())
        .contains("<html lang=\"zh-CN\">", "请求访问您的账户", "您的姓名和用户名", "同意", "拒绝")
        .contains("<label for=\"scope-0\"")
        .doesNotContain("src=\"http");
    assertThat(get(consentUrl + "&lang=en").body()).contains("Your name and username", "Allow");
    String consentState = group("name=\"state\"[^>]*value=\"([^\"]+)\"", consent.body());
    String redirected =
        location(
            post(
                "/oauth2/authorize",
                Map.of("client_id", client.clientId(), "state", consentState, "scope", "profile"),
                null));
    assertThat(redirected).startsWith(REDIRECT + "?");
    Map<String, String> q = query(redirected);
    assertThat(q.get("state")).isEqualTo("s-123");
    String code = q.get("code");

    String basic = demoBasic();
    Map<String, String> exchange =
        Map.of(
            "grant_type", "authorization_code",
            "code", code,
            "redirect_uri", REDIRECT,
            "code_verifier", verifier);
    long keyUsesBefore = AuditEvents.count(dataSource, auditStore, "KEY_USED");
    long issuedBefore = AuditEvents.count(dataSource, auditStore, "TOKEN_ISSUED");
    HttpResponse<String> tokens = post("/oauth2/token", exchange, basic);
    assertThat(tokens.statusCode()).as(tokens.body()).isEqualTo(200);
    JsonNode t = JSON.readTree(tokens.body());
    assertThat(t.path("refresh_token").asString()).isNotEmpty();
    SignedJWT id = SignedJWT.parse(t.path("id_token").asString());
    // One TOKEN_ISSUED event for the response, durable before it: the access token's ID and key,
    // and the ID token's key and SHA-256 (computed here from the token received); neither
    // signature made a KEY_USED event of its own.
    SignedJWT access = SignedJWT.parse(t.path("access_token").asString());
    String idTokenSha256 =
        java.util.HexFormat.of()
            .formatHex(
                java.security.MessageDigest.getInstance("SHA-256")
                    .digest(t.path("id_token").asString().getBytes(StandardCharsets.US_ASCII)));
    assertThat(AuditEvents.count(dataSource, auditStore, "TOKEN_ISSUED"))
        .isEqualTo(issuedBefore + 1);
    assertThat(
            AuditEvents.count(
                dataSource,
                auditStore,
                "TOKEN_ISSUED",
                "\"jti\":\"" + access.getJWTClaimsSet().getJWTID() + "\"",
                "\"kid\":\"" + access.getHeader().getKeyID() + "\"",
                "\"idTokenKid\":\"" + id.getHeader().getKeyID() + "\"",
                "\"idTokenSigningKey\":\"soft:",
                "\"idTokenSha256\":\"" + idTokenSha256 + "\""))
        .isEqualTo(1);
    assertThat(AuditEvents.count(dataSource, auditStore, "KEY_USED")).isEqualTo(keyUsesBefore);
    JWKSet jwks = JWKSet.parse(get("/oauth2/jwks").body());
    assertThat(id.getHeader().getAlgorithm()).isEqualTo(JWSAlgorithm.RS256);
    assertThat(
            id.verify(new RSASSAVerifier((RSAKey) jwks.getKeyByKeyId(id.getHeader().getKeyID()))))
        .isTrue();
    assertThat(id.getJWTClaimsSet().getSubject()).isEqualTo(user.username());
    assertThat(id.getJWTClaimsSet().getAudience()).containsExactly(client.clientId());
    assertThat(id.getJWTClaimsSet().getStringClaim("nonce")).isEqualTo("n-456");
    assertThat(id.getJWTClaimsSet().getIssuer()).isEqualTo(base());
    // RFC 8176: signed in with a password alone.
    assertThat(id.getJWTClaimsSet().getStringListClaim("amr")).containsExactly("pwd");
    assertThat(id.getJWTClaimsSet().getStringClaim("acr")).isEqualTo("urn:yinxin:loa:1");
    // No session id: discovery says none is offered (sign-out ends all of a person's sessions).
    // Upstream's in-memory session registry put the person's most recently used session here —
    // another browser's, or none when the code is exchanged on another node.
    assertThat(id.getJWTClaimsSet().getClaims()).doesNotContainKey("sid");
    // When the person signed in: within this test, and not after the ID token was issued.
    assertThat(id.getJWTClaimsSet().getDateClaim("auth_time"))
        .isAfter(java.util.Date.from(testStarted.minusSeconds(1)))
        .isBeforeOrEqualTo(id.getJWTClaimsSet().getIssueTime());

    // The same code a second time is refused.
    HttpResponse<String> again = post("/oauth2/token", exchange, basic);
    assertThat(again.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(again.body()).path("error").asString()).isEqualTo("invalid_grant");
    // ... and the tokens the code produced are revoked (RFC 6749 §4.1.2, OAuth 2.1).
    HttpResponse<String> introspection =
        post("/oauth2/introspect", Map.of("token", t.path("access_token").asString()), basic);
    assertThat(introspection.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(introspection.body()).path("active").asBoolean()).isFalse();
  }

  /**
   * A client that registers {@code id_token_signed_response_alg} ES256 (OpenID Dynamic Client
   * Registration §2) gets ES256 ID tokens, which verify against the published P-256 key; the
   * metadata says so. Before, the field was accepted and ignored: the client got RS256 tokens it
   * had said it could not check.
   */
  @Test
  void aClientThatRegistersEs256GetsEs256IdTokens() throws Exception {
    HttpResponse<String> created =
        Browser.json(
            base(),
            "POST",
            "/sso/v1/clients",
            admins.devToken().orElseThrow(),
            "{\"client_name\": \"es256 portal\", \"redirect_uris\": [\""
                + REDIRECT
                + "\"], \"scope\": \"openid\", \"require_consent\": false,"
                + " \"id_token_signed_response_alg\": \"ES256\"}");
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    JsonNode registered = JSON.readTree(created.body());
    assertThat(registered.path("id_token_signed_response_alg").asString()).isEqualTo("ES256");
    String id = registered.path("client_id").asString();
    String verifier = verifier();
    browser = new Browser(base());
    browser.signIn(user.username(), user.password().orElseThrow());
    String code = browser.authorizationCode(id, "openid", REDIRECT, verifier);
    HttpResponse<String> tokens =
        post(
            "/oauth2/token",
            Map.of(
                "grant_type",
                "authorization_code",
                "code",
                code,
                "redirect_uri",
                REDIRECT,
                "code_verifier",
                verifier),
            Browser.basic(id, registered.path("client_secret").asString()));
    assertThat(tokens.statusCode()).as(tokens.body()).isEqualTo(200);
    SignedJWT idToken = SignedJWT.parse(JSON.readTree(tokens.body()).path("id_token").asString());
    assertThat(idToken.getHeader().getAlgorithm()).isEqualTo(JWSAlgorithm.ES256);
    com.nimbusds.jose.jwk.JWK key =
        JWKSet.parse(get("/oauth2/jwks").body()).getKeyByKeyId(idToken.getHeader().getKeyID());
    assertThat(key).isInstanceOf(com.nimbusds.jose.jwk.ECKey.class);
    assertThat(
            idToken.verify(
                new com.nimbusds.jose.crypto.ECDSAVerifier((com.nimbusds.jose.jwk.ECKey) key)))
        .isTrue();
    assertThat(idToken.getJWTClaimsSet().getAudience()).containsExactly(id);
    assertThat(idToken.getJWTClaimsSet().getSubject()).isEqualTo(user.username());
    // Discovery offers what a client may register.
    assertThat(
            JSON.readTree(get("/.well-known/openid-configuration").body())
                .path("id_token_signing_alg_values_supported")
                .toString())
        .contains("\"RS256\"", "\"ES256\"");
  }

  @Test
  void denyingConsentSendsAccessDeniedAndNoCode() throws Exception {
    HttpResponse<String> r =
        get(authorizeUrl(challenge(verifier()), REDIRECT, "openid%20profile%20realname"));
    if (r.statusCode() == 302 && location(r).endsWith("/login")) {
      r = get(location(signIn(user.username(), user.password().orElseThrow())));
    }
    HttpResponse<String> page = get(location(r));
    assertThat(page.body()).contains("实名信息");
    String state = group("name=\"state\"[^>]*value=\"([^\"]+)\"", page.body());
    String denied =
        location(
            post(
                "/oauth2/authorize", Map.of("client_id", client.clientId(), "state", state), null));
    assertThat(query(denied)).containsEntry("error", "access_denied").doesNotContainKey("code");
  }

  @Test
  void aLoopbackRedirectUriMayUseAnyPortAsRfc8252Allows() throws Exception {
    // A native app listens on a port it gets from the system: the request is valid (on to login).
    HttpResponse<String> r = get(authorizeUrl("x".repeat(43), "http://127.0.0.1:49152/callback"));
    assertThat(location(r)).endsWith("/login");
  }

  @Test
  void aRedirectUriNotRegisteredExactlyIsNeverRedirectedTo() throws Exception {
    for (String evil :
        new String[] {
          "https://attacker.example/callback",
          REDIRECT + "/../../evil",
          REDIRECT + "?next=https://attacker.example",
          "http://127.0.0.1:8000/callback2"
        }) {
      HttpResponse<String> r = get(authorizeUrl("x".repeat(43), evil));
      assertThat(r.statusCode()).as(evil).isEqualTo(400);
      assertThat(r.headers().firstValue("Location")).as(evil).isEmpty();
    }
  }

  /** The whole flow as a signed-in browser and its client do it; returns the token response. */
  private String demoBasic() {
    return Browser.basic(client.clientId(), client.secret().orElseThrow());
  }

  private JsonNode codeFlowTokens(String basic) throws Exception {
    String verifier = verifier();
    String challenge = challenge(verifier);
    // openid alone needs no consent, so this flow leaves no consent behind for other tests.
    HttpResponse<String> r = get(authorizeUrl(challenge, REDIRECT, "openid"));
    if (r.statusCode() == 302 && location(r).endsWith("/login")) {
      r = get(location(signIn(user.username(), user.password().orElseThrow())));
    }
    if (r.statusCode() == 302 && location(r).contains("/oauth2/consent")) {
      r = get(location(r));
    }
    if (r.statusCode() == 200) {
      String consentState = group("name=\"state\"[^>]*value=\"([^\"]+)\"", r.body());
      r =
          post(
              "/oauth2/authorize",
              Map.of("client_id", client.clientId(), "state", consentState, "scope", "profile"),
              null);
    }
    String code = query(location(r)).get("code");
    HttpResponse<String> tokens =
        post(
            "/oauth2/token",
            Map.of(
                "grant_type", "authorization_code",
                "code", code,
                "redirect_uri", REDIRECT,
                "code_verifier", verifier),
            basic);
    assertThat(tokens.statusCode()).as(tokens.body()).isEqualTo(200);
    return JSON.readTree(tokens.body());
  }

  @Test
  void aRefreshTokenUsedTwiceRevokesItsWholeFamily() throws Exception {
    String basic = demoBasic();
    JsonNode first = codeFlowTokens(basic);
    String rt1 = first.path("refresh_token").asString();
    HttpResponse<String> refreshed =
        post("/oauth2/token", Map.of("grant_type", "refresh_token", "refresh_token", rt1), basic);
    assertThat(refreshed.statusCode()).as(refreshed.body()).isEqualTo(200);
    JsonNode second = JSON.readTree(refreshed.body());
    String rt2 = second.path("refresh_token").asString();
    assertThat(rt2).isNotEqualTo(rt1); // rotated

    // The old one again: refused, and the family with it.
    HttpResponse<String> replay =
        post("/oauth2/token", Map.of("grant_type", "refresh_token", "refresh_token", rt1), basic);
    assertThat(replay.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(replay.body()).path("error").asString()).isEqualTo("invalid_grant");
    HttpResponse<String> legit =
        post("/oauth2/token", Map.of("grant_type", "refresh_token", "refresh_token", rt2), basic);
    assertThat(legit.statusCode()).isEqualTo(400);
    HttpResponse<String> introspection =
        post("/oauth2/introspect", Map.of("token", second.path("access_token").asString()), basic);
    assertThat(JSON.readTree(introspection.body()).path("active").asBoolean()).isFalse();
    assertThat(AuditEvents.count(dataSource, auditStore, "TOKEN_REVOKED", "refresh_token_reuse"))
        .isEqualTo(1);
  }

  private HttpResponse<String> userinfo(String accessToken) throws Exception {
    return java.net.http.HttpClient.newHttpClient()
        .send(
            java.net.http.HttpRequest.newBuilder(java.net.URI.create(base() + "/userinfo"))
                .header("Authorization", "Bearer " + accessToken)
                .build(),
            HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void userinfoAnswersForAnAccessTokenUntilItIsRevoked() throws Exception {
    String basic = demoBasic();
    JsonNode t = codeFlowTokens(basic);
    String at = t.path("access_token").asString();
    HttpResponse<String> info = userinfo(at);
    assertThat(info.statusCode()).as(info.body()).isEqualTo(200);
    assertThat(JSON.readTree(info.body()).path("sub").asString()).isEqualTo(user.username());
    // An ID token is not an access token.
    assertThat(userinfo(t.path("id_token").asString()).statusCode()).isEqualTo(401);
    // RFC 7009: revocation answers 200, and the token is dead everywhere at once.
    HttpResponse<String> revoked =
        post("/oauth2/revoke", Map.of("token", at, "token_type_hint", "access_token"), basic);
    assertThat(revoked.statusCode()).isEqualTo(200);
    assertThat(userinfo(at).statusCode()).isEqualTo(401);
    HttpResponse<String> introspection = post("/oauth2/introspect", Map.of("token", at), basic);
    assertThat(JSON.readTree(introspection.body()).path("active").asBoolean()).isFalse();
    // Revoking an unknown token is not an error either (RFC 7009 §2.2), and changes nothing.
    assertThat(post("/oauth2/revoke", Map.of("token", "no-such-token"), basic).statusCode())
        .isEqualTo(200);
  }

  @Autowired io.yinxin.sso.account.Accounts accounts;

  private HttpResponse<String> signIn(String username, String password) throws Exception {
    String csrf = group("name=\"_csrf\"[^>]*value=\"([^\"]+)\"", get("/login").body());
    return post("/login", Map.of("username", username, "password", password, "_csrf", csrf), null);
  }

  @Autowired io.yinxin.sso.account.LoginAudit loginAudit;

  @Test
  void aPasswordBruteForceIsThrottledAndEveryAttemptIsAuditedWithoutThePassword() throws Exception {
    accounts.create("victim", "correct horse battery staple", "Victim");
    loginAudit.recordTally(); // whatever other tests left counted
    long before = AuditEvents.count(dataSource, auditStore, "LOGIN_FAILED");
    for (int i = 0; i < 5; i++) {
      assertThat(location(signIn("Victim", "wrong password " + i))).endsWith("/login?error");
    }
    // Now even the right password waits, and the page says until when.
    assertThat(location(signIn("victim", "correct horse battery staple"))).endsWith("/login?error");
    assertThat(get("/login?error").body()).contains("try again after").contains("后重试");
    // Five bad passwords, each its own event; none records what was typed.
    assertThat(AuditEvents.count(dataSource, auditStore, "LOGIN_FAILED") - before).isEqualTo(5);
    assertThat(AuditEvents.countFor(dataSource, auditStore, "LOGIN_FAILED", "victim")).isEqualTo(5);
    assertThat(
            AuditEvents.countFor(
                dataSource, auditStore, "LOGIN_FAILED", "victim", "wrong password"))
        .isZero();

    // Attempts while blocked are counted, not recorded one by one: forty more add nothing to the
    // log until the tally, which adds one event stating all forty-one. One event per attempt let
    // anyone grow the never-pruned log as fast as they could post the form.
    for (int i = 0; i < 40; i++) {
      assertThat(location(signIn("victim", "guess " + i))).endsWith("/login?error");
    }
    assertThat(AuditEvents.count(dataSource, auditStore, "LOGIN_FAILED") - before).isEqualTo(5);
    assertThat(loginAudit.recordTally()).isEqualTo(1);
    assertThat(AuditEvents.count(dataSource, auditStore, "LOGIN_FAILED") - before).isEqualTo(6);
    assertThat(
            AuditEvents.countFor(
                dataSource,
                auditStore,
                "LOGIN_FAILED",
                "(counted)",
                "\"result\":\"throttled\"",
                "\"count\":\"41\"",
                "\"source\":\"127.0.0.1\""))
        .isEqualTo(1);
    assertThat(loginAudit.recordTally()).isZero();
  }

  /** The idle time, in seconds, of the session behind a YINXIN_SSO cookie value. */
  private long idleSeconds(String cookie) throws Exception {
    String id = new String(java.util.Base64.getDecoder().decode(cookie), StandardCharsets.UTF_8);
    try (var c = dataSource.getConnection();
        var ps =
            c.prepareStatement(
                "SELECT max_inactive_interval FROM sso.spring_session WHERE session_id = ?")) {
      ps.setString(1, id);
      try (var rs = ps.executeQuery()) {
        assertThat(rs.next()).as("a session row for the cookie").isTrue();
        return rs.getLong(1);
      }
    }
  }

  /**
   * Anyone can open a session without an account (the sign-in page, an authorization request), and
   * each is a database row until it idles out: those last 10 minutes, a signed-in one 30.
   */
  @Test
  void aSessionNobodySignedInToIdlesOutSoonerThanASignedInOne() throws Exception {
    accounts.create("idler", "correct horse battery staple", "Idler");
    Browser anonymous = new Browser(base());
    HttpResponse<String> form = anonymous.get("/login");
    assertThat(form.statusCode()).isEqualTo(200);
    assertThat(idleSeconds(anonymous.sessionId())).isEqualTo(600);
    String csrf = group("name=\"_csrf\"[^>]*value=\"([^\"]+)\"", form.body());
    HttpResponse<String> signedIn =
        anonymous.post(
            "/login",
            Map.of("username", "idler", "password", "correct horse battery staple", "_csrf", csrf),
            null);
    assertThat(location(signedIn)).doesNotContain("/login");
    assertThat(idleSeconds(anonymous.sessionId())).isEqualTo(1800);
  }

  /**
   * A failed sign-in keeps its error in the session for the sign-in page; the session is a database
   * row (or a Redis key), and what was typed as the password must not be in it.
   */
  @Test
  void aWrongPasswordIsNotKeptInTheSession() throws Exception {
    accounts.create("typist", "correct horse battery staple", "Typist");
    Browser b = new Browser(base());
    String typed = "almost-my-password-" + java.util.UUID.randomUUID();
    assertThat(location(b.signIn("typist", typed))).endsWith("/login?error");
    assertThat(b.get("/login?error").statusCode()).isEqualTo(200);
    SessionAttributes.holdNone(dataSource, typed);
  }

  @Test
  void theSignInPageSpeaksChineseByDefaultAndEnglishWhenAskedWithLabelledFields() throws Exception {
    String zh = get("/login").body();
    assertThat(zh).contains("<html lang=\"zh-CN\">", "<label for=\"username\">用户名</label>");
    HttpResponse<String> en =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(base() + "/login"))
                    .header("Accept-Language", "en-GB,en;q=0.9")
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(en.body())
        .contains("<html lang=\"en\">", "<label for=\"password\">Password</label>");
    assertThat(get("/login?lang=en").body()).contains("Sign in");
    assertThat(get("/login?lang=zh").body()).contains("登录").doesNotContain("src=\"http");
  }

  @Test
  void passwordsAreStoredAsArgon2idAtKeycloaksDefaultStrength() throws Exception {
    try (var c = dataSource.getConnection();
        var rs =
            c.createStatement()
                .executeQuery("SELECT password_hash FROM sso.accounts WHERE username = 'demo'")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getString(1)).startsWith("$argon2id$v=19$m=7168,t=5,p=1$");
    }
  }
}
