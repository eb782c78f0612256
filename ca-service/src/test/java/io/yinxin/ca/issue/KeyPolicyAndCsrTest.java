package io.yinxin.ca.issue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.yinxin.ca.CaException;
import io.yinxin.ca.profile.HierarchyConfig;
import io.yinxin.ca.profile.KeyType;
import io.yinxin.ca.profile.Profile;
import io.yinxin.ca.testing.TestCsr;
import io.yinxin.hsm.BouncyCastle;
import java.security.KeyPair;
import java.security.PublicKey;
import java.util.Arrays;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.Test;

class KeyPolicyAndCsrTest {
  static final Profile CITIZEN = HierarchyConfig.defaults().profiles().get("citizen-sign");
  static final Profile SM2 = HierarchyConfig.defaults().profiles().get("citizen-sign-sm2");

  @Test
  void acceptedKeysAreIdentified() {
    Csr p256 = Csr.parseDer(TestCsr.der(TestCsr.ec("secp256r1"), "SHA256withECDSA"));
    assertThat(KeyPolicy.check(CITIZEN, p256.publicKey()).type()).isEqualTo(KeyType.EC_P256);
    Csr p384 = Csr.parseDer(TestCsr.der(TestCsr.ec("secp384r1"), "SHA384withECDSA"));
    assertThat(KeyPolicy.check(CITIZEN, p384.publicKey()).type()).isEqualTo(KeyType.EC_P384);
    Csr rsa = Csr.parseDer(TestCsr.der(TestCsr.rsa(2048), "SHA256withRSA"));
    assertThat(KeyPolicy.check(CITIZEN, rsa.publicKey()).bits()).isEqualTo(2048);
    Csr sm2 = Csr.parseDer(TestCsr.der(TestCsr.ec("sm2p256v1"), "SM3withSM2"));
    assertThat(KeyPolicy.check(SM2, sm2.publicKey()).type()).isEqualTo(KeyType.SM2);
  }

  @Test
  void weakOrForeignKeysAreRefused() {
    Csr rsa1024 = Csr.parseDer(TestCsr.der(TestCsr.rsa(1024), "SHA256withRSA"));
    assertThatThrownBy(() -> KeyPolicy.check(CITIZEN, rsa1024.publicKey()))
        .isInstanceOfSatisfying(
            CaException.class,
            e -> {
              assertThat(e.code()).isEqualTo(CaException.Code.BAD_KEY);
              assertThat(e.getMessage()).contains("2048");
            });
    assertThatThrownBy(() -> Csr.parseDer(TestCsr.der(TestCsr.ec("secp521r1"), "SHA512withECDSA")))
        .isInstanceOfSatisfying(
            CaException.class, e -> assertThat(e.code()).isEqualTo(CaException.Code.BAD_KEY));
    assertThatThrownBy(() -> Csr.parseDer(TestCsr.der(TestCsr.ec("secp256k1"), "SHA256withECDSA")))
        .isInstanceOf(CaException.class);
    assertThatThrownBy(() -> Csr.parseDer(TestCsr.der(TestCsr.ed25519(), "Ed25519")))
        .isInstanceOfSatisfying(
            CaException.class, e -> assertThat(e.code()).isEqualTo(CaException.Code.BAD_KEY));
    Csr sm2 = Csr.parseDer(TestCsr.der(TestCsr.ec("sm2p256v1"), "SM3withSM2"));
    assertThatThrownBy(() -> KeyPolicy.check(CITIZEN, sm2.publicKey()))
        .isInstanceOf(CaException.class);
  }

  @Test
  void anEcPointOffTheCurveIsRefused() throws Exception {
    SubjectPublicKeyInfo spki =
        SubjectPublicKeyInfo.getInstance(TestCsr.ec("secp256r1").getPublic().getEncoded());
    byte[] point = spki.getPublicKeyData().getOctets();
    point[point.length - 1] ^= 1;
    SubjectPublicKeyInfo bad = new SubjectPublicKeyInfo(spki.getAlgorithm(), point);
    assertThatThrownBy(() -> KeyPolicy.describe(bad))
        .isInstanceOfSatisfying(
            CaException.class, e -> assertThat(e.code()).isEqualTo(CaException.Code.BAD_KEY));
  }

