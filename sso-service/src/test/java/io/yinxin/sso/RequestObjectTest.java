package io.yinxin.sso;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import io.yinxin.sso.account.DemoUser;
import io.yinxin.sso.client.DemoClient;
import io.yinxin.sso.http.SsoAdmins;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.json.JsonMapper;

/**
 * JWT-secured authorization requests (RFC 9101): a request object signed with the client's own key
 * carries the whole request (the outer query can neither add nor override a parameter), and the
 * forgeries are refused with invalid_request_object and no redirect — another key, {@code alg:
 * none}, another issuer or audience, expired, or a client with no keys registered.
 */
@SpringBootTest(
    classes = OpenIdProviderTest.App.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class RequestObjectTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final String REDIRECT = "http://127.0.0.1:8000/callback";
  static ECKey key;
  static HttpServer jwks;

  @DynamicPropertySource
  static void props(DynamicPropertyRegistry r) {
    OpenIdProviderTest.h2Node(r, "sso-jar");
  }

  @BeforeAll
  static void clientKeys() throws Exception {
    key = new ECKeyGenerator(Curve.P_256).keyID("k1").generate();
    jwks = TestCredentials.jwksServer(new JWKSet(key.toPublicJWK()).toString());
  }

  @AfterAll
  static void stop() {
    jwks.stop(0);
  }

  @LocalServerPort int port;
  @Autowired SsoAdmins admins;
  @Autowired DemoUser user;
  @Autowired DemoClient demo;

  private String base() {
    return "http://127.0.0.1:" + port;
  }

  private JWTClaimsSet.Builder request(String challenge) {
    Instant now = Instant.now();
    return new JWTClaimsSet.Builder()
        .issuer("jar-portal")
        .audience(base())
        .expirationTime(Date.from(now.plusSeconds(120)))
        .issueTime(Date.from(now))
        .claim("client_id", "jar-portal")
        .claim("response_type", "code")
        .claim("redirect_uri", REDIRECT)
        .claim("scope", "openid")
        .claim("state", "from-the-object")
        .claim("code_challenge", challenge)
        .claim("code_challenge_method", "S256");
  }

  private static String sign(JWTClaimsSet claims, ECKey with) throws Exception {
    SignedJWT jwt =
        new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("k1").build(), claims);
    jwt.sign(new ECDSASigner(with));
    return jwt.serialize();
  }

  @Test
  void aSignedRequestObjectIsTheWholeRequestAndForgeriesAreRefused() throws Exception {
    HttpResponse<String> reg =
        Browser.json(
            base(),
            "POST",
            "/sso/v1/clients",
            admins.devToken().orElseThrow(),
            JSON.writeValueAsString(
                Map.of(
                    "client_id", "jar-portal",
                    "client_name", "JAR portal",
                    "redirect_uris", List.of(REDIRECT),
                    "scope", "openid",
                    "require_consent", false,
                    "token_endpoint_auth_method", "private_key_jwt",
                    "jwks_uri", "http://127.0.0.1:" + jwks.getAddress().getPort() + "/jwks",
                    "token_endpoint_auth_signing_alg", "ES256")));
    assertThat(reg.statusCode()).as(reg.body()).isEqualTo(201);

    Browser b = new Browser(base());
    String csrf = Browser.group("name=\"_csrf\"[^>]*value=\"([^\"]+)\"", b.get("/login").body());
    b.post(
        "/login",
        Map.of(
            "username", user.username(), "password", user.password().orElseThrow(), "_csrf", csrf),
        null);
    String challenge = Browser.challenge(Browser.verifier());

    // The outer state (and any other outer parameter) is not the request's.
    String good = sign(request(challenge).build(), key);
    String location =
        Browser.location(
            b.get(
                "/oauth2/authorize?client_id=jar-portal&state=outer&request="
                    + URLEncoder.encode(good, StandardCharsets.UTF_8)));
    assertThat(location).startsWith(REDIRECT + "?");
    assertThat(Browser.query(location))
        .containsEntry("state", "from-the-object")
        .containsKey("code");

    ECKey other = new ECKeyGenerator(Curve.P_256).keyID("k1").generate();
    Map<String, String> forgeries =
        Map.of(
            "another key", sign(request(challenge).build(), other),
            "alg none", new PlainJWT(request(challenge).build()).serialize(),
            "another issuer", sign(edit(request(challenge), c -> c.issuer("evil")), key),
            "another audience",
                sign(edit(request(challenge), c -> c.audience("https://evil.example")), key),
            "expired",
                sign(
                    edit(
                        request(challenge),
                        c -> c.expirationTime(Date.from(Instant.now().minusSeconds(300)))),
                    key),
            "another client_id",
                sign(edit(request(challenge), c -> c.claim("client_id", "x")), key));
    for (Map.Entry<String, String> f : forgeries.entrySet()) {
      HttpResponse<String> r =
          b.get(
              "/oauth2/authorize?client_id=jar-portal&request="
                  + URLEncoder.encode(f.getValue(), StandardCharsets.UTF_8));
      assertThat(r.statusCode()).as(f.getKey()).isEqualTo(400);
      assertThat(r.headers().firstValue("Location")).as(f.getKey()).isEmpty();
      assertThat(r.body()).as(f.getKey()).contains("invalid_request_object");
    }
    // A client that registered no keys cannot send request objects.
    HttpResponse<String> keyless =
        b.get(
            "/oauth2/authorize?client_id="
                + demo.clientId()
                + "&request="
                + URLEncoder.encode(good, StandardCharsets.UTF_8));
    assertThat(keyless.statusCode()).isEqualTo(400);
    // Discovery says so.
    assertThat(b.get("/.well-known/openid-configuration").body())
        .contains("\"request_parameter_supported\":true");
  }

  private static JWTClaimsSet edit(JWTClaimsSet.Builder b, UnaryOperator<JWTClaimsSet.Builder> f) {
    return f.apply(b).build();
  }
}
