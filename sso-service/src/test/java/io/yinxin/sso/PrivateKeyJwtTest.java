package io.yinxin.sso;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import io.yinxin.sso.http.SsoAdmins;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Date;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * private_key_jwt client authentication (RFC 7523): an agency's system holds its own key (its
 * public JWK set served here on 127.0.0.1) and proves itself with a signed assertion; no secret is
 * ever shared. The forgeries an attacker sends are refused with invalid_client: {@code alg: none},
 * HS256 keyed with the public key (algorithm confusion), another key under the same kid, an expired
 * assertion, one for another audience or subject, one without a jti or valid for more than an hour,
 * and the same assertion twice (upstream accepted that one).
 */
@SpringBootTest(
    classes = OpenIdProviderTest.App.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class PrivateKeyJwtTest {
  static ECKey key;
  static HttpServer jwks;

  @DynamicPropertySource
  static void props(DynamicPropertyRegistry r) throws Exception {
    OpenIdProviderTest.h2Node(r, "sso-pkj");
  }

  @BeforeAll
  static void agencyKeys() throws Exception {
    key = new ECKeyGenerator(Curve.P_256).keyID("k1").generate();
    jwks = TestCredentials.jwksServer(new JWKSet(key.toPublicJWK()).toString());
  }

  @AfterAll
  static void stop() {
    jwks.stop(0);
  }

  @LocalServerPort int port;
  @Autowired SsoAdmins admins;

  private String base() {
    return "http://127.0.0.1:" + port;
  }

  private JWTClaimsSet.Builder claims() {
    Instant now = Instant.now();
    return new JWTClaimsSet.Builder()
        .issuer("agency-b")
        .subject("agency-b")
        .audience(base() + "/oauth2/token")
        .jwtID(UUID.randomUUID().toString())
        .issueTime(Date.from(now))
        .expirationTime(Date.from(now.plusSeconds(60)));
  }

  private String signed(JWTClaimsSet c, ECKey with) throws Exception {
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("k1").build(), c);
    jwt.sign(new ECDSASigner(with));
    return jwt.serialize();
  }

  private HttpResponse<String> token(String assertion) throws Exception {
    return new Browser(base())
        .post(
            "/oauth2/token",
            Map.of(
                "grant_type", "client_credentials",
                "scope", "ca:read",
                "client_id", "agency-b",
                "client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion", assertion),
            null);
  }

  @Test
  void anAgencyProvesItselfWithItsKeyAndForgeriesAreRefused() throws Exception {
    HttpResponse<String> reg =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(base() + "/sso/v1/clients"))
                    .header("Authorization", "Bearer " + admins.devToken().orElseThrow())
                    .header("Content-Type", "application/json")
                    .POST(
                        HttpRequest.BodyPublishers.ofString(
                            "{\"client_id\": \"agency-b\", \"client_name\": \"Agency B\","
                                + " \"grant_types\": [\"client_credentials\"], \"scope\":"
                                + " \"ca:read\", \"token_endpoint_auth_method\":"
                                + " \"private_key_jwt\", \"token_endpoint_auth_signing_alg\":"
                                + " \"ES256\", \"jwks_uri\": \"http://127.0.0.1:"
                                + jwks.getAddress().getPort()
                                + "/jwks\"}"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(reg.statusCode()).as(reg.body()).isEqualTo(201);
    assertThat(reg.body()).doesNotContain("client_secret");

    String good = signed(claims().build(), key);
    HttpResponse<String> ok = token(good);
    assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
    assertThat(ok.body()).contains("access_token");

    ECKey other = new ECKeyGenerator(Curve.P_256).keyID("k1").generate();
    SignedJWT hmac = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims().build());
    hmac.sign(
        new MACSigner(
            java.util.Arrays.copyOf(
                key.toPublicJWK().toJSONString().getBytes(StandardCharsets.UTF_8), 64)));
    Instant past = Instant.now().minusSeconds(600);
    String[] forged = {
      new PlainJWT(claims().build()).serialize(),
      hmac.serialize(),
      signed(claims().build(), other),
      signed(
          claims()
              .issueTime(Date.from(past))
              .expirationTime(Date.from(past.plusSeconds(60)))
              .build(),
          key),
      signed(claims().audience("https://elsewhere.example/token").build(), key),
      signed(claims().subject("someone-else").build(), key),
      signed(claims().jwtID(null).build(), key),
      signed(claims().expirationTime(Date.from(Instant.now().plusSeconds(7200))).build(), key),
      good // the same assertion again
    };
    for (String f : forged) {
      HttpResponse<String> r = token(f);
      assertThat(r.statusCode()).as(f + " → " + r.body()).isEqualTo(401);
      assertThat(r.body()).contains("invalid_client");
    }
  }
}
