package io.yinxin.hsm.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.yinxin.hsm.DataKeySpec;
import io.yinxin.hsm.KeyException;
import io.yinxin.hsm.KeyInfo;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyService;
import io.yinxin.hsm.KeySpec;
import io.yinxin.hsm.SignatureAlgorithm;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * What every key backend must do, run against each of them: SoftHSM2 (PKCS#11), the PKCS#12 file
 * and Vault Transit (through {@code FakeVaultTransitServer}).
 */
public abstract class KeyServiceContract {
  private static final SecureRandom RANDOM = new SecureRandom();

  /** The service under test, with exactly one backend. */
  protected abstract KeyService service();

  /** That backend. */
  protected abstract io.yinxin.hsm.KeyBackend backend();

  protected abstract KeyRef.Scheme scheme();

  protected abstract Set<KeySpec> supportedSpecs();

  /** The data protection key types the backend creates. */
  protected abstract Set<DataKeySpec> supportedDataKeySpecs();

  /** A reference to a key that does not exist in the backend. */
  protected abstract KeyRef missingKey();

  /** The secret the backend uses (PIN, token, password), which must never appear in an error. */
  protected abstract String secretText();

  /** Opens the backend with a wrong secret and returns what it threw. */
  protected abstract KeyException openWithWrongSecret();

  /**
   * Signatures each of the eight threads of {@link #eightThreadsSigningAtOnceAllVerify} makes: a
   * thousand, unless a backend's every signature is a round trip to a server.
   */
  protected int signaturesPerThread() {
    return 1000;
  }

  protected static String uniqueLabel(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  protected static byte[] randomData(int n) {
    byte[] b = new byte[n];
    RANDOM.nextBytes(b);
    return b;
  }

  @ParameterizedTest
  @EnumSource(SignatureAlgorithm.class)
  void everyAlgorithmSignsAndVerifiesWithPlainJcaOrIsRefusedAsUnsupported(SignatureAlgorithm alg) {
    KeySpec spec = alg.defaultKeySpec();
    String label = uniqueLabel("contract-" + alg.name().toLowerCase(java.util.Locale.ROOT));
    if (!supportedSpecs().contains(spec)) {
      assertThatThrownBy(() -> service().generate(scheme(), spec, label))
          .isInstanceOfSatisfying(
              KeyException.class,
              e -> assertThat(e.code()).isEqualTo(KeyException.Code.UNSUPPORTED_ALGORITHM));
      return;
    }
    KeyInfo info = service().generate(scheme(), spec, label);
    assertThat(info.spec()).isEqualTo(spec);
    byte[] data = randomData(1000);
    byte[] sig = service().sign(info.ref(), alg, data, "contract test");

    assertThat(JcaVerify.verify(alg, service().publicKey(info.ref()), data, sig)).isTrue();
    data[0] ^= 1;
    assertThat(JcaVerify.verify(alg, service().publicKey(info.ref()), data, sig)).isFalse();
  }

  @ParameterizedTest
  @EnumSource(SignatureAlgorithm.class)
  void aDigestSignedThroughTheAdapterVerifiesAsASignatureOverTheMessage(
      SignatureAlgorithm alg, @TempDir Path dir) throws Exception {
    KeySpec spec = alg.defaultKeySpec();
    assumeTrue(supportedSpecs().contains(spec), alg + " is not supported by this backend");
    KeyInfo info = service().generate(scheme(), spec, uniqueLabel("digest"));
    byte[] data = randomData(777);
    if (alg.digestAlgorithm().isEmpty()) {
      assertThatThrownBy(() -> service().signDigest(info.ref(), alg, new byte[32], "contract"))
          .isInstanceOfSatisfying(
              KeyException.class,
              e -> assertThat(e.code()).isEqualTo(KeyException.Code.UNSUPPORTED_ALGORITHM));
      return;
    }
    byte[] digest =
        alg == SignatureAlgorithm.SM3_WITH_SM2
            ? Sm2Digest.e(info.publicKey(), data)
            : java.security.MessageDigest.getInstance(alg.digestAlgorithm().get()).digest(data);
    byte[] sig = service().signDigest(info.ref(), alg, digest, "contract test");

    assertThat(JcaVerify.verify(alg, info.publicKey(), data, sig)).isTrue();
    OpenSsl.Result judged = OpenSsl.verify(dir, alg, info.publicKey(), data, sig);
    assertThat(judged.exitCode()).as(judged.output()).isZero();
    data[5] ^= 1;
    assertThat(JcaVerify.verify(alg, info.publicKey(), data, sig)).isFalse();
    assertThatThrownBy(
            () ->
                service()
                    .signDigest(
                        info.ref(),
                        alg,
                        java.util.Arrays.copyOf(digest, digest.length + 1),
                        "contract"))
        .isInstanceOfSatisfying(
            KeyException.class,
            e -> assertThat(e.code()).isEqualTo(KeyException.Code.INVALID_REQUEST));
  }

  @ParameterizedTest
  @EnumSource(SignatureAlgorithm.class)
  void opensslVerifiesSignaturesMadeThroughTheAdapter(SignatureAlgorithm alg, @TempDir Path dir)
      throws Exception {
    KeySpec spec = alg.defaultKeySpec();
    // Not a pass: an algorithm this backend cannot hold is reported as skipped.
    assumeTrue(supportedSpecs().contains(spec), alg + " is not supported by this backend");
    KeyInfo info = service().generate(scheme(), spec, uniqueLabel("openssl"));
    byte[] data = "印信 outside judge".getBytes(StandardCharsets.UTF_8);
    byte[] sig = service().sign(info.ref(), alg, data, "openssl test");

    OpenSsl.Result ok = OpenSsl.verify(dir, alg, info.publicKey(), data, sig);
    assertThat(ok.exitCode()).as(ok.output()).isZero();
    assertThat(ok.output()).containsPattern("Verified OK|Signature Verified Successfully");

    byte[] other = "something else".getBytes(StandardCharsets.UTF_8);
    OpenSsl.Result bad = OpenSsl.verify(dir, alg, info.publicKey(), other, sig);
    assertThat(bad.exitCode()).as(bad.output()).isNotZero();
  }

  /** A free label is the one asked for, or it with the first count no key of the backend has. */
  @Test
  void aFreeLabelIsTheBaseOrTheBaseWithTheFirstCountNotTaken() {
    KeySpec spec = supportedSpecs().contains(KeySpec.EC_P256) ? KeySpec.EC_P256 : KeySpec.ED25519;
    String base = uniqueLabel("free");
    assertThat(service().freeLabel(scheme(), base)).isEqualTo(base);
    service().generate(scheme(), spec, base);
    assertThat(service().freeLabel(scheme(), base)).isEqualTo(base + "-2");
    service().generate(scheme(), spec, base + "-2");
    assertThat(service().freeLabel(scheme(), base)).isEqualTo(base + "-3");
    // A label that only begins like a taken one is free.
    assertThat(service().freeLabel(scheme(), base + "-2-x")).isEqualTo(base + "-2-x");
  }

  @Test
  void eightThreadsSigningAtOnceAllVerify() throws Exception {
    KeyInfo info = service().generate(scheme(), KeySpec.EC_P256, uniqueLabel("concurrent"));
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<Integer>> results = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        results.add(
            pool.submit(
                () -> {
                  int verified = 0;
                  for (int i = 0; i < signaturesPerThread(); i++) {
                    byte[] data = randomData(64);
                    byte[] sig =
                        service().sign(info.ref(), SignatureAlgorithm.ECDSA_SHA256, data, "load");
                    if (JcaVerify.verify(
                        SignatureAlgorithm.ECDSA_SHA256, info.publicKey(), data, sig)) {
                      verified++;
                    }
                  }
                  return verified;
                }));
      }
      int total = 0;
      for (Future<Integer> f : results) {
        total += f.get();
      }
      assertThat(total).isEqualTo(8 * signaturesPerThread());
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void unknownKeyIsKeyNotFound() {
    assertThatThrownBy(
            () -> service().sign(missingKey(), SignatureAlgorithm.ECDSA_SHA256, new byte[1], "x"))
        .isInstanceOfSatisfying(
            KeyException.class,
            e -> assertThat(e.code()).isEqualTo(KeyException.Code.KEY_NOT_FOUND));
    assertThatThrownBy(() -> service().publicKey(missingKey()))
        .isInstanceOfSatisfying(
            KeyException.class,
            e -> assertThat(e.code()).isEqualTo(KeyException.Code.KEY_NOT_FOUND));
  }

  @Test
  void wrongSecretIsAuthFailedAndTheSecretIsNowhereInTheError() {
    KeyException e = openWithWrongSecret();
    assertThat(e.code()).isEqualTo(KeyException.Code.AUTH_FAILED);
    for (Throwable t = e; t != null; t = t.getCause()) {
      assertThat(String.valueOf(t.getMessage())).doesNotContain(secretText());
      assertThat(t.toString()).doesNotContain(secretText());
    }
  }

  @Test
  void algorithmThatDoesNotFitTheKeyIsInvalidRequest() {
    KeyInfo info = service().generate(scheme(), KeySpec.EC_P256, uniqueLabel("mismatch"));
    assertThatThrownBy(
            () -> service().sign(info.ref(), SignatureAlgorithm.RSA_PKCS1_SHA256, new byte[1], "x"))
        .isInstanceOfSatisfying(
            KeyException.class,
            e -> assertThat(e.code()).isEqualTo(KeyException.Code.INVALID_REQUEST));
  }

  @Test
  void existingLabelIsRefusedAndTheExistingKeyStaysTheSame() {
    String label = uniqueLabel("dup");
    KeyInfo first = service().generate(scheme(), KeySpec.EC_P256, label);
    assertThatThrownBy(() -> service().generate(scheme(), KeySpec.EC_P256, label))
        .isInstanceOfSatisfying(
            KeyException.class,
            e -> assertThat(e.code()).isEqualTo(KeyException.Code.INVALID_REQUEST));
    assertThat(service().publicKey(first.ref())).isEqualTo(first.publicKey());
  }

  /**
   * A key whose {@code KEY_GENERATED} record fails is destroyed in the backend, not only forgotten:
   * its label can be taken again. Before, the key stayed, and the evidence never named it.
   */
  @Test
  void aKeyWhoseGenerationCannotBeRecordedIsDestroyed() {
    io.yinxin.hsm.KeyServices unrecorded =
        new io.yinxin.hsm.KeyServices(
            java.util.List.of(backend()),
            java.util.List.of(
                use -> {
                  throw new IllegalStateException("the audit log refused the record");
                }));
    String label = uniqueLabel("unrecorded");
    assertThatThrownBy(() -> unrecorded.generate(scheme(), KeySpec.EC_P256, label))
        .isInstanceOf(IllegalStateException.class);
    assertThat(service().list()).extracting(k -> k.ref().label()).doesNotContain(label);
    KeyInfo again = service().generate(scheme(), KeySpec.EC_P256, label);
    assertThat(service().publicKey(again.ref())).isEqualTo(again.publicKey());
    if (!supportedDataKeySpecs().isEmpty()) {
      DataKeySpec spec = supportedDataKeySpecs().iterator().next();
      String data = uniqueLabel("unrecorded-data");
      assertThatThrownBy(() -> unrecorded.generateDataKey(scheme(), spec, data))
          .isInstanceOf(IllegalStateException.class);
      KeyRef ref = service().generateDataKey(scheme(), spec, data);
      assertThat(service().dataKey(ref)).hasValue(spec);
    }
  }

  @Test
  void generatedKeysAreListedAndHealthIsUp() {
    KeyInfo info = service().generate(scheme(), KeySpec.EC_P256, uniqueLabel("listed"));
    assertThat(service().list()).extracting(KeyInfo::ref).contains(info.ref());
    assertThat(service().health().up()).as(service().health().toString()).isTrue();
  }

  private static void assertCode(
      org.assertj.core.api.ThrowableAssert.ThrowingCallable call, KeyException.Code code) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            KeyException.class, e -> assertThat(e.code()).as(e.getMessage()).isEqualTo(code));
  }

  @ParameterizedTest
  @EnumSource(DataKeySpec.class)
  void dataKeysEncryptAndDecryptWithAFreshNonceOrAreRefusedAsUnsupported(DataKeySpec spec) {
    String label = uniqueLabel("dk");
    if (!supportedDataKeySpecs().contains(spec)) {
      assertCode(
          () -> service().generateDataKey(scheme(), spec, label),
          KeyException.Code.UNSUPPORTED_ALGORITHM);
      return;
    }
    KeyRef ref = service().generateDataKey(scheme(), spec, label);
    assertThat(service().dataKey(ref)).hasValue(spec);
    byte[] aad = "sso.accounts.id_number|alice".getBytes(StandardCharsets.UTF_8);
    // Nothing to encrypt is a caller's mistake (store no value instead).
    assertCode(
        () -> service().encrypt(ref, new byte[0], new byte[0], "test"),
        KeyException.Code.INVALID_REQUEST);
    for (int n : new int[] {1, 18, 4096}) {
      byte[] plaintext = randomData(n);
      byte[] a = service().encrypt(ref, plaintext, aad, "test");
      byte[] b = service().encrypt(ref, plaintext, aad, "test");
      assertThat(a).isNotEqualTo(b); // a fresh nonce each time
      assertThat(a[0]).isEqualTo((byte) 1);
      assertThat(service().decrypt(ref, a, aad, "test")).isEqualTo(plaintext);
      assertThat(service().decrypt(ref, b, aad, "test")).isEqualTo(plaintext);
    }
    // A signing operation on a data key, and the other way round, finds no such key.
    assertThatThrownBy(() -> service().sign(ref, SignatureAlgorithm.ECDSA_SHA256, new byte[1]))
        .isInstanceOf(KeyException.class);
  }

  @Test
  void aCiphertextChangedAnywhereOrMovedToAnotherContextOrKeyDoesNotOpen() {
    DataKeySpec spec = supportedDataKeySpecs().iterator().next();
    KeyRef ref = service().generateDataKey(scheme(), spec, uniqueLabel("dk-tamper"));
    KeyRef other = service().generateDataKey(scheme(), spec, uniqueLabel("dk-other"));
    byte[] aad = "row 1".getBytes(StandardCharsets.UTF_8);
    byte[] plaintext = "11010519491231002X".getBytes(StandardCharsets.UTF_8);
    byte[] ct = service().encrypt(ref, plaintext, aad, "test");
    // Every byte position flipped: header, nonce, body, tag (or Vault's text).
    for (int i = 0; i < ct.length; i++) {
      byte[] bad = ct.clone();
      bad[i] ^= 0x01;
      assertCode(
          () -> service().decrypt(ref, bad, aad, "test"), KeyException.Code.INVALID_CIPHERTEXT);
    }
    // Truncated, extended, empty.
    for (byte[] bad :
        List.of(
            java.util.Arrays.copyOf(ct, ct.length - 1),
            java.util.Arrays.copyOf(ct, ct.length + 1),
            java.util.Arrays.copyOf(ct, 2),
            new byte[0])) {
      assertCode(
          () -> service().decrypt(ref, bad, aad, "test"), KeyException.Code.INVALID_CIPHERTEXT);
    }
    // Another row's context, another key.
    assertCode(
        () -> service().decrypt(ref, ct, "row 2".getBytes(StandardCharsets.UTF_8), "test"),
        KeyException.Code.INVALID_CIPHERTEXT);
    assertCode(
        () -> service().decrypt(other, ct, aad, "test"), KeyException.Code.INVALID_CIPHERTEXT);
    // The right one still opens: nothing above changed the key.
    assertThat(service().decrypt(ref, ct, aad, "test")).isEqualTo(plaintext);
  }

  @Test
  void aDataKeyLabelIsTakenOnceAndNotBySigningKeysAndLimitsHold() {
    DataKeySpec spec = supportedDataKeySpecs().iterator().next();
    String label = uniqueLabel("dk-dup");
    KeyRef ref = service().generateDataKey(scheme(), spec, label);
    assertCode(
        () -> service().generateDataKey(scheme(), spec, label), KeyException.Code.INVALID_REQUEST);
    assertCode(
        () -> service().generate(scheme(), KeySpec.EC_P256, label),
        KeyException.Code.INVALID_REQUEST);
    String signing = uniqueLabel("sig");
    service().generate(scheme(), KeySpec.EC_P256, signing);
    assertCode(
        () -> service().generateDataKey(scheme(), spec, signing),
        KeyException.Code.INVALID_REQUEST);
    assertThat(service().dataKey(missingKey())).isEmpty();
    assertCode(
        () -> service().encrypt(ref, new byte[64 * 1024 + 1], new byte[0], "test"),
        KeyException.Code.INVALID_REQUEST);
    assertCode(
        () -> service().encrypt(ref, new byte[1], new byte[0], "bad\npurpose"),
        KeyException.Code.INVALID_REQUEST);
  }
}
