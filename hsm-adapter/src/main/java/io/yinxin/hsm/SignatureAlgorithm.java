package io.yinxin.hsm;

import java.security.spec.AlgorithmParameterSpec;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

/** Signature algorithms; each names the hash and padding completely. */
public enum SignatureAlgorithm {
  ECDSA_SHA256("SHA256withECDSA", EnumSet.of(KeySpec.EC_P256, KeySpec.EC_P384)),
  ECDSA_SHA384("SHA384withECDSA", EnumSet.of(KeySpec.EC_P256, KeySpec.EC_P384)),
  RSA_PKCS1_SHA256("SHA256withRSA", EnumSet.of(KeySpec.RSA_3072)),
  /** RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt (the hash length). */
  RSA_PSS_SHA256("SHA256withRSAandMGF1", EnumSet.of(KeySpec.RSA_3072)),
  ED25519("Ed25519", EnumSet.of(KeySpec.ED25519)),
  /** SM3withSM2 (GM/T 0003), signer ID "1234567812345678". */
  SM3_WITH_SM2("SM3withSM2", EnumSet.of(KeySpec.SM2));

  private final String jcaName;
  private final Set<KeySpec> keySpecs;

  SignatureAlgorithm(String jcaName, Set<KeySpec> keySpecs) {
    this.jcaName = jcaName;
    this.keySpecs = keySpecs;
  }

  /**
   * The Bouncy Castle / JCA name; for PSS the BC name {@code SHA256withRSAandMGF1}, which carries
   * its parameters in the name.
   */
  public String jcaName() {
    return jcaName;
  }

  /** The key type this algorithm is naturally paired with (P-384 for ECDSA-SHA384, ...). */
  public KeySpec defaultKeySpec() {
    switch (this) {
      case ECDSA_SHA256:
        return KeySpec.EC_P256;
      case ECDSA_SHA384:
        return KeySpec.EC_P384;
      case RSA_PKCS1_SHA256:
      case RSA_PSS_SHA256:
        return KeySpec.RSA_3072;
      case ED25519:
        return KeySpec.ED25519;
      default:
        return KeySpec.SM2;
    }
  }

  /** Key types this algorithm signs with. */
  public Set<KeySpec> keySpecs() {
    return EnumSet.copyOf(keySpecs);
  }

  /** Parameters a generic provider needs (only PSS has any). */
  public Optional<AlgorithmParameterSpec> parameters() {
    if (this == RSA_PSS_SHA256) {
      return Optional.of(new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 32, 1));
    }
    return Optional.empty();
  }

  /**
   * The digest a caller computes for {@link KeyService#signDigest}: SHA-256 or SHA-384 for ECDSA
   * and RSA; SM3 for SM2, where the digest is {@code e = SM3(Z ‖ M)}, covering the signer's ID and
   * public key ({@code Z}, GB/T 32918.2 §5.5) as well as the message; empty for Ed25519, which
   * signs the message itself.
   */
  public Optional<String> digestAlgorithm() {
    switch (this) {
      case ECDSA_SHA256:
      case RSA_PKCS1_SHA256:
      case RSA_PSS_SHA256:
        return Optional.of("SHA-256");
      case ECDSA_SHA384:
        return Optional.of("SHA-384");
      case SM3_WITH_SM2:
        return Optional.of("SM3");
      default:
        return Optional.empty();
    }
  }

  /**
   * The DER {@code DigestInfo} (RFC 8017 §9.2) that PKCS#1 v1.5 pads around a digest of this
   * algorithm's hash: what a raw RSA mechanism ({@code CKM_RSA_PKCS}, {@code NONEwithRSA}) signs.
   */
  public byte[] digestInfo(byte[] digest) {
    String hash =
        digestAlgorithm()
            .filter(h -> h.startsWith("SHA-"))
            .orElseThrow(() -> new IllegalStateException(this + " has no PKCS#1 DigestInfo"));
    org.bouncycastle.asn1.ASN1ObjectIdentifier oid =
        "SHA-384".equals(hash)
            ? org.bouncycastle.asn1.nist.NISTObjectIdentifiers.id_sha384
            : org.bouncycastle.asn1.nist.NISTObjectIdentifiers.id_sha256;
    try {
      return new org.bouncycastle.asn1.x509.DigestInfo(
              new org.bouncycastle.asn1.x509.AlgorithmIdentifier(
                  oid, org.bouncycastle.asn1.DERNull.INSTANCE),
              digest)
          .getEncoded(org.bouncycastle.asn1.ASN1Encoding.DER);
    } catch (java.io.IOException e) {
      throw new IllegalStateException("DER encoding in memory", e);
    }
  }

  /** The algorithm's name in a provider-neutral form ({@code RSASSA-PSS} for PSS). */
  public String genericJcaName() {
    return this == RSA_PSS_SHA256 ? "RSASSA-PSS" : jcaName;
  }
}
