package io.yinxin.sso.token;

import com.nimbusds.jwt.SignedJWT;
import io.yinxin.sso.client.AssertionReplay;
import jakarta.servlet.http.HttpServletRequest;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.Map;
import org.springframework.security.oauth2.core.OAuth2Error;
import org.springframework.security.oauth2.core.OAuth2ErrorCodes;
import org.springframework.security.oauth2.core.OAuth2TokenValidator;
import org.springframework.security.oauth2.core.OAuth2TokenValidatorResult;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.web.context.request.RequestContextHolder;
import org.springframework.web.context.request.ServletRequestAttributes;

/**
 * Where this provider's own access tokens are accepted (userinfo, the client admin API), a token
 * bound to a key is accepted only with that key, and never as a bearer token:
 *
 * <ul>
 *   <li>{@code cnf.jkt} (DPoP, RFC 9449 §7): only with the {@code DPoP} authorization scheme, where
 *       Spring's DPoP provider then checks the proof (signature, {@code htm}, {@code htu}, {@code
 *       ath}, the key's thumbprint). Each proof is good once on every node: its {@code jti} is
 *       recorded in the database ({@link AssertionReplay}), as at the token endpoint.
 *   <li>{@code cnf.x5t#S256} (RFC 8705 §3): only over mutual TLS with the certificate whose SHA-256
 *       thumbprint it names (on the certificate port, named in discovery's {@code
 *       mtls_endpoint_aliases}).
 * </ul>
 *
 * A token with any other confirmation method is refused. The request is the one being served
 * (Spring's request context, which Boot's filter sets before the security filters run).
 */
public final class BoundTokens implements OAuth2TokenValidator<Jwt> {
  private static final Duration PROOF_LIFETIME = Duration.ofMinutes(5);

  private final AssertionReplay replay;

  public BoundTokens(AssertionReplay replay) {
    this.replay = replay;
  }

  @Override
  public OAuth2TokenValidatorResult validate(Jwt token) {
    Map<String, Object> cnf = token.getClaimAsMap("cnf");
    if (cnf == null) {
      return OAuth2TokenValidatorResult.success();
    }
    HttpServletRequest request =
        RequestContextHolder.getRequestAttributes() instanceof ServletRequestAttributes a
            ? a.getRequest()
            : null;
    if (request == null) {
      return failure(OAuth2ErrorCodes.INVALID_TOKEN, "a bound token outside a request");
    }
    if (cnf.size() == 1 && cnf.get("jkt") instanceof String jkt) {
      String authorization = request.getHeader("Authorization");
      if (authorization == null || !authorization.regionMatches(true, 0, "DPoP ", 0, 5)) {
        return failure(OAuth2ErrorCodes.INVALID_TOKEN, "a DPoP-bound token is not a bearer token");
      }
      String proof = request.getHeader("DPoP");
      String jti;
      Date issued;
      try {
        var claims = SignedJWT.parse(proof == null ? "" : proof).getJWTClaimsSet();
        jti = claims.getJWTID();
        issued = claims.getIssueTime();
      } catch (ParseException e) {
        return failure(OAuth2ErrorCodes.INVALID_DPOP_PROOF, "the DPoP proof is not a JWT");
      }
      if (jti == null || jti.length() > 200 || issued == null) {
        return failure(OAuth2ErrorCodes.INVALID_DPOP_PROOF, "the DPoP proof needs jti and iat");
      }
      // Recorded until the proof could no longer be accepted anyway (Spring allows iat within a
      // minute; kept longer here to be safe), whatever iat claims.
      Instant keep = Instant.now().plus(PROOF_LIFETIME);
      if (!replay.firstUse("dpop-rs\n" + jkt + "\n" + jti, keep)) {
        return failure(OAuth2ErrorCodes.INVALID_DPOP_PROOF, "the DPoP proof was used before");
      }
      return OAuth2TokenValidatorResult.success();
    }
    if (cnf.size() == 1 && cnf.get("x5t#S256") instanceof String thumbprint) {
      if (request.getAttribute("jakarta.servlet.request.X509Certificate")
              instanceof X509Certificate[] chain
          && chain.length > 0
          && thumbprint.equals(thumbprint(chain[0]))) {
        return OAuth2TokenValidatorResult.success();
      }
      return failure(
          OAuth2ErrorCodes.INVALID_TOKEN,
          "a certificate-bound token needs its certificate (mutual TLS)");
    }
    return failure(OAuth2ErrorCodes.INVALID_TOKEN, "unknown confirmation method");
  }

  /** base64url SHA-256 of the certificate's DER: {@code x5t#S256} (RFC 8705 §3.1). */
  public static String thumbprint(X509Certificate c) {
    try {
      return Base64.getUrlEncoder()
          .withoutPadding()
          .encodeToString(MessageDigest.getInstance("SHA-256").digest(c.getEncoded()));
    } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
      throw new IllegalStateException("cannot hash the certificate", e);
    }
  }

  private static OAuth2TokenValidatorResult failure(String code, String description) {
    return OAuth2TokenValidatorResult.failure(new OAuth2Error(code, description, null));
  }
}
