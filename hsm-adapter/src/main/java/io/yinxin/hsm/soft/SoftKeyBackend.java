package io.yinxin.hsm.soft;

import io.yinxin.hsm.BouncyCastle;
import io.yinxin.hsm.DataCiphertext;
import io.yinxin.hsm.DataKeySpec;
import io.yinxin.hsm.KeyBackend;
import io.yinxin.hsm.KeyException;
import io.yinxin.hsm.KeyException.Code;
import io.yinxin.hsm.KeyInfo;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeySpec;
import io.yinxin.hsm.PlaceholderCertificate;
import io.yinxin.hsm.PublicKeys;
import io.yinxin.hsm.Randomness;
import io.yinxin.hsm.SignatureAlgorithm;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.UnrecoverableKeyException;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.RSAKeyGenParameterSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.DERBMPString;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.crypto.CryptoException;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.OutputEncryptor;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS12PfxPduBuilder;
import org.bouncycastle.pkcs.PKCS12SafeBagBuilder;
import org.bouncycastle.pkcs.PKCSException;
import org.bouncycastle.pkcs.bc.BcPKCS12MacCalculatorBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS12SafeBagBuilder;
import org.bouncycastle.pkcs.jcajce.JcePKCSPBEOutputEncryptorBuilder;

/**
 * Keys in PKCS#12 files, one file per key ({@code <dir>/<label>.p12}, so adding a key never
 * rewrites the others), all under one password: for development and the embedded default only. The
 * private keys are held in memory by this process; nothing outside this class reads them. Signing
 * uses Bouncy Castle, which on Java 17 is several times faster than SunEC for P-256; ECDSA and SM2
 * keys sign through {@link EcSigner}, Bouncy Castle's ECDSA and SM2 with a precomputed base-point
 * table.
 */
public final class SoftKeyBackend implements KeyBackend {
  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(SoftKeyBackend.class);
  static final String PASSWORD_FILE = "keystore.password";
  private static final String SUFFIX = ".p12";

  /** Data protection keys: one PKCS#12 file each (a secret-key entry), beside the signing keys. */
  private static final String DATA_SUFFIX = ".aead";

  private final Map<String, DataEntry> dataKeys = new ConcurrentHashMap<>();

  private record DataEntry(DataKeySpec spec, javax.crypto.SecretKey key) {}

  /**
   * PBKDF2 iterations protecting the key files of a directory whose password the backend generated
   * itself: 32 random bytes in {@code keystore.password}, beside the files. Stretching a 256-bit
   * random secret adds nothing to guessing it, so the count is the JDK's own PKCS#12 default
   * (10,000, what the data key files beside them get) rather than a count that costs each key
   * written or read a noticeable part of a second.
   */
  static final int GENERATED_PASSWORD_ITERATIONS = 10_000;

  /**
   * PBKDF2 iterations when the caller gives the password, which may be one a person chose: OWASP's
   * count for PBKDF2-HMAC-SHA256 (2023).
   */
  static final int GIVEN_PASSWORD_ITERATIONS = 600_000;

  private final Path dir;
  private final char[] password;
  private final int iterations;
  private final Map<String, Entry> keys = new ConcurrentHashMap<>();
  private final ThreadLocal<Map<SignatureAlgorithm, Signature>> signatures =
      ThreadLocal.withInitial(HashMap::new);

  /** A loaded key; {@code ec} is its table-driven signer when it is a P-256, P-384 or SM2 key. */
  private record Entry(KeyInfo info, PrivateKey privateKey, EcSigner ec) {
    Entry(KeyInfo info, PrivateKey privateKey) {
      this(info, privateKey, EcSigner.forKey(info.spec(), privateKey));
    }
  }

  private SoftKeyBackend(Path dir, char[] password, int iterations) {
    this.dir = dir;
    this.password = password.clone();
    this.iterations = iterations;
    load();
  }

