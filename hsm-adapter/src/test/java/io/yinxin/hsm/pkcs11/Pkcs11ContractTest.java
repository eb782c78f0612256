package io.yinxin.hsm.pkcs11;

import io.yinxin.hsm.KeyException;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyService;
import io.yinxin.hsm.KeyServices;
import io.yinxin.hsm.KeySpec;
import io.yinxin.hsm.Secret;
import io.yinxin.hsm.testing.KeyServiceContract;
import io.yinxin.hsm.testing.SoftHsm;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The contract suite on SoftHSM2, a real PKCS#11 token. */
class Pkcs11ContractTest extends KeyServiceContract {
  static final String TOKEN = "yinxin-contract";
  private static Pkcs11KeyBackend backend;
  private static KeyServices service;
  private static String pinText;

  @BeforeAll
  static void openToken() {
    Secret pin = SoftHsm.token(TOKEN);
    pinText = new String(pin.value());
    backend = Pkcs11KeyBackend.open(SoftHsm.module(), TOKEN, pin, 16);
    service = KeyServices.of(backend);
  }

  @AfterAll
  static void close() {
    service.close();
  }

  @Override
  protected KeyService service() {
    return service;
  }

  @Override
  protected io.yinxin.hsm.KeyBackend backend() {
    return backend;
  }

  @Override
  protected KeyRef.Scheme scheme() {
    return KeyRef.Scheme.PKCS11;
  }

  @Override
  protected Set<io.yinxin.hsm.DataKeySpec> supportedDataKeySpecs() {
    return Set.of(io.yinxin.hsm.DataKeySpec.AES_256_GCM);
  }

  @Override
  protected Set<KeySpec> supportedSpecs() {
    return EnumSet.of(KeySpec.EC_P256, KeySpec.EC_P384, KeySpec.RSA_3072, KeySpec.ED25519);
  }

  @Override
  protected KeyRef missingKey() {
    return KeyRef.pkcs11(TOKEN, "no-such-key");
  }

  @Override
  protected String secretText() {
    return pinText;
  }

  @Override
  protected KeyException openWithWrongSecret() {
    // A token nobody in this JVM has logged in to: PKCS#11 login state is per process.
    Secret real = SoftHsm.token("yinxin-wrong-pin");
    String wrong = new String(real.value()) + "0";
    try {
      Pkcs11KeyBackend.open(
              SoftHsm.module(), "yinxin-wrong-pin", Secret.of(wrong.toCharArray(), "test"), 4)
          .close();
      throw new AssertionError("a wrong PIN was accepted");
    } catch (KeyException e) {
      pinText = wrong;
      return e;
    }
  }

  @org.junit.jupiter.api.Test
  void aKnownTokenKeyEncryptsStandardAesGcmThatTheJdkOpensBothWays() throws Exception {
    byte[] key = randomData(32);
    String label = uniqueLabel("known-aes");
    SoftHsm.writeAesKey(TOKEN, label, key);
    KeyRef ref = KeyRef.pkcs11(TOKEN, label);
    org.assertj.core.api.Assertions.assertThat(service.dataKey(ref))
        .hasValue(io.yinxin.hsm.DataKeySpec.AES_256_GCM);
    byte[] aad = "sso.accounts|alice".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    byte[] plaintext = "11010519491231002X".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    var aes = new javax.crypto.spec.SecretKeySpec(key, "AES");
    // The token's ciphertext, opened by the JDK.
    byte[] ct = service.encrypt(ref, plaintext, aad, "test");
    javax.crypto.Cipher jdk = javax.crypto.Cipher.getInstance("AES/GCM/NoPadding");
    jdk.init(
        javax.crypto.Cipher.DECRYPT_MODE,
        aes,
        new javax.crypto.spec.GCMParameterSpec(128, java.util.Arrays.copyOfRange(ct, 2, 14)));
    jdk.updateAAD(aad);
    org.assertj.core.api.Assertions.assertThat(jdk.doFinal(ct, 14, ct.length - 14))
        .isEqualTo(plaintext);
    // The JDK's, opened by the token.
    byte[] nonce = randomData(12);
    jdk.init(
        javax.crypto.Cipher.ENCRYPT_MODE, aes, new javax.crypto.spec.GCMParameterSpec(128, nonce));
    jdk.updateAAD(aad);
    byte[] sealed = jdk.doFinal(plaintext);
    byte[] framed = new byte[14 + sealed.length];
    framed[0] = 1;
    framed[1] = 1;
    System.arraycopy(nonce, 0, framed, 2, 12);
    System.arraycopy(sealed, 0, framed, 14, sealed.length);
    org.assertj.core.api.Assertions.assertThat(service.decrypt(ref, framed, aad, "test"))
        .isEqualTo(plaintext);
  }

  @org.junit.jupiter.api.Test
  void aGeneratedDataKeyIsSensitiveAndCannotBeExtracted() throws Exception {
    String label = uniqueLabel("dk-attrs");
    service.generateDataKey(scheme(), io.yinxin.hsm.DataKeySpec.AES_256_GCM, label);
    // OpenSC's view of the object: it cannot read CKA_VALUE.
    ProcessBuilder pb =
        new ProcessBuilder(
                "pkcs11-tool",
                "--module",
                SoftHsm.module().toString(),
                "--token-label",
                TOKEN,
                "--login",
                "--pin",
                new String(SoftHsm.token(TOKEN).value()),
                "--read-object",
                "--type",
                "secrkey",
                "--label",
                label)
            .redirectErrorStream(true);
    pb.environment().put("SOFTHSM2_CONF", System.getenv("SOFTHSM2_CONF"));
    Process p = pb.start();
    String out =
        new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    org.assertj.core.api.Assertions.assertThat(p.waitFor()).as(out).isNotZero();
    org.assertj.core.api.Assertions.assertThat(out).contains("CKR_ATTRIBUTE_SENSITIVE");
  }
}