  @Test
  void garbageTruncatedOversizedAndForgedCsrsAreRefused() {
    byte[] good = TestCsr.der(TestCsr.ec("secp256r1"), "SHA256withECDSA");
    assertThatThrownBy(() -> Csr.parsePem("not a csr at all"))
        .isInstanceOfSatisfying(
            CaException.class, e -> assertThat(e.code()).isEqualTo(CaException.Code.BAD_CSR));
    assertThatThrownBy(() -> Csr.parseDer(Arrays.copyOf(good, good.length / 2)))
        .isInstanceOfSatisfying(
            CaException.class, e -> assertThat(e.code()).isEqualTo(CaException.Code.BAD_CSR));
    assertThatThrownBy(() -> Csr.parsePem("A".repeat(70_000)))
        .isInstanceOfSatisfying(
            CaException.class, e -> assertThat(e.code()).isEqualTo(CaException.Code.TOO_LARGE));
    assertThatThrownBy(
            () -> Csr.parsePem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
        .isInstanceOfSatisfying(
            CaException.class, e -> assertThat(e.code()).isEqualTo(CaException.Code.BAD_CSR));
    byte[] forged = good.clone();
    forged[forged.length - 3] ^= 0x01;
    assertThatThrownBy(() -> Csr.parseDer(forged))
        .isInstanceOfSatisfying(
            CaException.class,
            e -> {
              assertThat(e.code()).isEqualTo(CaException.Code.BAD_CSR);
              assertThat(e.field()).isEqualTo("csr");
            });
    assertThat(Csr.parsePem(TestCsr.pem(good)).der()).isEqualTo(good);
  }

  @Test
  void everyUsualSignatureAlgorithmOfAnAcceptedKeyIsAccepted() {
    for (String alg : new String[] {"SHA256withECDSA", "SHA384withECDSA", "SHA512withECDSA"}) {
      assertThat(Csr.parseDer(TestCsr.der(TestCsr.ec("secp256r1"), alg)).key().type())
          .isEqualTo(KeyType.EC_P256);
    }
    assertThat(Csr.parseDer(TestCsr.der(TestCsr.ec("secp384r1"), "SHA384withECDSA")).key().bits())
        .isEqualTo(384);
    assertThat(Csr.parseDer(TestCsr.der(TestCsr.rsa(2048), "SHA256withRSAandMGF1")).key().type())
        .isEqualTo(KeyType.RSA);
  }

  @Test
  void aRequestSignedByAnotherKeyIsRefused() {
    String[][] cases = {
      {"secp256r1", "SHA256withECDSA"},
      {"secp384r1", "SHA384withECDSA"},
      {"sm2p256v1", "SM3withSM2"},
    };
    for (String[] c : cases) {
      KeyPair claimed = TestCsr.ec(c[0]);
      KeyPair actual = TestCsr.ec(c[0]);
      assertThatThrownBy(() -> Csr.parseDer(signedBy(claimed.getPublic(), actual, c[1])))
          .as(c[1])
          .isInstanceOfSatisfying(
              CaException.class,
              e -> assertThat(e.getMessage()).contains("no proof of possession"));
    }
    KeyPair rsa = TestCsr.rsa(2048);
    assertThatThrownBy(
            () -> Csr.parseDer(signedBy(rsa.getPublic(), TestCsr.rsa(2048), "SHA256withRSA")))
        .isInstanceOfSatisfying(
            CaException.class, e -> assertThat(e.code()).isEqualTo(CaException.Code.BAD_CSR));
  }

  @Test
  void aSignatureAlgorithmThatDoesNotBelongToTheKeyIsRefused() {
    // ECDSA over the SM2 curve, SM2 over P-256: both sign, neither is a profile anyone accepts.
    KeyPair sm2 = TestCsr.ec("sm2p256v1");
    KeyPair p256 = TestCsr.ec("secp256r1");
    for (byte[] der :
        new byte[][] {
          TestCsr.der(sm2, "SHA256withECDSA"), TestCsr.der(p256, "SM3withSM2"),
        }) {
      assertThatThrownBy(() -> Csr.parseDer(der))
          .isInstanceOfSatisfying(
              CaException.class,
              e -> {
                assertThat(e.code()).isEqualTo(CaException.Code.BAD_CSR);
                assertThat(e.getMessage()).contains("signature algorithm is not supported");
              });
    }
  }

  @Test
  void theSameKeyInAnotherEncodingIsTheSameKeyAndIsCertifiedInTheCanonicalOne() throws Exception {
    String[][] cases = {
      {"secp256r1", "SHA256withECDSA"},
      {"secp384r1", "SHA384withECDSA"},
      {"sm2p256v1", "SM3withSM2"},
    };
    for (String[] c : cases) {
      KeyPair kp = TestCsr.ec(c[0]);
      Csr usual = Csr.parseDer(TestCsr.der(kp, c[1]));
      byte[] compressedDer = TestCsr.derOtherKeyEncoding(kp, c[1]);
      // The request really carries a compressed point (02 or 03 and x only).
      byte[] sent =
          org.bouncycastle.pkcs.PKCS10CertificationRequest.class
              .getConstructor(byte[].class)
              .newInstance(compressedDer)
              .getSubjectPublicKeyInfo()
              .getPublicKeyData()
              .getOctets();
      assertThat(sent[0]).as(c[0]).isIn((byte) 2, (byte) 3);
      Csr compressed = Csr.parseDer(compressedDer);
      assertThat(compressed.key().sha256()).as(c[0]).isEqualTo(usual.key().sha256());
      // What the certificate will carry: the uncompressed point, as the JCA encodes the key.
      assertThat(compressed.publicKey().getEncoded())
          .as(c[0])
          .isEqualTo(kp.getPublic().getEncoded());
      assertThat(compressed.publicKey().getPublicKeyData().getOctets()[0]).isEqualTo((byte) 4);
    }
    KeyPair rsa = TestCsr.rsa(2048);
    Csr withNull = Csr.parseDer(TestCsr.der(rsa, "SHA256withRSA"));
    Csr without = Csr.parseDer(TestCsr.derOtherKeyEncoding(rsa, "SHA256withRSA"));
    assertThat(without.key().sha256()).isEqualTo(withNull.key().sha256());
    assertThat(without.publicKey().getEncoded()).isEqualTo(rsa.getPublic().getEncoded());
    assertThat(without.publicKey().getAlgorithm().getParameters())
        .isEqualTo(org.bouncycastle.asn1.DERNull.INSTANCE);
  }

  @Test
  void rsaRequestsSignedWithMd5OrSha1AreRefused() {
    KeyPair rsa = TestCsr.rsa(2048);
    for (String alg : new String[] {"MD5withRSA", "SHA1withRSA", "SHA1withRSAandMGF1"}) {
      assertThatThrownBy(() -> Csr.parseDer(TestCsr.der(rsa, alg)))
          .as(alg)
          .isInstanceOfSatisfying(
              CaException.class,
              e -> {
                assertThat(e.code()).isEqualTo(CaException.Code.BAD_CSR);
                assertThat(e.getMessage()).contains("signature algorithm is not supported");
              });
    }
    for (String alg : new String[] {"SHA256withRSA", "SHA384withRSA", "SHA512withRSA"}) {
      assertThat(Csr.parseDer(TestCsr.der(rsa, alg)).key().type()).as(alg).isEqualTo(KeyType.RSA);
    }
  }

  private static byte[] signedBy(PublicKey claimed, KeyPair signer, String alg) throws Exception {
    return new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=x"), claimed)
        .build(
            new JcaContentSignerBuilder(alg)
                .setProvider(BouncyCastle.PROVIDER)
                .build(signer.getPrivate()))
        .getEncoded();
  }
}
