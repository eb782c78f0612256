package io.yinxin.hsm.bridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import io.yinxin.hsm.KeyInfo;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyServices;
import io.yinxin.hsm.KeySpec;
import io.yinxin.hsm.KeyUse;
import io.yinxin.hsm.SignatureAlgorithm;
import io.yinxin.hsm.soft.SoftKeyBackend;
import io.yinxin.hsm.testing.JcaVerify;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The BC, Nimbus and JCA bridges sign with backend keys and record every use. */
class BridgeTest {
  private static final List<KeyUse> uses = new CopyOnWriteArrayList<>();
  private static KeyServices keys;

  @BeforeAll
  static void open() throws Exception {
    keys =
        new KeyServices(
            List.of(SoftKeyBackend.open(Files.createTempDirectory("yinxin-bridge-"))),
            List.of(uses::add));
  }

  @AfterAll
  static void close() {
    keys.close();
  }

  @Test
  void contentSignerProducesACertificateThatVerifiesAndRecordsThePurpose() throws Exception {
    KeyInfo ca = keys.generate(KeyRef.Scheme.SOFT, KeySpec.EC_P384, "bridge-ca");
    X500Name name = new X500Name("CN=Bridge Test CA");
    var builder =
        new X509v3CertificateBuilder(
            name,
            BigInteger.TEN,
            Date.from(Instant.now()),
            Date.from(Instant.now().plusSeconds(3600)),
            name,
            SubjectPublicKeyInfo.getInstance(ca.publicKey().getEncoded()));
    X509Certificate cert =
        new JcaX509CertificateConverter()
            .getCertificate(
                builder.build(
                    new KeyServiceContentSigner(
                        keys, ca.ref(), SignatureAlgorithm.ECDSA_SHA384, "cert:test")));
    cert.verify(ca.publicKey());
    assertThat(cert.getSigAlgName()).isEqualTo("SHA384withECDSA");
    assertThat(uses)
        .anySatisfy(
            u -> {
              assertThat(u.ref()).isEqualTo(ca.ref());
              assertThat(u.operation()).isEqualTo(KeyUse.Operation.SIGN);
              assertThat(u.purpose()).isEqualTo("cert:test");
              assertThat(u.algorithm()).contains(SignatureAlgorithm.ECDSA_SHA384);
            });
  }

  @Test
  void jwsSignerTokensVerifyWithNimbusVerifiers() throws Exception {
    KeyInfo ec = keys.generate(KeyRef.Scheme.SOFT, KeySpec.EC_P256, "bridge-es256");
    KeyInfo rsa = keys.generate(KeyRef.Scheme.SOFT, KeySpec.RSA_3072, "bridge-rs256");
    KeyInfo ed = keys.generate(KeyRef.Scheme.SOFT, KeySpec.ED25519, "bridge-eddsa");

    JWSObject es = sign(ec, SignatureAlgorithm.ECDSA_SHA256);
    assertThat(es.getSignature().decode()).hasSize(64);
    assertThat(es.verify(new ECDSAVerifier((ECPublicKey) ec.publicKey()))).isTrue();

    assertThat(
            sign(rsa, SignatureAlgorithm.RSA_PKCS1_SHA256)
                .verify(new RSASSAVerifier((RSAPublicKey) rsa.publicKey())))
        .isTrue();
    assertThat(
            sign(rsa, SignatureAlgorithm.RSA_PSS_SHA256)
                .verify(new RSASSAVerifier((RSAPublicKey) rsa.publicKey())))
        .isTrue();

    // Nimbus's own Ed25519 verifier needs Tink; the JDK verifies RFC 8037 EdDSA just as well.
    JWSObject eddsa = sign(ed, SignatureAlgorithm.ED25519);
    assertThat(eddsa.getHeader().getAlgorithm()).isEqualTo(JWSAlgorithm.EdDSA);
    assertThat(
            JcaVerify.verify(
                SignatureAlgorithm.ED25519,
                ed.publicKey(),
                eddsa.getSigningInput(),
                eddsa.getSignature().decode()))
        .isTrue();
  }

  private static JWSObject sign(KeyInfo k, SignatureAlgorithm alg) throws Exception {
    KeyServiceJwsSigner signer = new KeyServiceJwsSigner(keys, k.ref(), alg, "token:test");
    JWSObject jws =
        new JWSObject(
            new JWSHeader(KeyServiceJwsSigner.jwsAlgorithm(alg)), new Payload("{\"sub\":\"印信\"}"));
    jws.sign(signer);
    return JWSObject.parse(jws.serialize());
  }

  @Test
  void jwsSignerRefusesAHeaderForAnotherAlgorithm() throws Exception {
    KeyInfo ec = keys.generate(KeyRef.Scheme.SOFT, KeySpec.EC_P256, "bridge-mismatch");
    JWSObject jws = new JWSObject(new JWSHeader(JWSAlgorithm.RS256), new Payload("x"));
    assertThatThrownBy(
            () ->
                jws.sign(
                    new KeyServiceJwsSigner(keys, ec.ref(), SignatureAlgorithm.ECDSA_SHA256, "t")))
        .isInstanceOf(com.nimbusds.jose.JOSEException.class)
        .hasMessageContaining("RS256");
  }

  @Test
  void providerSignsWithAKeyHandleThatHasNoKeyMaterial() throws Exception {
    KeyInfo sm2 = keys.generate(KeyRef.Scheme.SOFT, KeySpec.SM2, "bridge-sm2");
    KeyHandle handle = new KeyHandle(keys, sm2.ref(), "provider:test");
    assertThat(handle.getEncoded()).isNull();
    Signature s = Signature.getInstance("SM3withSM2", new KeyServiceProvider());
    s.initSign(handle);
    byte[] data = "国密".getBytes(StandardCharsets.UTF_8);
    s.update(data);
    byte[] sig = s.sign();
    assertThat(JcaVerify.verify(SignatureAlgorithm.SM3_WITH_SM2, sm2.publicKey(), data, sig))
        .isTrue();

    Signature wrong = Signature.getInstance("SHA256withRSA", new KeyServiceProvider());
    assertThatThrownBy(() -> wrong.initSign(handle)).hasMessageContaining("cannot sign");
  }

  @Test
  void generateIsRecordedAsAKeyUse() {
    KeyInfo k = keys.generate(KeyRef.Scheme.SOFT, KeySpec.EC_P256, "bridge-generated");
    assertThat(uses)
        .anySatisfy(
            u -> {
              assertThat(u.ref()).isEqualTo(k.ref());
              assertThat(u.operation()).isEqualTo(KeyUse.Operation.GENERATE);
              assertThat(u.spec()).contains(KeySpec.EC_P256);
            });
  }
}
