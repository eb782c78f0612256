package io.yinxin.hsm.bridge;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.impl.ECDSA;
import com.nimbusds.jose.jca.JCAContext;
import com.nimbusds.jose.util.Base64URL;
import io.yinxin.hsm.KeyException;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyService;
import io.yinxin.hsm.SignatureAlgorithm;
import java.util.Set;

/**
 * A Nimbus {@link JWSSigner} whose key stays in its backend: for ID tokens, access tokens and JWKS
 * rotation. ES256/ES384 signatures are transcoded from DER to the JOSE R‖S form.
 */
public final class KeyServiceJwsSigner implements JWSSigner {
  private final KeyService keys;
  private final KeyRef ref;
  private final SignatureAlgorithm alg;
  private final JWSAlgorithm jwsAlgorithm;
  private final String purpose;
  private final boolean recordedByCaller;
  private final JCAContext jcaContext = new JCAContext();

  public KeyServiceJwsSigner(KeyService keys, KeyRef ref, SignatureAlgorithm alg, String purpose) {
    this(keys, ref, alg, purpose, false);
  }

  private KeyServiceJwsSigner(
      KeyService keys, KeyRef ref, SignatureAlgorithm alg, String purpose, boolean byCaller) {
    this.keys = keys;
    this.ref = ref;
    this.alg = alg;
    this.jwsAlgorithm = jwsAlgorithm(alg);
    this.purpose = purpose;
    this.recordedByCaller = byCaller;
  }

  /**
   * A signer whose caller records the key use in its own event ({@link
   * KeyService#signRecordedByCaller}): the SSO's access tokens, whose TOKEN_ISSUED event names the
   * key.
   */
  public static KeyServiceJwsSigner recordedByCaller(
      KeyService keys, KeyRef ref, SignatureAlgorithm alg, String purpose) {
    return new KeyServiceJwsSigner(keys, ref, alg, purpose, true);
  }

  /** The JOSE name of an algorithm (RFC 7518, RFC 8037). */
  public static JWSAlgorithm jwsAlgorithm(SignatureAlgorithm alg) {
    switch (alg) {
      case ECDSA_SHA256:
        return JWSAlgorithm.ES256;
      case ECDSA_SHA384:
        return JWSAlgorithm.ES384;
      case RSA_PKCS1_SHA256:
        return JWSAlgorithm.RS256;
      case RSA_PSS_SHA256:
        return JWSAlgorithm.PS256;
      case ED25519:
        return JWSAlgorithm.EdDSA;
      default:
        throw new KeyException(
            KeyException.Code.UNSUPPORTED_ALGORITHM, alg + " has no JOSE algorithm name");
    }
  }

  @Override
  public Base64URL sign(JWSHeader header, byte[] signingInput) throws JOSEException {
    if (!jwsAlgorithm.equals(header.getAlgorithm())) {
      throw new JOSEException(
          "header alg " + header.getAlgorithm() + " does not match key algorithm " + jwsAlgorithm);
    }
    byte[] signature;
    try {
      signature =
          recordedByCaller
              ? keys.signRecordedByCaller(ref, alg, signingInput, purpose)
              : keys.sign(ref, alg, signingInput, purpose);
    } catch (KeyException e) {
      throw new JOSEException(e.getMessage(), e);
    }
    if (alg == SignatureAlgorithm.ECDSA_SHA256 || alg == SignatureAlgorithm.ECDSA_SHA384) {
      signature =
          ECDSA.transcodeSignatureToConcat(
              signature, ECDSA.getSignatureByteArrayLength(jwsAlgorithm));
    }
    return Base64URL.encode(signature);
  }

  @Override
  public Set<JWSAlgorithm> supportedJWSAlgorithms() {
    return Set.of(jwsAlgorithm);
  }

  @Override
  public JCAContext getJCAContext() {
    return jcaContext;
  }
}
