package io.yinxin.sign.http;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.DefaultJOSEObjectTypeVerifier;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import io.yinxin.sign.SignException;
import io.yinxin.sign.SignException.Code;
import java.io.InputStream;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Callers authenticated by OAuth2 access tokens (JWT, RFC 9068) from the configured issuer: the
 * signature checked against the keys the issuer publishes (its OpenID discovery document names the
 * JWKS, fetched lazily and cached by Nimbus), {@code iss} equal to the issuer, {@code exp}
 * required, the scope in {@code scope} or {@code scp}. A seal is granted to a token's subject
 * ({@code sub}) or its client ({@code client_id}). Only asymmetric algorithms are accepted, so a
 * token cannot be forged with the public key as an HMAC secret, and {@code alg: none} never passes.
 */
public final class JwtCallers implements Callers {
  private static final Set<JWSAlgorithm> ALGORITHMS =
      Set.of(
          JWSAlgorithm.RS256,
          JWSAlgorithm.RS384,
          JWSAlgorithm.RS512,
          JWSAlgorithm.PS256,
          JWSAlgorithm.ES256,
          JWSAlgorithm.ES384,
          JWSAlgorithm.EdDSA);

  private final String issuer;
  private final Duration timeout;
  private volatile DefaultJWTProcessor<SecurityContext> processor;

  /**
   * The issuer's metadata is fetched on first use (the issuer may be this very node, not yet
   * listening while it starts), and again after a failure.
   */
  public JwtCallers(String issuer, Duration timeout) {
    this.issuer = issuer;
    this.timeout = timeout;
  }

  private DefaultJWTProcessor<SecurityContext> processor() {
    DefaultJWTProcessor<SecurityContext> p = processor;
    if (p != null) {
      return p;
    }
    synchronized (this) {
      if (processor != null) {
        return processor;
      }
      URI jwks;
      try {
        jwks = discoverJwks(issuer, timeout);
      } catch (IllegalStateException e) {
        throw new SignException(Code.UNAVAILABLE, "the token issuer cannot be reached");
      }
      JWKSource<SecurityContext> keys;
      try {
        URL url = jwks.toURL();
        keys =
            JWKSourceBuilder.create(
                    url,
                    new com.nimbusds.jose.util.DefaultResourceRetriever(
                        (int) timeout.toMillis(), (int) timeout.toMillis(), 512 * 1024))
                .retrying(true)
                .build();
      } catch (java.net.MalformedURLException e) {
        throw new SignException(Code.UNAVAILABLE, "the issuer's jwks_uri is not a URL");
      }
      p = new DefaultJWTProcessor<>();
      p.setJWSTypeVerifier(
          new DefaultJOSEObjectTypeVerifier<>(
              JOSEObjectType.JWT, new JOSEObjectType("at+jwt"), null));
      p.setJWSKeySelector(new JWSVerificationKeySelector<>(ALGORITHMS, keys));
      p.setJWTClaimsSetVerifier(
          new DefaultJWTClaimsVerifier<>(
              new JWTClaimsSet.Builder().issuer(issuer).build(), Set.of("exp", "iat")));
      processor = p;
      return p;
    }
  }

  /** The issuer's JWKS URL from its OpenID discovery document (or RFC 8414 metadata). */
  static URI discoverJwks(String issuer, Duration timeout) {
    String base = issuer.endsWith("/") ? issuer.substring(0, issuer.length() - 1) : issuer;
    HttpClient http = HttpClient.newBuilder().connectTimeout(timeout).build();
    try {
      HttpResponse<InputStream> r =
          http.send(
              HttpRequest.newBuilder(URI.create(base + "/.well-known/openid-configuration"))
                  .timeout(timeout)
                  .build(),
              HttpResponse.BodyHandlers.ofInputStream());
      byte[] body;
      try (InputStream in = r.body()) {
        body = in.readNBytes(256 * 1024);
      }
      if (r.statusCode() != 200) {
        throw new IllegalStateException(
            "the issuer's discovery document answered " + r.statusCode());
      }
      JsonNode doc = JsonMapper.builder().build().readTree(body);
      if (!issuer.equals(doc.path("issuer").asString())) {
        throw new IllegalStateException("the discovery document names another issuer");
      }
      String jwks = doc.path("jwks_uri").asString();
      if (!jwks.startsWith("https://") && !jwks.startsWith("http://")) {
        throw new IllegalStateException("the discovery document has no http(s) jwks_uri");
      }
      return URI.create(jwks);
    } catch (java.io.IOException e) {
      throw new IllegalStateException("the issuer's discovery document cannot be fetched", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  @Override
  public Caller authenticate(String scope, String authorization) {
    if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      throw new SignException(Code.UNAUTHORIZED, "a bearer token is required");
    }
    JWTClaimsSet claims;
    try {
      claims = processor().process(authorization.substring(7).strip(), null);
    } catch (SignException e) {
      throw e;
    } catch (Exception e) {
      throw new SignException(Code.UNAUTHORIZED, "token not accepted");
    }
    Set<String> scopes = new HashSet<>();
    try {
      String s = claims.getStringClaim("scope");
      if (s != null) {
        scopes.addAll(Arrays.asList(s.split(" ")));
      }
      List<String> scp = claims.getStringListClaim("scp");
      if (scp != null) {
        scopes.addAll(scp);
      }
    } catch (java.text.ParseException e) {
      throw new SignException(Code.UNAUTHORIZED, "token not accepted");
    }
    if (!scopes.contains(scope)) {
      throw new SignException(Code.FORBIDDEN, "the token lacks scope " + scope);
    }
    List<String> names = new ArrayList<>();
    if (claims.getSubject() != null) {
      names.add(claims.getSubject());
    }
    Object client = claims.getClaim("client_id");
    if (client instanceof String c && !names.contains(c)) {
      names.add(c);
    }
    if (names.isEmpty()) {
      throw new SignException(Code.UNAUTHORIZED, "the token names no subject or client");
    }
    return new Caller(names.get(0), names);
  }

  @Override
  public String toString() {
    return "JwtCallers[" + issuer + "]";
  }
}
