package io.yinxin.sso;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.yinxin.sso.account.DemoUser;
import io.yinxin.sso.http.SsoAdmins;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The newer grants and request forms, over HTTP as their RFCs describe them: pushed authorization
 * requests (RFC 9126; a request_uri is good once and for its client only), the device grant (RFC
 * 8628; the person enters the code at /activate, consents, and the polling device gets its token),
 * token exchange for agency-to-agency delegation (RFC 8693), and DPoP-bound access tokens (RFC
 * 9449; a proof replayed is refused). Discovery names only the client authentication methods a
 * client can register.
 */
@SpringBootTest(
    classes = OpenIdProviderTest.App.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class ModernGrantsTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final String REDIRECT = "http://127.0.0.1:8000/callback";

  @DynamicPropertySource
  static void props(DynamicPropertyRegistry r) {
    OpenIdProviderTest.h2Node(r, "sso-modern");
  }

  @LocalServerPort int port;
  @Autowired SsoAdmins admins;
  @Autowired DemoUser user;
  @Autowired javax.sql.DataSource dataSource;
  @Autowired io.yinxin.sso.account.Accounts accounts;
  private final HttpClient http = HttpClient.newHttpClient();

  private String base() {
    return "http://127.0.0.1:" + port;
  }

  /** Registers a client; its secret (or null for a public one). */
  private String register(Map<String, Object> metadata) throws Exception {
    HttpResponse<String> r =
        Browser.json(
            base(),
            "POST",
            "/sso/v1/clients",
            admins.devToken().orElseThrow(),
            JSON.writeValueAsString(metadata));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    JsonNode n = JSON.readTree(r.body());
    return n.has("client_secret") ? n.path("client_secret").asString() : null;
  }

  private HttpResponse<String> form(String path, String body, Map<String, String> headers)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(base() + path))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .POST(HttpRequest.BodyPublishers.ofString(body));
    headers.forEach(b::header);
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private static void signIn(Browser b, String username, String password) throws Exception {
    b.signIn(username, password);
  }

  @Test
  void aPushedRequestIsGoodOnceForItsClientAndGivesACode() throws Exception {
    String secret =
        register(
            Map.of(
                "client_id", "par-portal",
                "client_name", "PAR portal",
                "redirect_uris", List.of(REDIRECT),
                "scope", "openid",
                "require_consent", false));
    String other =
        register(
            Map.of(
                "client_id", "par-other",
                "client_name", "Other",
                "redirect_uris", List.of(REDIRECT),
                "scope", "openid"));
    String verifier = Browser.verifier();
    String params =
        "response_type=code&client_id=par-portal&scope=openid&state=s9&redirect_uri="
            + enc(REDIRECT)
            + "&code_challenge_method=S256&code_challenge="
            + Browser.challenge(verifier);
    HttpResponse<String> pushed =
        form("/oauth2/par", params, Map.of("Authorization", Browser.basic("par-portal", secret)));
    assertThat(pushed.statusCode()).as(pushed.body()).isEqualTo(201);
    String requestUri = JSON.readTree(pushed.body()).path("request_uri").asString();
    assertThat(requestUri).startsWith("urn:ietf:params:oauth:request_uri:");
    // Without client authentication, nothing is pushed.
    assertThat(form("/oauth2/par", params, Map.of()).statusCode()).isEqualTo(401);
    // Not an authorization request: 400 invalid_request. A body with neither response_type nor
    // client_id (the client authenticated by Basic) made Spring's converter return null, which its
    // PAR filter passed on to the authentication manager: 500. Another response type is
    // unsupported_response_type.
    Map<String, String> refusals =
        Map.of(
            "foo=bar",
            "invalid_request",
            "request=abc",
            "invalid_request",
            params.replace("response_type=code&", ""),
            "invalid_request",
            params.replace("=code&", "=token&"),
            "unsupported_response_type");
    for (Map.Entry<String, String> r : refusals.entrySet()) {
      HttpResponse<String> refused =
          form(
              "/oauth2/par",
              r.getKey(),
              Map.of("Authorization", Browser.basic("par-portal", secret)));
      assertThat(refused.statusCode()).as(refused.body()).isEqualTo(400);
      assertThat(JSON.readTree(refused.body()).path("error").asString()).isEqualTo(r.getValue());
    }

    Browser b = new Browser(base());
    signIn(b, user.username(), user.password().orElseThrow());
    // Another client cannot use it.
    HttpResponse<String> stolen =
        b.get("/oauth2/authorize?client_id=par-other&request_uri=" + enc(requestUri));
    assertThat(stolen.statusCode()).isEqualTo(400);
    assertThat(other).isNotNull();
    String location =
        Browser.location(
            b.get("/oauth2/authorize?client_id=par-portal&request_uri=" + enc(requestUri)));
    assertThat(location).startsWith(REDIRECT + "?");
    Map<String, String> q = Browser.query(location);
    assertThat(q.get("state")).isEqualTo("s9");
    HttpResponse<String> tokens =
        b.post(
            "/oauth2/token",
            Map.of(
                "grant_type",
                "authorization_code",
                "code",
                q.get("code"),
                "redirect_uri",
                REDIRECT,
                "code_verifier",
                verifier),
            Browser.basic("par-portal", secret));
    assertThat(tokens.statusCode()).as(tokens.body()).isEqualTo(200);
    // Used once: the same request_uri does not authorize again.
    HttpResponse<String> again =
        b.get("/oauth2/authorize?client_id=par-portal&request_uri=" + enc(requestUri));
    assertThat(again.statusCode() == 400 || Browser.location(again).contains("error="))
        .as(again.statusCode() + " " + again.headers().map())
        .isTrue();
  }

  @Test
  void aDeviceGetsItsTokenAfterThePersonEntersTheCodeAndConsents() throws Exception {
    register(
        Map.of(
            "client_id", "tv-app",
            "client_name", "电视应用 TV app",
            "grant_types", List.of(ClientMetadataGrant.DEVICE),
            "token_endpoint_auth_method", "none",
            "scope", "profile"));
    HttpResponse<String> start =
        form("/oauth2/device_authorization", "client_id=tv-app&scope=profile", Map.of());
    assertThat(start.statusCode()).as(start.body()).isEqualTo(200);
    JsonNode d = JSON.readTree(start.body());
    String deviceCode = d.path("device_code").asString();
    String userCode = d.path("user_code").asString();
    assertThat(d.path("verification_uri").asString()).isEqualTo(base() + "/activate");
    String poll =
        "grant_type="
            + enc(ClientMetadataGrant.DEVICE)
            + "&client_id=tv-app&device_code="
            + enc(deviceCode);
    HttpResponse<String> pending = form("/oauth2/token", poll, Map.of());
    assertThat(pending.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(pending.body()).path("error").asString())
        .isEqualTo("authorization_pending");

    Browser b = new Browser(base());
    assertThat(Browser.location(b.get("/activate"))).endsWith("/login");
    signIn(b, user.username(), user.password().orElseThrow());
    HttpResponse<String> page = b.get("/activate");
    assertThat(page.body()).contains("<label for=\"user_code\"", "设备上显示的代码");
    assertThat(b.get("/activate?lang=en").body()).contains("The code your device shows");
    String verify = Browser.location(b.get("/activate?user_code=" + enc(userCode.toLowerCase())));
    assertThat(verify).startsWith("/oauth2/device_verification?user_code=");
    String consentUrl = Browser.location(b.get(verify));
    HttpResponse<String> consent = b.get(consentUrl);
    assertThat(consent.body()).contains("电视应用", "action=\"/oauth2/device_verification\"");
    String state = Browser.group("name=\"state\"[^>]*value=\"([^\"]+)\"", consent.body());
    String csrf = Browser.group("name=\"_csrf\"[^>]*value=\"([^\"]+)\"", consent.body());
    String done =
        Browser.location(
            b.post(
                "/oauth2/device_verification",
                Map.of(
                    "client_id", "tv-app",
                    "state", state,
                    "scope", "profile",
                    "user_code", userCode,
                    "_csrf", csrf),
                null));
    assertThat(done).endsWith("/activate?done");
    assertThat(b.get("/activate?done").body()).contains("设备已获得授权");
    HttpResponse<String> granted = form("/oauth2/token", poll, Map.of());
    assertThat(granted.statusCode()).as(granted.body()).isEqualTo(200);
    var at = SignedJWT.parse(JSON.readTree(granted.body()).path("access_token").asString());
    assertThat(at.getJWTClaimsSet().getSubject()).isEqualTo(user.username());
    assertThat(at.getJWTClaimsSet().getStringClaim("client_id")).isEqualTo("tv-app");
    // The device code is spent.
    assertThat(form("/oauth2/token", poll, Map.of()).statusCode()).isEqualTo(400);
  }

  /**
   * RFC 8628 §5.1: user code attempts are rate-limited. A signed-in person entering codes that name
   * no waiting device is sent back to /activate with a message each time, and after ten is blocked
   * from entering codes: even the right code then is not looked up, and the device stays pending.
   * Another account enters the same code and reaches the consent page.
   */
  @Test
  void aPersonWhoEntersTenWrongDeviceCodesEntersNoneForAWhile() throws Exception {
    register(
        Map.of(
            "client_id", "kiosk-app",
            "client_name", "自助终端 Kiosk",
            "grant_types", List.of(ClientMetadataGrant.DEVICE),
            "token_endpoint_auth_method", "none",
            "scope", "profile"));
    HttpResponse<String> start =
        form("/oauth2/device_authorization", "client_id=kiosk-app&scope=profile", Map.of());
    assertThat(start.statusCode()).as(start.body()).isEqualTo(200);
    JsonNode d = JSON.readTree(start.body());
    String userCode = d.path("user_code").asString();
    String poll =
        "grant_type="
            + enc(ClientMetadataGrant.DEVICE)
            + "&client_id=kiosk-app&device_code="
            + enc(d.path("device_code").asString());

    double[] before = {guesses("wrong"), guesses("blocked"), guesses("refused")};
    accounts.create("guesser", "correct horse battery staple", "猜码人");
    Browser b = new Browser(base());
    signIn(b, "guesser", "correct horse battery staple");
    // A code given twice is a malformed request, Spring's 400 naming it, and not counted.
    HttpResponse<String> twice =
        b.get("/oauth2/device_verification?user_code=BCDF-GHJK&user_code=BCDF-GHJL");
    assertThat(twice.statusCode()).isEqualTo(400);
    assertThat(twice.body()).contains("user_code (invalid_request)");
    for (int i = 0; i < io.yinxin.sso.web.DeviceCodeGuesses.MAX; i++) {
      // Eight letters of the alphabet Spring's codes use, never the device's own code.
      String wrong = "BCDF-GH" + "JKLMNPQRST".charAt(i) + "V";
      assertThat(wrong.replace("-", "")).isNotEqualTo(userCode.replace("-", ""));
      HttpResponse<String> guess = b.get("/oauth2/device_verification?user_code=" + wrong);
      assertThat(guess.statusCode()).as(guess.body()).isEqualTo(302);
      String back = Browser.location(guess);
      HttpResponse<String> page = b.get(back);
      if (i < io.yinxin.sso.web.DeviceCodeGuesses.MAX - 1) {
        assertThat(back).endsWith("/activate?error");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains("没有设备在等待这个代码", "<label for=\"user_code\"");
      } else {
        assertThat(page.statusCode()).isEqualTo(429);
        assertThat(page.headers().firstValue("Retry-After")).isPresent();
        assertThat(page.body()).contains("输入错误代码的次数过多").doesNotContain("user_code");
      }
    }
    // Blocked: the right code is not looked up, here or by the form.
    HttpResponse<String> right = b.get("/oauth2/device_verification?user_code=" + enc(userCode));
    assertThat(right.statusCode()).isEqualTo(302);
    assertThat(Browser.location(right)).endsWith("/activate");
    assertThat(b.get("/activate?user_code=" + enc(userCode)).statusCode()).isEqualTo(429);
    assertThat(b.get("/activate?lang=en").body()).contains("Too many wrong codes");
    HttpResponse<String> pending = form("/oauth2/token", poll, Map.of());
    assertThat(JSON.readTree(pending.body()).path("error").asString())
        .isEqualTo("authorization_pending");
    // yinxin_sso_device_code_guesses_total: nine wrong, the tenth blocked, the right one refused.
    assertThat(guesses("wrong") - before[0]).isEqualTo(io.yinxin.sso.web.DeviceCodeGuesses.MAX - 1);
    assertThat(guesses("blocked") - before[1]).isEqualTo(1);
    assertThat(guesses("refused") - before[2]).isEqualTo(1);

    // The operator sees the block and lifts it (the helpdesk's "unlock user"): the code works.
    String token = admins.devToken().orElseThrow();
    JsonNode state =
        JSON.readTree(Browser.json(base(), "GET", "/sso/v1/accounts/guesser", token, null).body());
    assertThat(state.path("device_codes_blocked_until").isString()).isTrue();
    HttpResponse<String> lifted =
        Browser.json(base(), "DELETE", "/sso/v1/accounts/guesser/sign-in-blocks", token, null);
    assertThat(JSON.readTree(lifted.body()).path("lifted").asBoolean()).isTrue();
    String consentPage =
        Browser.location(b.get("/oauth2/device_verification?user_code=" + enc(userCode)));
    assertThat(b.get(consentPage).body()).contains("自助终端");

    // Another account is not blocked: its code leads to the consent page.
    Browser other = new Browser(base());
    signIn(other, user.username(), user.password().orElseThrow());
    String consent =
        Browser.location(other.get("/oauth2/device_verification?user_code=" + enc(userCode)));
    assertThat(other.get(consent).body()).contains("自助终端");
  }

  @org.junit.jupiter.api.extension.RegisterExtension
  static final JoinedRegistry METRICS = new JoinedRegistry();

  /** yinxin_sso_device_code_guesses_total{result}. */
  private static double guesses(String result) {
    return METRICS.count("yinxin.sso.device.code.guesses", "result", result);
  }

  @Test
  void anAgencyExchangesAPersonsTokenForItsOwnAndDpopBindsTokensToAKey() throws Exception {
    String portal =
        register(
            Map.of(
                "client_id",
                "portal-a",
                "client_name",
                "Agency A",
                "redirect_uris",
                List.of(REDIRECT),
                "grant_types",
                List.of("authorization_code", "client_credentials"),
                "scope",
                "openid profile",
                "require_consent",
                false));
    String agencyB =
        register(
            Map.of(
                "client_id", "agency-b",
                "client_name", "Agency B",
                "grant_types", List.of(ClientMetadataGrant.EXCHANGE),
                "scope", "profile"));
    // A person signs in at agency A's portal; agency B acts for them with its own token.
    Browser b = new Browser(base());
    signIn(b, user.username(), user.password().orElseThrow());
    String verifier = Browser.verifier();
    String code =
        Browser.query(
                Browser.location(
                    b.get(
                        "/oauth2/authorize?response_type=code&client_id=portal-a&scope="
                            + enc("openid profile")
                            + "&state=x&redirect_uri="
                            + enc(REDIRECT)
                            + "&code_challenge_method=S256&code_challenge="
                            + Browser.challenge(verifier))))
            .get("code");
    JsonNode a =
        JSON.readTree(
            b.post(
                    "/oauth2/token",
                    Map.of(
                        "grant_type", "authorization_code",
                        "code", code,
                        "redirect_uri", REDIRECT,
                        "code_verifier", verifier),
                    Browser.basic("portal-a", portal))
                .body());
    HttpResponse<String> exchanged =
        form(
            "/oauth2/token",
            "grant_type="
                + enc(ClientMetadataGrant.EXCHANGE)
                + "&subject_token="
                + enc(a.path("access_token").asString())
                + "&subject_token_type="
                + enc("urn:ietf:params:oauth:token-type:access_token")
                + "&scope=profile",
            Map.of("Authorization", Browser.basic("agency-b", agencyB)));
    assertThat(exchanged.statusCode()).as(exchanged.body()).isEqualTo(200);
    JsonNode x = JSON.readTree(exchanged.body());
    assertThat(x.path("issued_token_type").asString())
        .isEqualTo("urn:ietf:params:oauth:token-type:access_token");
    var claims = SignedJWT.parse(x.path("access_token").asString()).getJWTClaimsSet();
    assertThat(claims.getSubject()).isEqualTo(user.username());
    assertThat(claims.getStringClaim("client_id")).isEqualTo("agency-b");
    // A client not registered for the grant cannot exchange.
    assertThat(
            form(
                    "/oauth2/token",
                    "grant_type="
                        + enc(ClientMetadataGrant.EXCHANGE)
                        + "&subject_token="
                        + enc(a.path("access_token").asString())
                        + "&subject_token_type="
                        + enc("urn:ietf:params:oauth:token-type:access_token"),
                    Map.of("Authorization", Browser.basic("portal-a", portal)))
                .statusCode())
        .isEqualTo(400);

    // DPoP: the token names the key's thumbprint; the same proof a second time is refused.
    ECKey key = new ECKeyGenerator(Curve.P_256).generate();
    Map<String, String> headers =
        Map.of(
            "Authorization",
            Browser.basic("portal-a", portal),
            "DPoP",
            dpopProof(key, "POST", base() + "/oauth2/token", null));
    HttpResponse<String> bound =
        form("/oauth2/token", "grant_type=client_credentials&scope=profile", headers);
    assertThat(bound.statusCode()).as(bound.body()).isEqualTo(200);
    JsonNode t = JSON.readTree(bound.body());
    assertThat(t.path("token_type").asString())
        .as(SignedJWT.parse(t.path("access_token").asString()).getJWTClaimsSet().toString())
        .isEqualTo("DPoP");
    var cnf =
        SignedJWT.parse(t.path("access_token").asString())
            .getJWTClaimsSet()
            .getJSONObjectClaim("cnf");
    assertThat(cnf).containsEntry("jkt", key.computeThumbprint().toString());
    // Presented as a bearer token it is refused (the admin API, like userinfo, takes bearer
    // tokens).
    assertThat(
            Browser.json(base(), "GET", "/sso/v1/clients", t.path("access_token").asString(), null)
                .statusCode())
        .isEqualTo(401);
    HttpResponse<String> replay =
        form("/oauth2/token", "grant_type=client_credentials&scope=profile", headers);
    assertThat(replay.statusCode()).isEqualTo(400);
    assertThat(replay.body()).contains("invalid_dpop_proof");

    // Discovery names what clients can register.
    JsonNode discovery =
        JSON.readTree(new Browser(base()).get("/.well-known/openid-configuration").body());
    List<String> methods = new java.util.ArrayList<>();
    discovery.path("token_endpoint_auth_methods_supported").forEach(n -> methods.add(n.asString()));
    assertThat(methods)
        .containsExactlyInAnyOrder(
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
            "self_signed_tls_client_auth",
            "tls_client_auth",
            "none");
  }

  /** A DPoP proof by {@code key} for a request (RFC 9449 §4.2), with ath when a token is given. */
  private static String dpopProof(ECKey key, String method, String url, String accessToken)
      throws Exception {
    JWTClaimsSet.Builder claims =
        new JWTClaimsSet.Builder()
            .jwtID(UUID.randomUUID().toString())
            .claim("htm", method)
            .claim("htu", url)
            .issueTime(new Date());
    if (accessToken != null) {
      claims.claim(
          "ath",
          java.util.Base64.getUrlEncoder()
              .withoutPadding()
              .encodeToString(
                  java.security.MessageDigest.getInstance("SHA-256")
                      .digest(accessToken.getBytes(StandardCharsets.US_ASCII))));
    }
    SignedJWT proof =
        new SignedJWT(
            new JWSHeader.Builder(JWSAlgorithm.ES256)
                .type(new JOSEObjectType("dpop+jwt"))
                .jwk(key.toPublicJWK())
                .build(),
            claims.build());
    proof.sign(new ECDSASigner(key));
    return proof.serialize();
  }

  private HttpResponse<String> userinfo(String authorization, String proof) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(base() + "/userinfo"))
            .header("Authorization", authorization);
    if (proof != null) {
      b.header("DPoP", proof);
    }
    return http.send(b.GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  /**
   * A person's DPoP-bound access token works at userinfo with the DPoP scheme and a fresh proof by
   * its key for that request (RFC 9449 §7), and in no other way: not as a bearer token, not with a
   * proof by another key, for another URL or without {@code ath}, and not with a proof used before.
   */
  @Test
  void aDpopBoundTokenWorksAtUserinfoOnlyWithAFreshProofByItsKey() throws Exception {
    String secret =
        register(
            Map.of(
                "client_id", "dpop-portal",
                "client_name", "DPoP portal",
                "redirect_uris", List.of(REDIRECT),
                "scope", "openid profile",
                "require_consent", false));
    Browser b = new Browser(base());
    b.signIn(user.username(), user.password().orElseThrow());
    String verifier = Browser.verifier();
    String code = b.authorizationCode("dpop-portal", "openid profile", REDIRECT, verifier);
    ECKey key = new ECKeyGenerator(Curve.P_256).generate();
    HttpResponse<String> tokens =
        form(
            "/oauth2/token",
            "grant_type=authorization_code&code="
                + enc(code)
                + "&redirect_uri="
                + enc(REDIRECT)
                + "&code_verifier="
                + enc(verifier),
            Map.of(
                "Authorization",
                Browser.basic("dpop-portal", secret),
                "DPoP",
                dpopProof(key, "POST", base() + "/oauth2/token", null)));
    assertThat(tokens.statusCode()).as(tokens.body()).isEqualTo(200);
    JsonNode t = JSON.readTree(tokens.body());
    assertThat(t.path("token_type").asString()).isEqualTo("DPoP");
    String at = t.path("access_token").asString();
    String url = base() + "/userinfo";

    String proof = dpopProof(key, "GET", url, at);
    HttpResponse<String> ok = userinfo("DPoP " + at, proof);
    assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
    assertThat(JSON.readTree(ok.body()).path("sub").asString()).isEqualTo(user.username());
    // The same proof again (replayed).
    assertThat(userinfo("DPoP " + at, proof).statusCode()).isEqualTo(401);
    // A fresh proof that another node sharing the database has already accepted: Spring's own
    // check remembers proofs in one JVM, so the shared record is what refuses it here.
    String elsewhere = dpopProof(key, "GET", url, at);
    assertThat(
            new io.yinxin.sso.client.AssertionReplay(dataSource, java.time.Clock.systemUTC())
                .firstUse(
                    "dpop-rs\n"
                        + key.computeThumbprint()
                        + "\n"
                        + SignedJWT.parse(elsewhere).getJWTClaimsSet().getJWTID(),
                    java.time.Instant.now().plusSeconds(300)))
        .isTrue();
    assertThat(userinfo("DPoP " + at, elsewhere).statusCode()).isEqualTo(401);
    // As a bearer token: refused, not downgraded.
    assertThat(userinfo("Bearer " + at, null).statusCode()).isEqualTo(401);
    assertThat(userinfo("Bearer " + at, dpopProof(key, "GET", url, at)).statusCode())
        .isEqualTo(401);
    // A proof by another key, for another URL, without ath, or no proof at all.
    ECKey other = new ECKeyGenerator(Curve.P_256).generate();
    assertThat(userinfo("DPoP " + at, dpopProof(other, "GET", url, at)).statusCode())
        .isEqualTo(401);
    assertThat(
            userinfo("DPoP " + at, dpopProof(key, "GET", base() + "/oauth2/jwks", at)).statusCode())
        .isEqualTo(401);
    assertThat(userinfo("DPoP " + at, dpopProof(key, "GET", url, null)).statusCode())
        .isEqualTo(401);
    assertThat(userinfo("DPoP " + at, null).statusCode()).isIn(400, 401);
    // Still good with a fresh proof: the refusals changed nothing.
    assertThat(userinfo("DPoP " + at, dpopProof(key, "GET", url, at)).statusCode()).isEqualTo(200);
    // Its stored authorization reads back (its cnf claim once could not): introspection works.
    HttpResponse<String> introspected =
        form(
            "/oauth2/introspect",
            "token=" + enc(at),
            Map.of("Authorization", Browser.basic("dpop-portal", secret)));
    assertThat(introspected.statusCode()).as(introspected.body()).isEqualTo(200);
    assertThat(JSON.readTree(introspected.body()).path("active").asBoolean()).isTrue();
  }

  /** The grant type URNs, as clients register them. */
  private static final class ClientMetadataGrant {
    static final String DEVICE = "urn:ietf:params:oauth:grant-type:device_code";
    static final String EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";
  }
}
