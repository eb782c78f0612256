package io.yinxin.hsm;

import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.gm.GMObjectIdentifiers;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;

/** Turns a DER SubjectPublicKeyInfo into a plain JCA public key. */
public final class PublicKeys {
  private PublicKeys() {}

  /**
   * Decodes a SubjectPublicKeyInfo. EC, RSA and Ed25519 keys come back as the JDK's own key
   * classes, so any JCA provider verifies with them; SM2 keys as Bouncy Castle keys.
   */
  public static PublicKey decode(byte[] spki) {
    try {
      SubjectPublicKeyInfo info = SubjectPublicKeyInfo.getInstance(spki);
      ASN1ObjectIdentifier alg = info.getAlgorithm().getAlgorithm();
      X509EncodedKeySpec spec = new X509EncodedKeySpec(spki);
      if (alg.equals(X9ObjectIdentifiers.id_ecPublicKey)) {
        if (GMObjectIdentifiers.sm2p256v1.equals(info.getAlgorithm().getParameters())) {
          return KeyFactory.getInstance("EC", BouncyCastle.PROVIDER).generatePublic(spec);
        }
        return KeyFactory.getInstance("EC").generatePublic(spec);
      }
      if (alg.getId().equals("1.3.101.112")) {
        return KeyFactory.getInstance("Ed25519").generatePublic(spec);
      }
      return KeyFactory.getInstance("RSA").generatePublic(spec);
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new KeyException(KeyException.Code.BACKEND_UNAVAILABLE, "unreadable public key", e);
    }
  }

  /** The key type of a public key. */
  public static KeySpec specOf(PublicKey key) {
    SubjectPublicKeyInfo info = SubjectPublicKeyInfo.getInstance(key.getEncoded());
    String alg = info.getAlgorithm().getAlgorithm().getId();
    if (alg.equals("1.3.101.112")) {
      return KeySpec.ED25519;
    }
    if (info.getAlgorithm().getAlgorithm().equals(X9ObjectIdentifiers.id_ecPublicKey)) {
      Object params = info.getAlgorithm().getParameters();
      if (GMObjectIdentifiers.sm2p256v1.equals(params)) {
        return KeySpec.SM2;
      }
      if (org.bouncycastle.asn1.sec.SECObjectIdentifiers.secp384r1.equals(params)) {
        return KeySpec.EC_P384;
      }
      if (X9ObjectIdentifiers.prime256v1.equals(params)) {
        return KeySpec.EC_P256;
      }
    }
    if (key instanceof java.security.interfaces.RSAPublicKey rsa
        && rsa.getModulus().bitLength() == 3072) {
      return KeySpec.RSA_3072;
    }
    throw new KeyException(
        KeyException.Code.UNSUPPORTED_ALGORITHM, "key type " + alg + " is not one Yinxin uses");
  }
}
