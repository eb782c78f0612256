package io.yinxin.sso.token;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jwt.JWTClaimsSet;
import io.yinxin.hsm.KeyService;
import io.yinxin.hsm.bridge.KeyServiceJwsSigner;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.security.oauth2.jose.jws.SignatureAlgorithm;
import org.springframework.security.oauth2.jwt.JwsHeader;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.jwt.JwtClaimsSet;
import org.springframework.security.oauth2.jwt.JwtEncoder;
import org.springframework.security.oauth2.jwt.JwtEncoderParameters;
import org.springframework.security.oauth2.jwt.JwtEncodingException;

/**
 * Spring Security's {@link JwtEncoder} with the signing key in the key backend: the header's
 * algorithm picks the key ({@link SigningKeys}), the key ID is its thumbprint, the signature is
 * made by {@link KeyServiceJwsSigner}. Spring's own {@code NimbusJwtEncoder} needs the private key
 * in memory, which Yinxin's keys never are. Access tokens ({@code typ at+jwt}) and the ID token of
 * a token response are signed without a separate KEY_USED event: the TOKEN_ISSUED event that must
 * be durable before they are returned names the key ({@link AuditedTokenGenerator}, {@link
 * TokenIssuance}).
 */
public final class KeyServiceJwtEncoder implements JwtEncoder {
  private final KeyService keyService;
  private final SigningKeys keys;

  public KeyServiceJwtEncoder(KeyService keyService, SigningKeys keys) {
    this.keyService = keyService;
    this.keys = keys;
  }

  @Override
  public Jwt encode(JwtEncoderParameters parameters) {
    JwsHeader requested = parameters.getJwsHeader();
    JwtClaimsSet claims = parameters.getClaims();
    String alg =
        requested == null || requested.getAlgorithm() == null
            ? SignatureAlgorithm.ES256.getName()
            : requested.getAlgorithm().getName();
    SigningKeys.SigningKey key =
        keys.forAlgorithm(JWSAlgorithm.parse(alg))
            .orElseThrow(() -> new JwtEncodingException("no signing key for " + alg));
    JWSHeader.Builder header = new JWSHeader.Builder(key.jwsAlgorithm()).keyID(key.keyId());
    if (requested != null && requested.getType() != null) {
      header.type(new JOSEObjectType(requested.getType()));
    }
    boolean accessToken = requested != null && "at+jwt".equals(requested.getType());
    JWTClaimsSet.Builder set = new JWTClaimsSet.Builder();
    claims
        .getClaims()
        .forEach(
            (name, value) -> {
              if (accessToken && name.equals("scope") && value instanceof Collection<?> scopes) {
                // RFC 9068 §2.2.3: one space-separated string in the token (Spring writes an
                // array, which resource servers reading the RFC's form refuse). Spring's own
                // copy of the claims keeps its collection, which its endpoints expect.
                set.claim(
                    name, String.join(" ", scopes.stream().map(String::valueOf).sorted().toList()));
              } else {
                set.claim(name, nimbus(value));
              }
            });
    JWSHeader jwsHeader = header.build();
    String purpose = "oidc-token kid=" + key.keyId();
    // The JWS compact serialisation (RFC 7515 §7.1) made here rather than by Nimbus's SignedJWT,
    // whose constant-time Base64 encoder took 8% of a token request's CPU; nothing encoded here is
    // secret, so the JDK's encoder does.
    String signingInput =
        B64.encodeToString(jwsHeader.toString().getBytes(StandardCharsets.UTF_8))
            + "."
            + B64.encodeToString(set.build().toString().getBytes(StandardCharsets.UTF_8));
    // An access token's TOKEN_ISSUED event names its key (AuditedTokenGenerator), so its
    // signature needs no KEY_USED event of its own; nor does the ID token of a token response,
    // which that event covers too (TokenIssuance). Other tokens keep theirs.
    String signature;
    try {
      signature =
          (accessToken || TokenIssuance.signingIdToken()
                  ? KeyServiceJwsSigner.recordedByCaller(
                      keyService, key.ref(), key.algorithm(), purpose)
                  : new KeyServiceJwsSigner(keyService, key.ref(), key.algorithm(), purpose))
              .sign(jwsHeader, signingInput.getBytes(StandardCharsets.US_ASCII))
              .toString();
    } catch (JOSEException e) {
      throw new JwtEncodingException("the key backend did not sign the token", e);
    }
    Map<String, Object> headers = new LinkedHashMap<>(jwsHeader.toJSONObject());
    return new Jwt(
        signingInput + "." + signature,
        claims.getIssuedAt(),
        claims.getExpiresAt(),
        headers,
        claims.getClaims());
  }

  private static final java.util.Base64.Encoder B64 =
      java.util.Base64.getUrlEncoder().withoutPadding();

  /** Claim values as Nimbus serialises them: times as Date (seconds), URLs as text. */
  private static Object nimbus(Object value) {
    if (value instanceof Instant i) {
      return Date.from(i);
    }
    if (value instanceof URL u) {
      return u.toExternalForm();
    }
    if (value instanceof Collection<?> c) {
      return new ArrayList<>(c);
    }
    return value;
  }
}
