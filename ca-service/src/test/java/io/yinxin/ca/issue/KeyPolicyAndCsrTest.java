package io.yinxin.ca.issue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.yinxin.ca.CaException;
import io.yinxin.ca.profile.HierarchyConfig;
import io.yinxin.ca.profile.KeyType;
import io.yinxin.ca.profile.Profile;
import io.yinxin.ca.testing.TestCsr;
import java.util.Arrays;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
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
}
