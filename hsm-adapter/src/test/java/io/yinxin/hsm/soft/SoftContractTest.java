package io.yinxin.hsm.soft;

import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.hsm.KeyException;
import io.yinxin.hsm.KeyInfo;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyService;
import io.yinxin.hsm.KeyServices;
import io.yinxin.hsm.KeySpec;
import io.yinxin.hsm.SignatureAlgorithm;
import io.yinxin.hsm.testing.JcaVerify;
import io.yinxin.hsm.testing.KeyServiceContract;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The contract suite on the PKCS#12 development backend. */
class SoftContractTest extends KeyServiceContract {
  private static Path dir;
  private static KeyServices service;
  private static SoftKeyBackend backend;

  @BeforeAll
  static void open() throws Exception {
    dir = Files.createTempDirectory("yinxin-soft-");
    backend = SoftKeyBackend.open(dir.resolve("keys"));
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
    return KeyRef.Scheme.SOFT;
  }

  @Override
  protected Set<io.yinxin.hsm.DataKeySpec> supportedDataKeySpecs() {
    return java.util.EnumSet.allOf(io.yinxin.hsm.DataKeySpec.class);
  }

  @Override
  protected Set<KeySpec> supportedSpecs() {
    return EnumSet.allOf(KeySpec.class);
  }

  @Override
  protected KeyRef missingKey() {
    return KeyRef.soft("no-such-key");
  }

  @Override
  protected String secretText() {
    try {
      return Files.readString(dir.resolve("keys").resolve(SoftKeyBackend.PASSWORD_FILE)).strip();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Override
  protected KeyException openWithWrongSecret() {
    service.generate(scheme(), KeySpec.EC_P256, uniqueLabel("pw"));
    try {
      SoftKeyBackend.open(dir.resolve("keys"), (secretText() + "x").toCharArray()).close();
      throw new AssertionError("a wrong keystore password was accepted");
    } catch (KeyException e) {
      return e;
    }
  }

  @Test
  void keysSurviveReopeningAndThePasswordFileIsOwnerOnly() throws Exception {
    Path d = Files.createTempDirectory("yinxin-soft-reopen-");
    KeyInfo info;
    try (SoftKeyBackend b = SoftKeyBackend.open(d)) {
      info = b.generate(KeySpec.SM2, "sm2-reopen");
    }
    assertThat(
            PosixFilePermissions.toString(
                Files.getPosixFilePermissions(d.resolve("keystore.password"))))
        .isEqualTo("rw-------");
    assertThat(
            PosixFilePermissions.toString(
                Files.getPosixFilePermissions(d.resolve("sm2-reopen.p12"))))
        .isEqualTo("rw-------");
    try (SoftKeyBackend b = SoftKeyBackend.open(d)) {
      byte[] data = randomData(100);
      byte[] sig = b.sign(info.ref(), SignatureAlgorithm.SM3_WITH_SM2, data);
      assertThat(JcaVerify.verify(SignatureAlgorithm.SM3_WITH_SM2, info.publicKey(), data, sig))
          .isTrue();
      assertThat(b.describe(info.ref()).spec()).isEqualTo(KeySpec.SM2);
    }
  }

  /** The raw data key in its file, read as an outside tool would (JDK PKCS#12, the password). */
  private byte[] rawDataKey(String label) throws Exception {
    java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
    char[] pw = secretText().toCharArray();
    try (var in = Files.newInputStream(dir.resolve("keys").resolve(label + ".aead"))) {
      ks.load(in, pw);
    }
    String alias = ks.aliases().nextElement();
    return ks.getKey(alias, pw).getEncoded();
  }

  /** GCM by Bouncy Castle's lightweight engines, not by the JCA path the backend takes. */
  private static byte[] lightweightGcm(
      boolean encrypt,
      org.bouncycastle.crypto.BlockCipher engine,
      byte[] key,
      byte[] nonce,
      byte[] aad,
      byte[] input)
      throws Exception {
    var gcm = org.bouncycastle.crypto.modes.GCMBlockCipher.newInstance(engine);
    gcm.init(
        encrypt,
        new org.bouncycastle.crypto.params.AEADParameters(
            new org.bouncycastle.crypto.params.KeyParameter(key), 128, nonce, aad));
    byte[] out = new byte[gcm.getOutputSize(input.length)];
    int n = gcm.processBytes(input, 0, input.length, out, 0);
    n += gcm.doFinal(out, n);
    return java.util.Arrays.copyOf(out, n);
  }

  @Test
  void dataKeyCiphertextsAreStandardGcmThatAnotherImplementationOpensBothWays() throws Exception {
    // SM4 itself against GB/T 32907-2016 Appendix A.1 (key = plaintext = 0123...3210).
    byte[] k = java.util.HexFormat.of().parseHex("0123456789abcdeffedcba9876543210");
    var sm4 = new org.bouncycastle.crypto.engines.SM4Engine();
    sm4.init(true, new org.bouncycastle.crypto.params.KeyParameter(k));
    byte[] block = new byte[16];
    sm4.processBlock(k, 0, block, 0);
    assertThat(java.util.HexFormat.of().formatHex(block))
        .isEqualTo("681edf34d206965e86b3e94f536e4246");

    byte[] aad = "sso.accounts|alice".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    byte[] plaintext = "11010519491231002X".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    for (io.yinxin.hsm.DataKeySpec spec : io.yinxin.hsm.DataKeySpec.values()) {
      String label = uniqueLabel("dk-judge");
      KeyRef ref = service.generateDataKey(scheme(), spec, label);
      byte[] key = rawDataKey(label);
      assertThat(key).hasSize(spec == io.yinxin.hsm.DataKeySpec.AES_256_GCM ? 32 : 16);
      java.util.function.Supplier<org.bouncycastle.crypto.BlockCipher> engine =
          () ->
              spec == io.yinxin.hsm.DataKeySpec.AES_256_GCM
                  ? org.bouncycastle.crypto.engines.AESEngine.newInstance()
                  : new org.bouncycastle.crypto.engines.SM4Engine();
      // Ours, opened by theirs: version, kind, 12-byte nonce, ciphertext and tag.
      byte[] ct = service.encrypt(ref, plaintext, aad, "test");
      byte[] nonce = java.util.Arrays.copyOfRange(ct, 2, 14);
      byte[] sealed = java.util.Arrays.copyOfRange(ct, 14, ct.length);
      assertThat(lightweightGcm(false, engine.get(), key, nonce, aad, sealed)).isEqualTo(plaintext);
      // Theirs, opened by ours.
      byte[] theirNonce = randomData(12);
      byte[] theirs = lightweightGcm(true, engine.get(), key, theirNonce, aad, plaintext);
      byte[] framed = new byte[14 + theirs.length];
      framed[0] = 1;
      framed[1] = ct[1];
      System.arraycopy(theirNonce, 0, framed, 2, 12);
      System.arraycopy(theirs, 0, framed, 14, theirs.length);
      assertThat(service.decrypt(ref, framed, aad, "test")).isEqualTo(plaintext);
    }
  }
}
