package io.yinxin.audit.access;

import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.springframework.http.client.SimpleClientHttpRequestFactory;
import org.springframework.security.oauth2.core.DelegatingOAuth2TokenValidator;
import org.springframework.security.oauth2.jose.jws.SignatureAlgorithm;
import org.springframework.security.oauth2.jwt.BadJwtException;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.jwt.JwtClaimNames;
import org.springframework.security.oauth2.jwt.JwtClaimValidator;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.jwt.JwtDecoderInitializationException;
import org.springframework.security.oauth2.jwt.JwtException;
import org.springframework.security.oauth2.jwt.JwtIssuerValidator;
import org.springframework.security.oauth2.jwt.JwtTimestampValidator;
import org.springframework.security.oauth2.jwt.JwtTypeValidator;
import org.springframework.security.oauth2.jwt.NimbusJwtDecoder;
import org.springframework.security.oauth2.jwt.SupplierJwtDecoder;
import org.springframework.web.client.RestTemplate;

/**
 * Access tokens (JWT, RFC 9068) from an OAuth2 / OpenID issuer, as every Yinxin service accepts
 * them beside its configured tokens ({@code yinxin.ca.issuer-uri}, {@code yinxin.audit.issuer-uri};
 * the SSO module is such an issuer, reached only through its published metadata). Spring Security's
 * Nimbus decoder checks the signature against the keys named by the issuer's discovery document
 * (fetched on first use, and again after a failure), {@code iss}, {@code exp} (required)/{@code
 * nbf} and {@code typ} ({@code at+jwt} or {@code JWT}). Only asymmetric algorithms are accepted, so
 * neither {@code alg: none} nor an HMAC made with the public key passes. Scopes come from {@code
 * scope} (space-separated, RFC 9068) or {@code scp}.
 */
public final class IssuerAccessTokens {
  private final String issuer;
  private final JwtDecoder decoder;

  public IssuerAccessTokens(String issuer, Duration timeout) {
    this.issuer = issuer;
    SimpleClientHttpRequestFactory http = new SimpleClientHttpRequestFactory();
    http.setConnectTimeout(timeout);
    http.setReadTimeout(timeout);
    this.decoder =
        new SupplierJwtDecoder(
            () -> {
              NimbusJwtDecoder d =
                  NimbusJwtDecoder.withIssuerLocation(issuer)
                      .restOperations(new RestTemplate(http))
                      .validateType(false)
                      .jwtProcessorCustomizer(p -> p.setJWSVerifierFactory(bouncyCastle()))
                      .jwsAlgorithms(
                          a ->
                              a.addAll(
                                  List.of(
                                      SignatureAlgorithm.ES256,
                                      SignatureAlgorithm.ES384,
                                      SignatureAlgorithm.RS256,
                                      SignatureAlgorithm.PS256)))
                      .build();
              d.setJwtValidator(
                  new DelegatingOAuth2TokenValidator<>(
                      new JwtTimestampValidator(),
                      new JwtIssuerValidator(issuer),
                      new JwtClaimValidator<Object>(JwtClaimNames.EXP, java.util.Objects::nonNull),
                      // A sender-constrained token (DPoP, RFC 9449; mTLS, RFC 8705) is bound to
                      // a key its holder must prove: presented as a bearer token it is refused.
                      new JwtClaimValidator<Object>("cnf", java.util.Objects::isNull),
                      new JwtTypeValidator("at+jwt", "JWT")));
              return d;
            });
  }

  /**
   * Signature checks through Bouncy Castle: the JDK 17 ECDSA verifier took about 2 ms of CPU per
   * token on a 2-core machine, Bouncy Castle's a quarter of that; a public-key check handles no
   * secret, so its timing does not matter.
   */
  public static com.nimbusds.jose.proc.JWSVerifierFactory bouncyCastle() {
    com.nimbusds.jose.crypto.factories.DefaultJWSVerifierFactory f =
        new com.nimbusds.jose.crypto.factories.DefaultJWSVerifierFactory();
    f.getJCAContext().setProvider(io.yinxin.hsm.BouncyCastle.PROVIDER);
    return f;
  }

  /**
   * A verified token: who it names and what it may do.
   *
   * @param subject {@code sub}: the user, or the client itself for a client-credentials token
   * @param clientId {@code client_id} (RFC 9068), or null
   * @param scopes granted scopes
   */
  public record Verified(String subject, String clientId, Set<String> scopes) {}

  /** Why a token was not taken. */
  public static final class Rejected extends RuntimeException {
    private final boolean issuerUnreachable;

    Rejected(String message, Throwable cause, boolean issuerUnreachable) {
      super(message, cause, false, false);
      this.issuerUnreachable = issuerUnreachable;
    }

    /** The token could not be checked (the issuer's keys could not be fetched): answer 503. */
    public boolean issuerUnreachable() {
      return issuerUnreachable;
    }
  }

  /** Whether a bearer token has the shape of a JWT, so it is worth verifying as one. */
  public static boolean looksLikeJwt(String token) {
    int first = token.indexOf('.');
    return first > 0 && token.indexOf('.', first + 1) > first;
  }

  /**
   * Verifies a token and requires a subject.
   *
   * @throws Rejected when it is not accepted, or cannot be checked now
   */
  public Verified verify(String token) {
    Jwt jwt;
    try {
      jwt = decoder.decode(token);
    } catch (BadJwtException e) {
      throw new Rejected("token not accepted", e, false);
    } catch (JwtException | JwtDecoderInitializationException e) {
      throw new Rejected("the token issuer cannot be reached", e, true);
    }
    Set<String> scopes = new HashSet<>();
    if (jwt.getClaims().get("scope") instanceof String str) {
      scopes.addAll(Arrays.asList(str.split(" ")));
    }
    if (jwt.getClaims().get("scp") instanceof List<?> list) {
      list.forEach(v -> scopes.add(String.valueOf(v)));
    }
    String sub = jwt.getSubject();
    if (sub == null || sub.isBlank()) {
      throw new Rejected("the token names no subject", null, false);
    }
    return new Verified(
        sub, jwt.getClaims().get("client_id") instanceof String c ? c : null, Set.copyOf(scopes));
  }

  @Override
  public String toString() {
    return "IssuerAccessTokens[" + issuer + "]";
  }
}