  /**
   * Opens (or creates) the key directory {@code dir}. The keystore password lives in {@code
   * dir/keystore.password}, generated on first use and readable by the owner only.
   */
  public static SoftKeyBackend open(Path dir) {
    try {
      Files.createDirectories(dir);
      restrictDirectory(dir);
      Path pw = dir.resolve(PASSWORD_FILE);
      if (!Files.exists(pw)) {
        byte[] random = new byte[32];
        new SecureRandom().nextBytes(random);
        io.yinxin.hsm.OwnerOnlyFiles.createIfAbsent(
            pw, Base64.getEncoder().encodeToString(random).getBytes(StandardCharsets.US_ASCII));
      }
      char[] password = Files.readString(pw, StandardCharsets.US_ASCII).trim().toCharArray();
      if (password.length == 0) {
        throw new KeyException(
            Code.AUTH_FAILED, "the key directory's password file is empty: " + pw, null);
      }
      return new SoftKeyBackend(dir, password, GENERATED_PASSWORD_ITERATIONS);
    } catch (IOException e) {
      throw new KeyException(
          Code.BACKEND_UNAVAILABLE, "cannot prepare key directory " + dir.toAbsolutePath(), e);
    }
  }

  /** Opens the key directory {@code dir} with an explicit password. */
  public static SoftKeyBackend open(Path dir, char[] password) {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new KeyException(Code.BACKEND_UNAVAILABLE, "cannot prepare key directory " + dir, e);
    }
    return new SoftKeyBackend(dir, password, GIVEN_PASSWORD_ITERATIONS);
  }

  private static void restrictDirectory(Path dir) throws IOException {
    try {
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    } catch (UnsupportedOperationException e) {
      // Not a POSIX file system: nothing more to restrict here.
    }
  }

  private KeyStore newKeyStore() throws GeneralSecurityException {
    return KeyStore.getInstance("PKCS12", BouncyCastle.PROVIDER);
  }

  /**
   * Reads every key file, on all processors at once. A file written since 2026-12-07 costs a few
   * milliseconds of key derivation ({@link #GENERATED_PASSWORD_ITERATIONS}); one written before by
   * Bouncy Castle's PKCS#12 key store costs about half a second (hundreds of thousands of
   * iterations of the PKCS#12 SHA-1 derivation, in Java), and is then written again in the new
   * format ({@link #rewrite}). The first file that cannot be read fails the opening.
   */
  private void load() {
    removeStaleTemporaryFiles();
    List<Path> keyFiles = list("*" + SUFFIX);
    List<Path> dataKeyFiles = list("*" + DATA_SUFFIX);
    keyFiles.parallelStream().forEach(this::loadFile);
    dataKeyFiles.parallelStream()
        .forEach(
            f -> {
              String name = f.getFileName().toString();
              loadDataKey(name.substring(0, name.length() - DATA_SUFFIX.length()), f);
            });
  }

  /** A write's temporary file older than this is a write that will not finish. */
  static final java.time.Duration STALE_TEMPORARY_FILE = java.time.Duration.ofMinutes(10);

  /**
   * Removes the temporary files of writes that never finished (a process killed between creating
   * and renaming one): each holds a key that was never handed out, encrypted. Only files older than
   * {@link #STALE_TEMPORARY_FILE}, as another node sharing the directory may be writing one now.
   */
  private void removeStaleTemporaryFiles() {
    java.nio.file.attribute.FileTime before =
        java.nio.file.attribute.FileTime.from(java.time.Instant.now().minus(STALE_TEMPORARY_FILE));
    for (Path tmp : list("*.tmp")) {
      try {
        if (Files.getLastModifiedTime(tmp).compareTo(before) < 0 && Files.deleteIfExists(tmp)) {
          log.warn("event=key_file_write_unfinished_removed file={}", tmp.getFileName());
        }
      } catch (IOException e) {
        log.warn("event=key_file_write_unfinished_not_removed file={}", tmp.getFileName());
      }
    }
  }

  private List<Path> list(String glob) {
    List<Path> found = new java.util.ArrayList<>();
    try (var files = Files.newDirectoryStream(dir, glob)) {
      files.forEach(found::add);
    } catch (IOException e) {
      throw new KeyException(Code.BACKEND_UNAVAILABLE, "cannot read key directory " + dir, e);
    }
    return found;
  }

  private void loadFile(Path f) {
    try {
      byte[] file = Files.readAllBytes(f);
      KeyStore ks = newKeyStore();
      ks.load(new java.io.ByteArrayInputStream(file), password);
      List<String> loaded = new java.util.ArrayList<>();
      for (String alias : Collections.list(ks.aliases())) {
        if (!ks.isKeyEntry(alias)) {
          continue;
        }
        PrivateKey pk = (PrivateKey) ks.getKey(alias, password);
        Certificate cert = ks.getCertificate(alias);
        var pub = PublicKeys.decode(cert.getPublicKey().getEncoded());
        KeyRef ref = KeyRef.soft(alias);
        keys.put(alias, new Entry(new KeyInfo(ref, PublicKeys.specOf(pub), pub), pk));
        loaded.add(alias);
      }
      if (loaded.size() == 1
          && f.getFileName().toString().equals(loaded.get(0) + SUFFIX)
          && writtenByOldKeyStore(file)) {
        String label = loaded.get(0);
        rewrite(
            f,
            label,
            (PrivateKey) ks.getKey(label, password),
            (X509Certificate) ks.getCertificate(label));
      }
    } catch (IOException e) {
      if (e.getCause() instanceof UnrecoverableKeyException
          || String.valueOf(e.getMessage()).contains("wrong password")) {
        throw new KeyException(Code.AUTH_FAILED, "keystore password rejected for " + f, null);
      }
      throw new KeyException(Code.BACKEND_UNAVAILABLE, "cannot read keystore " + f, e);
    } catch (UnrecoverableKeyException e) {
      throw new KeyException(Code.AUTH_FAILED, "keystore password rejected for " + f, null);
    } catch (GeneralSecurityException e) {
      throw new KeyException(Code.BACKEND_UNAVAILABLE, "cannot read keystore " + f, e);
    }
  }

  /**
   * Whether a key file is one Bouncy Castle's {@code PKCS12} key store wrote (before 2026-12-07):
   * its MAC is over SHA-1, where {@link #pkcs12} uses HMAC-SHA256.
   */
  static boolean writtenByOldKeyStore(byte[] file) {
    try {
      var pfx = new org.bouncycastle.pkcs.PKCS12PfxPdu(file);
      return pfx.hasMac()
          && !NISTObjectIdentifiers.id_sha256.equals(pfx.getMacAlgorithmID().getAlgorithm());
    } catch (IOException | RuntimeException e) {
      return false; // not for this check to judge: the key store read it
    }
  }

  /**
   * Writes a key file of the old format again as {@link #persist} writes a new one, the same key
   * and placeholder certificate under the same password, so that the next opening reads it in
   * milliseconds and {@code openssl pkcs12} reads it without {@code -legacy}. The old file is
   * replaced by a rename, so a node reading it meanwhile reads one or the other whole; two nodes
   * doing it at once both write the same key. A directory the node may not write (a read-only
   * mount) keeps the old file: the key was read, and that is what opening needs.
   */
  private void rewrite(Path f, String label, PrivateKey key, X509Certificate cert) {
    try {
      io.yinxin.hsm.OwnerOnlyFiles.replace(f, pkcs12(label, key, cert));
      log.info("event=key_file_rewritten file={} format=pkcs12_pbes2_aes256", f.getFileName());
    } catch (IOException | GeneralSecurityException | OperatorCreationException | PKCSException e) {
      log.warn(
          "event=key_file_not_rewritten file={} reason={}",
          f.getFileName(),
          e.getClass().getSimpleName());
    }
  }

  private void loadDataKey(String label, Path f) {
    try (InputStream in = Files.newInputStream(f)) {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(in, password);
      for (String alias : Collections.list(ks.aliases())) {
        DataKeySpec spec = DataKeySpec.valueOf(alias.toUpperCase(java.util.Locale.ROOT));
        var key = (javax.crypto.SecretKey) ks.getKey(alias, password);
        dataKeys.put(label, new DataEntry(spec, key));
      }
    } catch (UnrecoverableKeyException e) {
      throw new KeyException(Code.AUTH_FAILED, "keystore password rejected for " + f, null);
    } catch (IOException | GeneralSecurityException | IllegalArgumentException e) {
      throw new KeyException(Code.BACKEND_UNAVAILABLE, "cannot read data key file " + f, e);
    }
  }

  @Override
  public Set<DataKeySpec> supportedDataKeySpecs() {
    return EnumSet.allOf(DataKeySpec.class);
  }

  @Override
  public synchronized KeyRef generateDataKey(DataKeySpec spec, String label) {
    KeyRef ref = KeyRef.soft(label);
    if (keys.containsKey(label) || dataKeys.containsKey(label)) {
      throw new KeyException(Code.INVALID_REQUEST, "key " + ref + " already exists");
    }
    byte[] raw = new byte[spec == DataKeySpec.AES_256_GCM ? 32 : 16];
    Randomness.current().nextBytes(raw);
    // Stored as a secret-key entry; the algorithm name is only a label here (the JDK's PKCS#12
    // does not know SM4), the spec is the entry's alias.
    var key = new javax.crypto.spec.SecretKeySpec(raw, "AES");
    Arrays.fill(raw, (byte) 0);
    Path file = dir.resolve(label + DATA_SUFFIX);
    try {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, password);
      ks.setEntry(
          spec.name().toLowerCase(java.util.Locale.ROOT),
          new KeyStore.SecretKeyEntry(key),
          new KeyStore.PasswordProtection(password));
      var bytes = new java.io.ByteArrayOutputStream();
      ks.store(bytes, password);
      io.yinxin.hsm.OwnerOnlyFiles.replace(file, bytes.toByteArray());
    } catch (IOException | GeneralSecurityException e) {
      throw new KeyException(Code.BACKEND_UNAVAILABLE, "cannot write key file " + file, e);
    }
    dataKeys.put(label, new DataEntry(spec, key));
    return ref;
  }

  @Override
  public java.util.Optional<DataKeySpec> dataKey(KeyRef ref) {
    DataEntry e = dataKeys.get(ref.label());
    return e == null ? java.util.Optional.empty() : java.util.Optional.of(e.spec());
  }

  private DataEntry dataEntry(KeyRef ref) {
    DataEntry e = dataKeys.get(ref.label());
    if (e == null) {
      throw new KeyException(Code.KEY_NOT_FOUND, "no data protection key " + ref);
    }
    return e;
  }

  private static javax.crypto.Cipher gcm(DataKeySpec spec) throws GeneralSecurityException {
    return spec == DataKeySpec.AES_256_GCM
        ? javax.crypto.Cipher.getInstance("AES/GCM/NoPadding")
        : javax.crypto.Cipher.getInstance("SM4/GCM/NoPadding", BouncyCastle.PROVIDER);
  }

  private static java.security.Key cipherKey(DataEntry e) {
    return e.spec() == DataKeySpec.AES_256_GCM
        ? e.key()
        : new javax.crypto.spec.SecretKeySpec(e.key().getEncoded(), "SM4");
  }

  @Override
  public byte[] encrypt(KeyRef ref, byte[] plaintext, byte[] associatedData) {
    DataEntry e = dataEntry(ref);
    byte[] nonce = new byte[DataCiphertext.NONCE_BYTES];
    Randomness.current().nextBytes(nonce);
    try {
      javax.crypto.Cipher c = gcm(e.spec());
      c.init(
          javax.crypto.Cipher.ENCRYPT_MODE,
          cipherKey(e),
          new javax.crypto.spec.GCMParameterSpec(DataCiphertext.TAG_BYTES * 8, nonce));
      c.updateAAD(associatedData);
      return DataCiphertext.gcm(e.spec(), nonce, c.doFinal(plaintext));
    } catch (GeneralSecurityException ex) {
      throw new KeyException(Code.BACKEND_UNAVAILABLE, "encryption failed with " + ref, ex);
    }
  }

  @Override
  public byte[] decrypt(KeyRef ref, byte[] ciphertext, byte[] associatedData) {
    DataEntry e = dataEntry(ref);
    DataCiphertext.Gcm g = DataCiphertext.parseGcm(ciphertext, e.spec());
    try {
      javax.crypto.Cipher c = gcm(e.spec());
      c.init(
          javax.crypto.Cipher.DECRYPT_MODE,
          cipherKey(e),
          new javax.crypto.spec.GCMParameterSpec(DataCiphertext.TAG_BYTES * 8, g.nonce()));
      c.updateAAD(associatedData);
      return c.doFinal(g.sealed());
    } catch (javax.crypto.AEADBadTagException ex) {
      throw new KeyException(
          Code.INVALID_CIPHERTEXT, "not a ciphertext of this key with this associated data");
    } catch (GeneralSecurityException ex) {
      throw new KeyException(Code.BACKEND_UNAVAILABLE, "decryption failed with " + ref, ex);
    }
  }

  @Override
  public KeyRef.Scheme scheme() {
    return KeyRef.Scheme.SOFT;
  }

  @Override
  public Set<KeySpec> supportedSpecs() {
    return EnumSet.allOf(KeySpec.class);
  }

  @Override
  public synchronized KeyInfo generate(KeySpec spec, String label) {
    KeyRef ref = KeyRef.soft(label);
    if (keys.containsKey(label) || dataKeys.containsKey(label)) {
      throw new KeyException(Code.INVALID_REQUEST, "key " + ref + " already exists");
    }
    try {
      KeyPair pair = newKeyPair(spec);
      SignatureAlgorithm selfSign = spec.defaultAlgorithm();
      var cert =
          PlaceholderCertificate.create(
              pair.getPublic(),
              label,
              new JcaContentSignerBuilder(selfSign.jcaName())
                  .setProvider(BouncyCastle.PROVIDER)
                  .build(pair.getPrivate()));
      var pub = PublicKeys.decode(pair.getPublic().getEncoded());
      KeyInfo info = new KeyInfo(ref, spec, pub);
      persist(label, pair.getPrivate(), cert);
      keys.put(label, new Entry(info, pair.getPrivate()));
      return info;
    } catch (GeneralSecurityException | OperatorCreationException e) {
      throw new KeyException(Code.BACKEND_UNAVAILABLE, "key generation failed for " + ref, e);
    }
  }

  @Override
  public synchronized void destroyGenerated(KeyRef ref) {
    String label = ref.label();
    Path file = dir.resolve(label + (dataKeys.containsKey(label) ? DATA_SUFFIX : SUFFIX));
    keys.remove(label);
    dataKeys.remove(label);
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      throw new KeyException(Code.BACKEND_UNAVAILABLE, "cannot delete key file " + file, e);
    }
  }

  private static KeyPair newKeyPair(KeySpec spec) throws GeneralSecurityException {
    KeyPairGenerator g = KeyPairGenerator.getInstance(spec.jcaAlgorithm(), BouncyCastle.PROVIDER);
    if (spec == KeySpec.RSA_3072) {
      g.initialize(new RSAKeyGenParameterSpec(3072, RSAKeyGenParameterSpec.F4));
    } else if (spec.curve().isPresent()) {
      g.initialize(new ECGenParameterSpec(spec.curve().get()));
    }
    return g.generateKeyPair();
  }

  /**
   * Writes the key's own file: a temporary file of this write's own, synced, then renamed into
   * place ({@link io.yinxin.hsm.OwnerOnlyFiles#replace}). The file is PKCS#12 as OpenSSL 3 writes
   * it by default, so {@code openssl pkcs12} reads it without {@code -legacy}: the private key in a
   * shrouded key bag under PBES2 (PBKDF2 with HMAC-SHA256, AES-256 in CBC mode), the placeholder
   * certificate (public) in the clear beside it, both named by the label, and an HMAC-SHA256 over
   * the whole. Bouncy Castle's own {@code PKCS12} key store used to write these: 3DES for the key
   * and 40-bit RC2 for the certificate (OpenSSL 3 refuses to read that without {@code -legacy})
   * with 300,000 and 600,000 iterations of the PKCS#12 SHA-1 derivation, half a second of a
   * processor for each key written or read.
   */
  private void persist(String label, PrivateKey key, X509Certificate cert) {
    Path file = dir.resolve(label + SUFFIX);
    try {
      io.yinxin.hsm.OwnerOnlyFiles.replace(file, pkcs12(label, key, cert));
    } catch (IOException | GeneralSecurityException | OperatorCreationException | PKCSException e) {
      throw new KeyException(Code.BACKEND_UNAVAILABLE, "cannot write key file " + file, e);
    }
  }

  private byte[] pkcs12(String label, PrivateKey key, X509Certificate cert)
      throws IOException, GeneralSecurityException, OperatorCreationException, PKCSException {
    OutputEncryptor encryptor =
        new JcePKCSPBEOutputEncryptorBuilder(NISTObjectIdentifiers.id_aes256_CBC)
            .setProvider(BouncyCastle.PROVIDER)
            .setPRF(
                new AlgorithmIdentifier(PKCSObjectIdentifiers.id_hmacWithSHA256, DERNull.INSTANCE))
            .setIterationCount(iterations)
            .build(password);
    var keyId =
        new DEROctetString(
            new JcaX509ExtensionUtils()
                .createSubjectKeyIdentifier(cert.getPublicKey())
                .getKeyIdentifier());
    var name = new DERBMPString(label);
    PKCS12SafeBagBuilder certBag = new JcaPKCS12SafeBagBuilder(cert);
    certBag.addBagAttribute(PKCSObjectIdentifiers.pkcs_9_at_friendlyName, name);
    certBag.addBagAttribute(PKCSObjectIdentifiers.pkcs_9_at_localKeyId, keyId);
    PKCS12SafeBagBuilder keyBag = new JcaPKCS12SafeBagBuilder(key, encryptor);
    keyBag.addBagAttribute(PKCSObjectIdentifiers.pkcs_9_at_friendlyName, name);
    keyBag.addBagAttribute(PKCSObjectIdentifiers.pkcs_9_at_localKeyId, keyId);
    PKCS12PfxPduBuilder pfx = new PKCS12PfxPduBuilder();
    pfx.addData(certBag.build());
    pfx.addData(keyBag.build());
    return pfx.build(
            new BcPKCS12MacCalculatorBuilder(
                    new SHA256Digest(),
                    new AlgorithmIdentifier(NISTObjectIdentifiers.id_sha256, DERNull.INSTANCE))
                .setIterationCount(iterations),
            password)
        .getEncoded(ASN1Encoding.DER);
  }

  private Entry entry(KeyRef ref) {
    Entry e = keys.get(ref.label());
    if (e == null) {
      throw new KeyException(Code.KEY_NOT_FOUND, "no key " + ref);
    }
    return e;
  }

  @Override
  public KeyInfo describe(KeyRef ref) {
    return entry(ref).info();
  }

  @Override
  public byte[] sign(KeyRef ref, SignatureAlgorithm alg, byte[] data) {
    Entry e = entry(ref);
    if (!e.info().spec().allows(alg)) {
      throw new KeyException(
          Code.INVALID_REQUEST, alg + " cannot sign with " + e.info().spec() + " key " + ref);
    }
    if (e.ec() != null && EcSigner.handles(alg)) {
      try {
        return e.ec().sign(alg, data, Randomness.current());
      } catch (CryptoException ex) {
        throw new KeyException(Code.BACKEND_UNAVAILABLE, "signing failed with " + ref, ex);
      }
    }
    try {
      Signature sig = signatures.get().get(alg);
      if (sig == null) {
        sig = Signature.getInstance(alg.jcaName(), BouncyCastle.PROVIDER);
        signatures.get().put(alg, sig);
      }
      sig.initSign(e.privateKey(), Randomness.current());
      sig.update(data);
      return sig.sign();
    } catch (GeneralSecurityException ex) {
      throw new KeyException(Code.BACKEND_UNAVAILABLE, "signing failed with " + ref, ex);
    }
  }

  @Override
  public byte[] signDigest(KeyRef ref, SignatureAlgorithm alg, byte[] digest) {
    Entry e = entry(ref);
    if (!e.info().spec().allows(alg)) {
      throw new KeyException(
          Code.INVALID_REQUEST, alg + " cannot sign with " + e.info().spec() + " key " + ref);
    }
    try {
      if (e.ec() != null && EcSigner.handles(alg)) {
        return e.ec().signDigest(alg, digest, Randomness.current());
      }
      Signature sig;
      if (alg == SignatureAlgorithm.RSA_PKCS1_SHA256) {
        sig = Signature.getInstance("NONEwithRSA", BouncyCastle.PROVIDER);
        sig.initSign(e.privateKey(), Randomness.current());
        sig.update(alg.digestInfo(digest));
      } else if (alg == SignatureAlgorithm.RSA_PSS_SHA256) {
        sig = Signature.getInstance("NONEwithRSASSA-PSS", BouncyCastle.PROVIDER);
        sig.setParameter(alg.parameters().orElseThrow());
        sig.initSign(e.privateKey(), Randomness.current());
        sig.update(digest);
      } else {
        throw new KeyException(Code.UNSUPPORTED_ALGORITHM, alg + " cannot sign a bare digest");
      }
      return sig.sign();
    } catch (GeneralSecurityException | CryptoException ex) {
      throw new KeyException(Code.BACKEND_UNAVAILABLE, "signing failed with " + ref, ex);
    }
  }

  @Override
  public List<KeyInfo> list() {
    List<KeyInfo> all = new ArrayList<>();
    keys.values().forEach(e -> all.add(e.info()));
    all.sort((a, b) -> a.ref().label().compareTo(b.ref().label()));
    return all;
  }

  @Override
  public String health() {
    if (!Files.isDirectory(dir) || !Files.isWritable(dir)) {
      throw new KeyException(Code.BACKEND_UNAVAILABLE, "key directory " + dir + " is not usable");
    }
    return "directory=" + dir + " keys=" + keys.size();
  }

  @Override
  public void close() {
    Arrays.fill(password, '\0');
  }

  @Override
  public String toString() {
    return "SoftKeyBackend[" + dir + "]";
  }
}
