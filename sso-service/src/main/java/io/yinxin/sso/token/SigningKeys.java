package io.yinxin.sso.token;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import io.yinxin.hsm.KeyInfo;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyService;
import io.yinxin.hsm.SignatureAlgorithm;
import io.yinxin.hsm.bridge.KeyServiceJwsSigner;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The keys tokens are signed with: each a key in the key backend (it never leaves it) and its
 * public JWK, whose key ID is the RFC 7638 thumbprint. The JWK set holds public keys only: the keys
 * that sign now and, after a rotation ({@link KeyRotation}), the retired ones until every token
 * they signed has expired.
 */
public final class SigningKeys {

  /** One signing key. */
  public record SigningKey(
      KeyRef ref, SignatureAlgorithm algorithm, JWSAlgorithm jwsAlgorithm, JWK publicJwk) {
    public String keyId() {
      return publicJwk.getKeyID();
    }
  }

  /** The keys that sign, and the keys published (those and the retired ones still needed). */
  private record State(List<SigningKey> signing, List<SigningKey> published) {}

  private volatile State state;

  private SigningKeys(List<SigningKey> keys) {
    this.state = new State(List.copyOf(keys), List.copyOf(keys));
  }

  /** From now on, {@code signing} sign and {@code published} are in the JWK set. */
  public void replace(List<SigningKey> signing, List<SigningKey> published) {
    this.state = new State(List.copyOf(signing), List.copyOf(published));
  }

  /** A key of the backend as a signing key. */
  public static SigningKey describe(KeyService service, KeyRef ref) {
    KeyInfo info = service.describe(ref);
    SignatureAlgorithm alg = info.spec().defaultAlgorithm();
    JWSAlgorithm jws = KeyServiceJwsSigner.jwsAlgorithm(alg);
    return new SigningKey(ref, alg, jws, publicJwk(info, jws));
  }

  /** The keys named, in order; the first of each JOSE algorithm signs. */
  public static SigningKeys of(KeyService service, List<KeyRef> refs) {
    List<SigningKey> out = new ArrayList<>();
    for (KeyRef ref : refs) {
      out.add(describe(service, ref));
    }
    return new SigningKeys(out);
  }

  private static JWK publicJwk(KeyInfo info, JWSAlgorithm jws) {
    try {
      JWK jwk;
      if (info.publicKey() instanceof ECPublicKey ec) {
        jwk =
            new ECKey.Builder(Curve.forECParameterSpec(ec.getParams()), ec)
                .keyUse(KeyUse.SIGNATURE)
                .algorithm(jws)
                .keyIDFromThumbprint()
                .build();
      } else if (info.publicKey() instanceof RSAPublicKey rsa) {
        jwk =
            new RSAKey.Builder(rsa)
                .keyUse(KeyUse.SIGNATURE)
                .algorithm(jws)
                .keyIDFromThumbprint()
                .build();
      } else {
        throw new IllegalArgumentException(info.ref() + " is neither an EC nor an RSA key");
      }
      return jwk;
    } catch (JOSEException e) {
      throw new IllegalStateException("cannot describe " + info.ref() + " as a JWK", e);
    }
  }

  /** The key that signs {@code alg}, if there is one. */
  public Optional<SigningKey> forAlgorithm(JWSAlgorithm alg) {
    return state.signing().stream().filter(k -> k.jwsAlgorithm().equals(alg)).findFirst();
  }

  /** The key with this key ID (thumbprint), if there is one. */
  public Optional<SigningKey> byKeyId(String kid) {
    return state.published().stream().filter(k -> k.keyId().equals(kid)).findFirst();
  }

  /** The public JWK set (what {@code /oauth2/jwks} serves). */
  public JWKSet publicJwkSet() {
    return new JWKSet(state.published().stream().map(SigningKey::publicJwk).toList());
  }

  /** The keys that sign now. */
  public List<SigningKey> all() {
    return state.signing();
  }

  /** The keys in the JWK set. */
  public List<SigningKey> published() {
    return state.published();
  }
}
