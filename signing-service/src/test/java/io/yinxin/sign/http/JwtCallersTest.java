package io.yinxin.sign.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JOSEObjectType;
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
import io.yinxin.sign.SignException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The seal API accepts an OAuth2 issuer's access tokens: signature against the JWKS named by the
 * issuer's discovery document (served here on 127.0.0.1 by a test issuer whose key is generated
 * when the test runs), issuer, expiry and scope; and refuses the forgeries an attacker tries.
 */
class JwtCallersTest {
  static HttpServer server;
  static String issuer;
  static ECKey key;
  static JwtCallers callers;

  @BeforeAll
  static void setUp() throws Exception {
    key = new ECKeyGenerator(Curve.P_256).keyID("k1").generate();
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    issuer = "http://127.0.0.1:" + server.getAddress().getPort() + "/oidc";
    serve(
        "/oidc/.well-known/openid-configuration",
        "{\"issuer\":\"" + issuer + "\",\"jwks_uri\":\"" + issuer + "/jwks\"}");
    serve("/oidc/jwks", new JWKSet(key.toPublicJWK()).toString());
    server.start();
    callers = new JwtCallers(issuer, Duration.ofSeconds(5));
  }

  private static void serve(String path, String body) {
    server.createContext(
        path,
        ex -> {
          byte[] b = body.getBytes(StandardCharsets.UTF_8);
          ex.getResponseHeaders().add("Content-Type", "application/json");
          ex.sendResponseHeaders(200, b.length);
          ex.getResponseBody().write(b);
          ex.close();
        });
  }

  @AfterAll
  static void tearDown() {
    server.stop(0);
  }

  private static JWTClaimsSet.Builder claims() {
    Instant now = Instant.now();
    return new JWTClaimsSet.Builder()
        .issuer(issuer)
        .subject("erp-system")
        .claim("client_id", "erp-client")
        .claim("scope", "openid seal:use")
        .issueTime(Date.from(now))
        .expirationTime(Date.from(now.plusSeconds(300)));
  }

  private static String signed(JWTClaimsSet c) throws Exception {
    SignedJWT jwt =
        new SignedJWT(
            new JWSHeader.Builder(JWSAlgorithm.ES256)
                .keyID("k1")
                .type(new JOSEObjectType("at+jwt"))
                .build(),
            c);
    jwt.sign(new ECDSASigner(key));
    return "Bearer " + jwt.serialize();
  }

  private static SignException.Code refused(String authorization, String scope) {
    try {
      callers.authenticate(scope, authorization);
      return null;
    } catch (SignException e) {
      return e.code();
    }
  }

  @Test
  void aValidTokenNamesItsSubjectAndClientAndNeedsTheScope() throws Exception {
    Callers.Caller c = callers.authenticate("seal:use", signed(claims().build()));
    assertThat(c.actor()).isEqualTo("erp-system");
    assertThat(c.names()).containsExactly("erp-system", "erp-client");
    assertThat(refused(signed(claims().build()), "seal:admin"))
        .isEqualTo(SignException.Code.FORBIDDEN);
  }

  @Test
  void forgedExpiredForeignAndUnsignedTokensAreRefused() throws Exception {
    Instant now = Instant.now();
    ECKey other = new ECKeyGenerator(Curve.P_256).keyID("k1").generate();
    SignedJWT foreign =
        new SignedJWT(
            new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("k1").build(), claims().build());
    foreign.sign(new ECDSASigner(other));
    // HS256 keyed with the issuer's public key (algorithm confusion).
    SignedJWT hmac = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims().build());
    byte[] secret = java.util.Arrays.copyOf(key.toPublicJWK().toJSONString().getBytes(), 64);
    hmac.sign(new MACSigner(secret));
    List<String> bad =
        List.of(
            "Bearer " + foreign.serialize(),
            "Bearer " + hmac.serialize(),
            "Bearer " + new PlainJWT(claims().build()).serialize(),
            signed(claims().expirationTime(Date.from(now.minusSeconds(60))).build()),
            signed(claims().issuer("https://evil.example").build()),
            signed(new JWTClaimsSet.Builder(claims().build()).expirationTime(null).build()),
            "Bearer not.a.jwt",
            "Basic ZXJwOnNlY3JldA==");
    for (String token : bad) {
      assertThat(refused(token, "seal:use")).as(token).isEqualTo(SignException.Code.UNAUTHORIZED);
    }
    assertThat(refused(null, "seal:use")).isEqualTo(SignException.Code.UNAUTHORIZED);
  }

  @Test
  void anUnreachableIssuerIsUnavailableNotAnAuthenticationFailure() {
    JwtCallers nowhere = new JwtCallers("http://127.0.0.1:9/none", Duration.ofSeconds(1));
    assertThatThrownBy(() -> nowhere.authenticate("seal:use", "Bearer a.b.c"))
        .extracting(e -> ((SignException) e).code())
        .isEqualTo(SignException.Code.UNAVAILABLE);
  }
}
