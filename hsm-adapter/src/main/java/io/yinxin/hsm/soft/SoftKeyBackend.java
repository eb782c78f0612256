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
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
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
import org.bouncycastle.crypto.CryptoException;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Keys in PKCS#12 files, one file per key ({@code <dir>/<label>.p12}, so adding a key never
 * rewrites the others), all under one password: for development and the embedded default only. The
 * private keys are held in memory by this process; nothing outside this class reads them. Signing
 * uses Bouncy Castle, which on Java 17 is several times faster than SunEC for P-256; ECDSA and SM2
 * keys sign through {@link EcSigner}, Bouncy Castle's ECDSA and SM2 with a precomputed base-point
 * table.
 */
public final class SoftKeyBackend implements KeyBackend {
  static final String PASSWORD_FILE = "keystore.password";
  private static final String SUFFIX = ".p12";

  /** Data protection keys: one PKCS#12 file each (a secret-key entry), beside the signing keys. */
  private static final String DATA_SUFFIX = ".aead";

  private final Map<String, DataEntry> dataKeys = new ConcurrentHashMap<>();

  private record DataEntry(DataKeySpec spec, javax.crypto.SecretKey key) {}

  private final Path dir;
  private final char[] password;
  private final Map<String, Entry> keys = new ConcurrentHashMap<>();
  private final ThreadLocal<Map<SignatureAlgorithm, Signature>> signatures =
      ThreadLocal.withInitial(HashMap::new);

  /** A loaded key; {@code ec} is its table-driven signer when it is a P-256, P-384 or SM2 key. */
  private record Entry(KeyInfo info, PrivateKey privateKey, EcSigner ec) {
    Entry(KeyInfo info, PrivateKey privateKey) {
      this(info, privateKey, EcSigner.forKey(info.spec(), privateKey));
    }
  }

  private SoftKeyBackend(Path dir, char[] password) {
    this.dir = dir;
    this.password = password.clone();
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
        writeOwnerOnly(pw, Base64.getEncoder().encodeToString(random));
      }
      char[] password = Files.readString(pw, StandardCharsets.US_ASCII).trim().toCharArray();
      return new SoftKeyBackend(dir, password);
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
    return new SoftKeyBackend(dir, password);
  }

  private static void restrictDirectory(Path dir) throws IOException {
    try {
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    } catch (UnsupportedOperationException e) {
      // Not a POSIX file system: nothing more to restrict here.
    }
  }

  private static void writeOwnerOnly(Path path, String content) throws IOException {
    try {
      Files.createFile(
          path, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } catch (UnsupportedOperationException e) {
      Files.createFile(path);
    } catch (FileAlreadyExistsException e) {
      return;
    }
    Files.writeString(path, content, StandardCharsets.US_ASCII);
  }

  private KeyStore newKeyStore() throws GeneralSecurityException {
    return KeyStore.getInstance("PKCS12", BouncyCastle.PROVIDER);
  }

  /**
   * Reads every key file, on all processors at once: each one costs about half a second of key
   * derivation (Bouncy Castle's PKCS#12 derives its keys with 102,400 iterations of SHA-1, in
   * Java), and a node's two dozen keys took 11 of its 19 seconds to start on two cores when read
   * one after the other. The first file that cannot be read fails the opening, as before.
   */
  private void load() {
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
    try (InputStream in = Files.newInputStream(f)) {
      KeyStore ks = newKeyStore();
      ks.load(in, password);
      for (String alias : Collections.list(ks.aliases())) {
        if (!ks.isKeyEntry(alias)) {
          continue;
        }
        PrivateKey pk = (PrivateKey) ks.getKey(alias, password);
        Certificate cert = ks.getCertificate(alias);
        var pub = PublicKeys.decode(cert.getPublicKey().getEncoded());
        KeyRef ref = KeyRef.soft(alias);
        keys.put(alias, new Entry(new KeyInfo(ref, PublicKeys.specOf(pub), pub), pk));
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
      writeAtomically(file, ks);
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

  /** Writes the key's own file: a temporary file, synced, then renamed into place. */
  private void persist(String label, PrivateKey key, Certificate cert) {
    Path file = dir.resolve(label + SUFFIX);
    try {
      KeyStore ks = newKeyStore();
      ks.load(null, password);
      ks.setKeyEntry(label, key, password, new Certificate[] {cert});
      writeAtomically(file, ks);
    } catch (IOException | GeneralSecurityException e) {
      throw new KeyException(Code.BACKEND_UNAVAILABLE, "cannot write key file " + file, e);
    }
  }

  /** Writes a keystore to {@code file}: a temporary file, synced, then renamed into place. */
  private void writeAtomically(Path file, KeyStore ks)
      throws IOException, GeneralSecurityException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    writeOwnerOnly(tmp, "");
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE);
        OutputStream out = java.nio.channels.Channels.newOutputStream(ch)) {
      ks.store(out, password);
      out.flush();
      ch.force(true);
    }
    try {
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, file);
    }
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
