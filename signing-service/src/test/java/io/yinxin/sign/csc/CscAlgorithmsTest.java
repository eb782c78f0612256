package io.yinxin.sign.csc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.yinxin.hsm.SignatureAlgorithm;
import io.yinxin.sign.SignException;
import java.util.Optional;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.RSASSAPSSparams;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.junit.jupiter.api.Test;

/**
 * The algorithm identifiers a CSC client may send, against the OIDs as RFC 5758, RFC 8017 and NIST
 * publish them (written out here, not taken from the code under test).
 */
class CscAlgorithmsTest {
  private static final Optional<String> NONE = Optional.empty();

  private static byte[] pss(AlgorithmIdentifier hash, AlgorithmIdentifier mgfHash, int salt)
      throws Exception {
    return new RSASSAPSSparams(
            hash,
            new AlgorithmIdentifier(PKCSObjectIdentifiers.id_mgf1, mgfHash),
            new ASN1Integer(salt),
            new ASN1Integer(1))
        .getEncoded("DER");
  }

  @Test
  void publishedIdentifiersNameTheAlgorithmsTheKeyBackendsSign() throws Exception {
    assertThat(CscAlgorithms.resolve("1.2.840.10045.4.3.2", NONE, Optional.empty()))
        .isEqualTo(SignatureAlgorithm.ECDSA_SHA256);
    assertThat(
            CscAlgorithms.resolve(
                "1.2.840.10045.4.3.3", Optional.of("2.16.840.1.101.3.4.2.2"), Optional.empty()))
        .isEqualTo(SignatureAlgorithm.ECDSA_SHA384);
    assertThat(CscAlgorithms.resolve("1.2.840.113549.1.1.11", NONE, Optional.empty()))
        .isEqualTo(SignatureAlgorithm.RSA_PKCS1_SHA256);
    assertThat(
            CscAlgorithms.resolve(
                "1.2.840.113549.1.1.1", Optional.of("2.16.840.1.101.3.4.2.1"), Optional.empty()))
        .isEqualTo(SignatureAlgorithm.RSA_PKCS1_SHA256);
    AlgorithmIdentifier sha256 =
        new AlgorithmIdentifier(NISTObjectIdentifiers.id_sha256, DERNull.INSTANCE);
    assertThat(
            CscAlgorithms.resolve(
                "1.2.840.113549.1.1.10",
                Optional.of("2.16.840.1.101.3.4.2.1"),
                Optional.of(pss(sha256, sha256, 32))))
        .isEqualTo(SignatureAlgorithm.RSA_PSS_SHA256);
  }

  @Test
  void anythingElseIsAnInvalidRequest() throws Exception {
    AlgorithmIdentifier sha256 =
        new AlgorithmIdentifier(NISTObjectIdentifiers.id_sha256, DERNull.INSTANCE);
    AlgorithmIdentifier sha1 =
        new AlgorithmIdentifier(
            new org.bouncycastle.asn1.ASN1ObjectIdentifier("1.3.14.3.2.26"), DERNull.INSTANCE);
    byte[] good = pss(sha256, sha256, 32);
    byte[] ber = good.clone();
    ber[1] = (byte) 0x80; // indefinite length: the same value, not in DER
    Runnable[] bad = {
      () -> CscAlgorithms.resolve("", NONE, Optional.empty()),
      () -> CscAlgorithms.resolve("1.2.840.10045.4.3.4", NONE, Optional.empty()), // SHA-512
      () -> CscAlgorithms.resolve("1.2.840.10045.4.1", NONE, Optional.empty()), // SHA-1
      // SM2 with a SHA-2 hash named, or SM3 with ECDSA
      () ->
          CscAlgorithms.resolve(
              "1.2.156.10197.1.501", Optional.of("2.16.840.1.101.3.4.2.1"), Optional.empty()),
      () ->
          CscAlgorithms.resolve(
              "1.2.840.10045.4.3.2", Optional.of("1.2.156.10197.1.401"), Optional.empty()),
      () -> CscAlgorithms.resolve("1.3.101.112", NONE, Optional.empty()), // Ed25519
      // a hash that contradicts the one the algorithm names
      () ->
          CscAlgorithms.resolve(
              "1.2.840.10045.4.3.2", Optional.of("2.16.840.1.101.3.4.2.2"), Optional.empty()),
      // rsaEncryption without its hash, or with SHA-1
      () -> CscAlgorithms.resolve("1.2.840.113549.1.1.1", NONE, Optional.empty()),
      () ->
          CscAlgorithms.resolve(
              "1.2.840.113549.1.1.1", Optional.of("1.3.14.3.2.26"), Optional.empty()),
      // PSS without parameters, with other ones, with a BER encoding, with garbage
      () ->
          CscAlgorithms.resolve(
              "1.2.840.113549.1.1.10", Optional.of("2.16.840.1.101.3.4.2.1"), Optional.empty()),
      () ->
          CscAlgorithms.resolve(
              "1.2.840.113549.1.1.10",
              Optional.of("2.16.840.1.101.3.4.2.1"),
              Optional.of(pssUnchecked(sha256, sha256, 20))),
      () ->
          CscAlgorithms.resolve(
              "1.2.840.113549.1.1.10",
              Optional.of("2.16.840.1.101.3.4.2.1"),
              Optional.of(pssUnchecked(sha256, sha1, 32))),
      () ->
          CscAlgorithms.resolve(
              "1.2.840.113549.1.1.10", Optional.of("2.16.840.1.101.3.4.2.1"), Optional.of(ber)),
      () ->
          CscAlgorithms.resolve(
              "1.2.840.113549.1.1.10",
              Optional.of("2.16.840.1.101.3.4.2.1"),
              Optional.of(new byte[] {1, 2, 3})),
      // parameters where the algorithm has none
      () -> CscAlgorithms.resolve("1.2.840.10045.4.3.2", NONE, Optional.of(good)),
    };
    for (Runnable r : bad) {
      assertThatThrownBy(r::run)
          .isInstanceOfSatisfying(
              SignException.class,
              e -> assertThat(e.code()).isEqualTo(SignException.Code.INVALID_REQUEST));
    }
  }

  private static byte[] pssUnchecked(AlgorithmIdentifier h, AlgorithmIdentifier m, int salt) {
    try {
      return pss(h, m, salt);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void ecSealsOfferEcdsaRsaSealsPkcs1AndPssAndSm2SealsSm2WithSm3() {
    assertThat(CscAlgorithms.offered(SignatureAlgorithm.ECDSA_SHA256))
        .containsExactly("1.2.840.10045.4.3.2", "1.2.840.10045.4.3.3");
    assertThat(CscAlgorithms.offered(SignatureAlgorithm.RSA_PKCS1_SHA256))
        .containsExactly("1.2.840.113549.1.1.11", "1.2.840.113549.1.1.1", "1.2.840.113549.1.1.10");
    assertThat(CscAlgorithms.offered(SignatureAlgorithm.SM3_WITH_SM2))
        .containsExactly("1.2.156.10197.1.501");
    assertThat(CscAlgorithms.resolve("1.2.156.10197.1.501", NONE, Optional.empty()))
        .isEqualTo(SignatureAlgorithm.SM3_WITH_SM2);
    assertThat(CscAlgorithms.hashLength("1.2.156.10197.1.401")).isEqualTo(32);
    assertThat(CscAlgorithms.hashLength("2.16.840.1.101.3.4.2.1")).isEqualTo(32);
    assertThat(CscAlgorithms.hashLength("2.16.840.1.101.3.4.2.2")).isEqualTo(48);
  }
}
