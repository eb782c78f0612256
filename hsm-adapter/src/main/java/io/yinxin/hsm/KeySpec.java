package io.yinxin.hsm;

import java.util.Optional;

/** Key types a backend may create. */
public enum KeySpec {
  EC_P256("EC", "secp256r1"),
  EC_P384("EC", "secp384r1"),
  RSA_3072("RSA", null),
  ED25519("Ed25519", null),
  /** SM2 on curve sm2p256v1 (GM/T 0003), OID 1.2.156.10197.1.301. */
  SM2("EC", "sm2p256v1");

  private final String jcaAlgorithm;
  private final String curve;

  KeySpec(String jcaAlgorithm, String curve) {
    this.jcaAlgorithm = jcaAlgorithm;
    this.curve = curve;
  }

  /** The JCA key algorithm name ({@code EC}, {@code RSA}, {@code Ed25519}). */
  public String jcaAlgorithm() {
    return jcaAlgorithm;
  }

  /** The named curve for EC and SM2 keys. */
  public Optional<String> curve() {
    return Optional.ofNullable(curve);
  }

  /** The algorithm this key type signs with unless told otherwise. */
  public SignatureAlgorithm defaultAlgorithm() {
    switch (this) {
      case EC_P256:
        return SignatureAlgorithm.ECDSA_SHA256;
      case EC_P384:
        return SignatureAlgorithm.ECDSA_SHA384;
      case RSA_3072:
        return SignatureAlgorithm.RSA_PKCS1_SHA256;
      case ED25519:
        return SignatureAlgorithm.ED25519;
      default:
        return SignatureAlgorithm.SM3_WITH_SM2;
    }
  }

  /** Whether {@code alg} can be used with a key of this type. */
  public boolean allows(SignatureAlgorithm alg) {
    return alg.keySpecs().contains(this);
  }
}
