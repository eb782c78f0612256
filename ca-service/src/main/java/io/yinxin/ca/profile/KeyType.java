package io.yinxin.ca.profile;

/** Public key types a profile may allow in a request. */
public enum KeyType {
  /** ECDSA on NIST P-256. */
  EC_P256,
  /** ECDSA on NIST P-384. */
  EC_P384,
  /** SM2 on sm2p256v1 (GM/T 0003). */
  SM2,
  /** RSA of at least the profile's {@code rsa-min-bits}. */
  RSA
}
