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
import java.util.List;
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

  /**
   * The key files are judged by openssl 3, which refuses Bouncy Castle's old PKCS#12 (40-bit RC2
   * for the certificate) without {@code -legacy}: it must read them as they are, with the MAC and
   * the key's encryption named, refuse them under another password, and hand out the very key whose
   * public half the backend reports, for each kind of key.
   */
  @Test
  void keyFilesArePkcs12ThatOpenSslReadsWithoutLegacyAndHoldTheKeyTheBackendUses()
      throws Exception {
    Path keys = dir.resolve("keys");
    for (KeySpec spec : new KeySpec[] {KeySpec.EC_P256, KeySpec.SM2, KeySpec.RSA_3072}) {
      String label = uniqueLabel("judge");
      KeyInfo info = service.generate(scheme(), spec, label);
      String file = label + ".p12";
      assertWrittenAsOpenSsl3Does(keys, file);
      Path wrong = Files.createTempFile(dir, "wrong", ".pw");
      Files.writeString(wrong, secretText() + "x");
      var refused =
          io.yinxin.hsm.testing.OpenSsl.run(
              keys, "pkcs12", "-in", file, "-passin", "file:" + wrong, "-info", "-noout");
      assertThat(refused.exitCode()).as(refused.output()).isNotZero();
      assertThat(refused.output()).contains("Mac verify error");
      // The private key out of the file, then its public half as openssl derives it.
      Path pem = dir.resolve(label + ".key.pem");
      Path pub = dir.resolve(label + ".pub.der");
      String pass = "file:" + keys.resolve("keystore.password");
      String in = keys.resolve(file).toString();
      for (String[] args :
          List.of(
              new String[] {
                "pkcs12", "-in", in, "-passin", pass, "-nocerts", "-nodes", "-out", pem.toString()
              },
              new String[] {
                "pkey", "-in", pem.toString(), "-pubout", "-outform", "DER", "-out", pub.toString()
              })) {
        var r = io.yinxin.hsm.testing.OpenSsl.run(dir, args);
        assertThat(r.exitCode()).as(r.output()).isZero();
      }
      Files.delete(pem);
      assertThat(Files.readAllBytes(pub)).as(spec.name()).isEqualTo(info.publicKey().getEncoded());
    }
    try (var left = Files.list(keys)) {
      assertThat(left.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".tmp"));
    }
  }

  /**
   * A key file written the old way, by Bouncy Castle's PKCS#12 key store, still opens and signs.
   */
  @Test
  void aKeyFileInBouncyCastlesOldPkcs12OpensSignsAndIsWrittenAgainInTheNewFormat()
      throws Exception {
    Path d = Files.createTempDirectory("yinxin-soft-old-");
    char[] pw;
    try (SoftKeyBackend b = SoftKeyBackend.open(d)) {
      pw = Files.readString(d.resolve(SoftKeyBackend.PASSWORD_FILE)).strip().toCharArray();
    }
    var g = java.security.KeyPairGenerator.getInstance("EC", io.yinxin.hsm.BouncyCastle.PROVIDER);
    g.initialize(new java.security.spec.ECGenParameterSpec("secp256r1"));
    var pair = g.generateKeyPair();
    var cert =
        io.yinxin.hsm.PlaceholderCertificate.create(
            pair.getPublic(),
            "old-format",
            new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder("SHA256withECDSA")
                .setProvider(io.yinxin.hsm.BouncyCastle.PROVIDER)
                .build(pair.getPrivate()));
    var ks = java.security.KeyStore.getInstance("PKCS12", io.yinxin.hsm.BouncyCastle.PROVIDER);
    ks.load(null, pw);
    ks.setKeyEntry(
        "old-format", pair.getPrivate(), pw, new java.security.cert.Certificate[] {cert});
    try (var out = Files.newOutputStream(d.resolve("old-format.p12"))) {
      ks.store(out, pw);
    }
    var legacy = pkcs12Info(d, "old-format.p12");
    assertThat(legacy.output()).contains("pbeWithSHA1And3-KeyTripleDES-CBC");
    try (SoftKeyBackend b = SoftKeyBackend.open(d)) {
      KeyRef ref = KeyRef.soft("old-format");
      assertThat(b.describe(ref).publicKey().getEncoded()).isEqualTo(pair.getPublic().getEncoded());
      byte[] data = randomData(64);
      byte[] sig = b.sign(ref, SignatureAlgorithm.ECDSA_SHA256, data);
      assertThat(JcaVerify.verify(SignatureAlgorithm.ECDSA_SHA256, pair.getPublic(), data, sig))
          .isTrue();
    }
    // Opening wrote it again as a new key file is written: OpenSSL 3 reads it without -legacy,
    // and it holds the same key.
    assertWrittenAsOpenSsl3Does(d, "old-format.p12");
    var pkey =
        io.yinxin.hsm.testing.OpenSsl.run(
            d,
            "pkcs12",
            "-in",
            "old-format.p12",
            "-passin",
            "file:keystore.password",
            "-nocerts",
            "-nodes",
            "-out",
            "old-format.key");
    assertThat(pkey.exitCode()).as(pkey.output()).isZero();
    var pub =
        io.yinxin.hsm.testing.OpenSsl.run(
            d, "pkey", "-in", "old-format.key", "-pubout", "-outform", "DER", "-out", "old.spki");
    assertThat(pub.exitCode()).as(pub.output()).isZero();
    assertThat(Files.readAllBytes(d.resolve("old.spki"))).isEqualTo(pair.getPublic().getEncoded());
    Files.delete(d.resolve("old-format.key"));
    // A file of the new format is left as it is.
    byte[] now = Files.readAllBytes(d.resolve("old-format.p12"));
    try (SoftKeyBackend b = SoftKeyBackend.open(d)) {
      byte[] data = randomData(64);
      byte[] sig = b.sign(KeyRef.soft("old-format"), SignatureAlgorithm.ECDSA_SHA256, data);
      assertThat(JcaVerify.verify(SignatureAlgorithm.ECDSA_SHA256, pair.getPublic(), data, sig))
          .isTrue();
    }
    assertThat(Files.readAllBytes(d.resolve("old-format.p12"))).isEqualTo(now);
  }

  /**
   * That OpenSSL 3 reads a key file without {@code -legacy} and finds what it writes itself by
   * default: HMAC-SHA256, the key under PBES2 with AES-256-CBC, the node password's iterations.
   */
  private static void assertWrittenAsOpenSsl3Does(Path dir, String file) throws Exception {
    var info = pkcs12Info(dir, file);
    assertThat(info.exitCode()).as(info.output()).isZero();
    assertThat(info.output())
        .contains("MAC: sha256, Iteration " + SoftKeyBackend.GENERATED_PASSWORD_ITERATIONS)
        .contains(
            "Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration "
                + SoftKeyBackend.GENERATED_PASSWORD_ITERATIONS
                + ", PRF hmacWithSHA256")
        .doesNotContain("RC2")
        .doesNotContain("3-KeyTripleDES");
  }

  /** What {@code openssl pkcs12 -info} (OpenSSL 3, no {@code -legacy}) says of a key file. */
  private static io.yinxin.hsm.testing.OpenSsl.Result pkcs12Info(Path dir, String file)
      throws Exception {
    return io.yinxin.hsm.testing.OpenSsl.run(
        dir, "pkcs12", "-in", file, "-passin", "file:keystore.password", "-info", "-noout");
  }

  /** A password the caller gives may be a person's: its files get OWASP's PBKDF2 count. */
  @Test
  void aGivenPasswordGetsTheStrongerIterationCount() throws Exception {
    Path d = Files.createTempDirectory("yinxin-soft-given-");
    Files.writeString(d.resolve("given.pw"), "correct horse battery staple");
    try (SoftKeyBackend b =
        SoftKeyBackend.open(d.resolve("keys"), "correct horse battery staple".toCharArray())) {
      b.generate(KeySpec.EC_P256, "given");
    }
    var info12 =
        io.yinxin.hsm.testing.OpenSsl.run(
            d, "pkcs12", "-in", "keys/given.p12", "-passin", "file:given.pw", "-info", "-noout");
    assertThat(info12.exitCode()).as(info12.output()).isZero();
    assertThat(info12.output())
        .contains("MAC: sha256, Iteration " + SoftKeyBackend.GIVEN_PASSWORD_ITERATIONS)
        .contains("AES-256-CBC, Iteration " + SoftKeyBackend.GIVEN_PASSWORD_ITERATIONS);
  }

  /**
   * A write killed between creating its temporary file and renaming it leaves an encrypted key that
   * was never handed out: the next opening removes it once it is older than a write takes, and
   * leaves a fresh one alone (another node sharing the directory may be writing it).
   */
  @Test
  void anUnfinishedWritesTemporaryFileIsRemovedOnceStaleAndAFreshOneIsLeft() throws Exception {
    Path d = Files.createTempDirectory("yinxin-soft-tmp-");
    try (SoftKeyBackend b = SoftKeyBackend.open(d)) {
      b.generate(KeySpec.EC_P256, "kept");
    }
    Path stale = Files.copy(d.resolve("kept.p12"), d.resolve("lost.p12.123.tmp"));
    Path fresh = Files.copy(d.resolve("kept.p12"), d.resolve("busy.p12.456.tmp"));
    Files.setLastModifiedTime(
        stale,
        java.nio.file.attribute.FileTime.from(
            java.time.Instant.now().minus(SoftKeyBackend.STALE_TEMPORARY_FILE).minusSeconds(1)));
    try (SoftKeyBackend b = SoftKeyBackend.open(d)) {
      assertThat(b.list()).extracting(k -> k.ref().label()).containsExactly("kept");
    }
    assertThat(stale).doesNotExist();
    assertThat(fresh).exists();
    assertThat(d.resolve("kept.p12")).exists();
  }

  /**
   * Nodes starting at once on one new key directory (pods sharing a volume) agree on its password:
   * the file is created with its content in one step, so none reads it empty. Each writes a key
   * under the password it read, and a later opening reads every key. Repeated, as a race is.
   */
  @Test
  void backendsOpeningANewDirectoryAtOnceAllUseOnePassword() throws Exception {
    for (int attempt = 0; attempt < 20; attempt++) {
      Path d = Files.createTempDirectory("yinxin-soft-race-");
      int n = 8;
      java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(n);
      java.util.concurrent.ExecutorService pool =
          java.util.concurrent.Executors.newFixedThreadPool(n);
      try {
        List<java.util.concurrent.Future<?>> done = new java.util.ArrayList<>();
        for (int i = 0; i < n; i++) {
          String label = "racer-" + i;
          done.add(
              pool.submit(
                  () -> {
                    start.await();
                    try (SoftKeyBackend b = SoftKeyBackend.open(d)) {
                      b.generate(KeySpec.EC_P256, label);
                    }
                    return null;
                  }));
        }
        for (var f : done) {
          f.get(60, java.util.concurrent.TimeUnit.SECONDS);
        }
      } finally {
        pool.shutdownNow();
      }
      assertThat(Files.readString(d.resolve(SoftKeyBackend.PASSWORD_FILE))).hasSize(44);
      try (SoftKeyBackend b = SoftKeyBackend.open(d)) {
        assertThat(b.list()).as("attempt " + attempt).hasSize(n);
      }
    }
  }
}
