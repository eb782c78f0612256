package io.yinxin.audit.access;

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
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Date;
import java.util.List;

/**
 * An OAuth2 issuer for tests, on 127.0.0.1: an OpenID discovery document and a JWKS with one P-256
 * key generated when the test runs, and the access tokens it signs (RFC 9068 shape), plus the
 * forgeries an attacker would try against a resource server that trusts it.
 */
public final class TestIssuer implements AutoCloseable {
  private final HttpServer server;
  private final String issuer;
  private final ECKey key;

  public TestIssuer() throws Exception {
    key = new ECKeyGenerator(Curve.P_256).keyID("k1").generate();
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    issuer = "http://127.0.0.1:" + server.getAddress().getPort() + "/oidc";
    serve(
        "/oidc/.well-known/openid-configuration",
        "{\"issuer\":\"" + issuer + "\",\"jwks_uri\":\"" + issuer + "/jwks\"}");
    serve("/oidc/jwks", new JWKSet(key.toPublicJWK()).toString());
    server.start();
  }

  private void serve(String path, String body) {
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

  public String issuer() {
    return issuer;
  }

  /** Claims of a valid access token for {@code subject} with {@code scope}, valid 5 minutes. */
  public JWTClaimsSet.Builder claims(String subject, String scope) {
    Instant now = Instant.now();
    return new JWTClaimsSet.Builder()
        .issuer(issuer)
        .subject(subject)
        .claim("client_id", subject + "-client")
        .claim("scope", scope)
        .jwtID(java.util.UUID.randomUUID().toString())
        .issueTime(Date.from(now))
        .expirationTime(Date.from(now.plusSeconds(300)));
  }

  /** The claims signed by this issuer's key, typ {@code at+jwt}. */
  public String sign(JWTClaimsSet claims) throws Exception {
    SignedJWT jwt =
        new SignedJWT(
            new JWSHeader.Builder(JWSAlgorithm.ES256)
                .keyID("k1")
                .type(new JOSEObjectType("at+jwt"))
                .build(),
            claims);
    jwt.sign(new ECDSASigner(key));
    return jwt.serialize();
  }

  /**
   * Tokens that must be refused although they carry the right scope: signed by another key with the
   * same kid, HS256 keyed with the issuer's public key (algorithm confusion), {@code alg: none},
   * expired, from another issuer, without {@code exp}, of another type (an ID token's {@code
   * JWT}-less header is fine, {@code dpop+jwt} is not), bound to a DPoP key ({@code cnf}) but
   * presented as a bearer token, and not a JWT at all.
   */
  public List<String> forgeries(String subject, String scope) throws Exception {
    JWTClaimsSet good = claims(subject, scope).build();
    ECKey other = new ECKeyGenerator(Curve.P_256).keyID("k1").generate();
    SignedJWT foreign =
        new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("k1").build(), good);
    foreign.sign(new ECDSASigner(other));
    SignedJWT hmac = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), good);
    hmac.sign(
        new MACSigner(java.util.Arrays.copyOf(key.toPublicJWK().toJSONString().getBytes(), 64)));
    SignedJWT dpop =
        new SignedJWT(
            new JWSHeader.Builder(JWSAlgorithm.ES256)
                .keyID("k1")
                .type(new JOSEObjectType("dpop+jwt"))
                .build(),
            good);
    dpop.sign(new ECDSASigner(key));
    Instant now = Instant.now();
    return List.of(
        foreign.serialize(),
        hmac.serialize(),
        new PlainJWT(good).serialize(),
        dpop.serialize(),
        sign(claims(subject, scope).expirationTime(Date.from(now.minusSeconds(120))).build()),
        sign(claims(subject, scope).issuer("https://evil.example").build()),
        sign(new JWTClaimsSet.Builder(good).expirationTime(null).build()),
        sign(
            new JWTClaimsSet.Builder(good)
                .claim(
                    "cnf", java.util.Map.of("jkt", "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"))
                .build()),
        "not.a.jwt");
  }

  @Override
  public void close() throws IOException {
    server.stop(0);
  }
}
