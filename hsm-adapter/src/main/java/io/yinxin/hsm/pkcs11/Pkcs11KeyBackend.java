package io.yinxin.hsm.pkcs11;

import io.yinxin.hsm.KeyBackend;
import io.yinxin.hsm.KeyException;
import io.yinxin.hsm.KeyException.Code;
import io.yinxin.hsm.KeyInfo;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeySpec;
import io.yinxin.hsm.PlaceholderCertificate;
import io.yinxin.hsm.PublicKeys;
import io.yinxin.hsm.Secret;
import io.yinxin.hsm.SignatureAlgorithm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Security;
import java.security.Signature;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keys on a PKCS#11 token. ECDSA and RSA signatures go through the JDK's SunPKCS11 provider;
 * Ed25519 (CKM_EDDSA, which SunPKCS11 lacks) and all key management go through the xipki PKCS#11
 * binding ({@link NativeToken}).
 *
 * <p>What this class guards against: SunPKCS11 picks slots by number and SoftHSM2 renumbers them on
 * every token initialisation, so the slot is found by token label each time the provider is
 * (re)built; keys are created with an explicit template (token object, private, sensitive,
 * non-extractable, sign only); concurrency is bounded below the session limit, because SunPKCS11
 * throws instead of waiting when sessions run out; a closed session or a token that went away makes
 * the backend rebuild the provider and retry once.
 */
public final class Pkcs11KeyBackend implements KeyBackend {
  private static final Logger log = LoggerFactory.getLogger(Pkcs11KeyBackend.class);
  private static final AtomicInteger PROVIDER_NAMES = new AtomicInteger();
  private static final Set<KeySpec> SPECS =
      EnumSet.of(KeySpec.EC_P256, KeySpec.EC_P384, KeySpec.RSA_3072, KeySpec.ED25519);

  private final Path library;
  private final String tokenLabel;
  private final Secret pin;
  private final Semaphore permits;
  private final SecureRandom random = new SecureRandom();

  private final Map<String, KeyMeta> meta = new ConcurrentHashMap<>();
  private final Map<String, PrivateKey> sunKeys = new ConcurrentHashMap<>();
  private final ThreadLocal<Map<SignatureAlgorithm, Signature>> signatures =
      ThreadLocal.withInitial(HashMap::new);
  private final AtomicLong generation = new AtomicLong();

  private volatile NativeToken nativeToken;
  private volatile Provider provider;
  private volatile KeyStore keyStore;

  /** What the token says about one key, cached by label. */
  record KeyMeta(KeySpec spec, PublicKey publicKey) {}

  private Pkcs11KeyBackend(Path library, String tokenLabel, Secret pin, int maxSessions) {
    this.library = library;
    this.tokenLabel = tokenLabel;
    this.pin = Secret.of(pin.value(), pin.source());
    this.permits = new Semaphore(maxSessions);
  }

  /**
   * Connects to the token labelled {@code tokenLabel} through the PKCS#11 module at {@code library}
   * and logs in.
   *
   * @param maxSessions upper bound on concurrent operations; keep it below the token's session
   *     limit
   * @throws KeyException {@code AUTH_FAILED} for a wrong PIN, {@code BACKEND_UNAVAILABLE} when the
   *     module or token cannot be found
   */
  public static Pkcs11KeyBackend open(
      Path library, String tokenLabel, Secret pin, int maxSessions) {
    if (!Files.isReadable(library)) {
      throw new KeyException(Code.BACKEND_UNAVAILABLE, "PKCS#11 module not found: " + library);
    }
    if (maxSessions < 1) {
      throw new KeyException(Code.INVALID_REQUEST, "maxSessions must be at least 1");
    }
    Pkcs11KeyBackend b = new Pkcs11KeyBackend(library, tokenLabel, pin, maxSessions);
    b.connect();
    return b;
  }

  private synchronized void connect() {
    NativeToken old = nativeToken;
    if (old != null) {
      old.close();
    }
    Provider replaced = provider;
    if (replaced instanceof java.security.AuthProvider auth) {
      // The provider being replaced logs out and is dropped with its key store: no session of it
      // stays logged in on the token.
      try {
        auth.logout();
      } catch (javax.security.auth.login.LoginException | RuntimeException e) {
        log.debug(
            "event=pkcs11_old_provider_logout_failed reason={}", e.getClass().getSimpleName());
      }
    }
    char[] p = pin.value();
    try {
      NativeToken nt = NativeToken.open(library, tokenLabel, p, permits.availablePermits() + 1);
      Provider sun = Security.getProvider("SunPKCS11");
      if (sun == null) {
        throw new KeyException(Code.BACKEND_UNAVAILABLE, "the JDK has no SunPKCS11 provider");
      }
      String config =
          "--name = yinxin-"
              + PROVIDER_NAMES.incrementAndGet()
              + "\nlibrary = "
              + library.toAbsolutePath()
              + "\nslot = "
              + nt.slotId()
              + "\n";
      Provider configured = sun.configure(config);
      KeyStore ks = KeyStore.getInstance("PKCS11", configured);
      ks.load(null, p);
      this.nativeToken = nt;
      this.provider = configured;
      this.keyStore = ks;
      sunKeys.clear();
      generation.incrementAndGet();
      log.info("event=pkcs11_connected token={} slot={}", tokenLabel, nt.slotId());
    } catch (KeyException e) {
      throw e;
    } catch (Exception e) {
      throw Pkcs11Errors.translate(e, "cannot open token " + tokenLabel);
    } finally {
      Arrays.fill(p, '\0');
    }
  }

  /** Rebuilds sessions and provider unless another thread already did since {@code seen}. */
  private void recover(long seen, Exception cause) {
    synchronized (this) {
      if (generation.get() != seen) {
        return;
      }
      log.warn("event=pkcs11_recover token={} reason={}", tokenLabel, Pkcs11Errors.describe(cause));
      connect();
    }
  }

  @Override
  public KeyRef.Scheme scheme() {
    return KeyRef.Scheme.PKCS11;
  }

  @Override
  public Set<KeySpec> supportedSpecs() {
    return EnumSet.copyOf(SPECS);
  }

  /** The label of the token this backend uses. */
  public String tokenLabel() {
    return tokenLabel;
  }

  private void checkToken(KeyRef ref) {
    if (!ref.token().equals(tokenLabel)) {
      throw new KeyException(Code.KEY_NOT_FOUND, "no configured PKCS#11 token for key " + ref);
    }
  }

  @Override
  public KeyInfo generate(KeySpec spec, String label) {
    KeyRef ref = KeyRef.pkcs11(tokenLabel, label);
    if (!SPECS.contains(spec)) {
      throw new KeyException(
          Code.UNSUPPORTED_ALGORITHM, "the PKCS#11 backend cannot create " + spec + " keys");
    }
    return recovering(() -> generateOnce(ref, spec, label));
  }

  @Override
  public void destroyGenerated(KeyRef ref) {
    checkToken(ref);
    recovering(
        () -> {
          synchronized (this) {
            meta.remove(ref.label());
            aesKeys.remove(ref.label());
            nativeToken.destroyLabelled(ref.label());
            return null;
          }
        });
  }

  private synchronized KeyInfo generateOnce(KeyRef ref, KeySpec spec, String label) {
    {
      if (lookup(label) != null || hasAes(label)) {
        throw new KeyException(Code.INVALID_REQUEST, "key " + ref + " already exists");
      }
      byte[] id = new byte[16];
      random.nextBytes(id);
      try {
        PublicKey pub = nativeToken.generate(spec, label, id);
        X509Certificate cert =
            PlaceholderCertificate.create(
                pub, label, nativeToken.contentSigner(label, spec, spec.defaultAlgorithm()));
        nativeToken.storeCertificate(label, id, cert);
        KeyMeta m = new KeyMeta(spec, pub);
        meta.put(label, m);
        return new KeyInfo(ref, spec, pub);
      } catch (RuntimeException e) {
        nativeToken.destroyObjects(label, id);
        throw e;
      }
    }
  }

  private final Set<String> aesKeys = ConcurrentHashMap.newKeySet();

  @Override
  public Set<io.yinxin.hsm.DataKeySpec> supportedDataKeySpecs() {
    return Set.of(io.yinxin.hsm.DataKeySpec.AES_256_GCM);
  }

  @Override
  public KeyRef generateDataKey(io.yinxin.hsm.DataKeySpec spec, String label) {
    KeyRef ref = KeyRef.pkcs11(tokenLabel, label);
    if (spec != io.yinxin.hsm.DataKeySpec.AES_256_GCM) {
      throw new KeyException(
          Code.UNSUPPORTED_ALGORITHM, "the PKCS#11 backend cannot create " + spec + " keys");
    }
    return recovering(
        () -> {
          synchronized (this) {
            if (lookup(label) != null || hasAes(label)) {
              throw new KeyException(Code.INVALID_REQUEST, "key " + ref + " already exists");
            }
            byte[] id = new byte[16];
            random.nextBytes(id);
            nativeToken.generateAesKey(label, id);
            aesKeys.add(label);
            return ref;
          }
        });
  }

  private boolean hasAes(String label) {
    if (aesKeys.contains(label)) {
      return true;
    }
    if (nativeToken.hasAesKey(label)) {
      aesKeys.add(label);
      return true;
    }
    return false;
  }

  @Override
  public java.util.Optional<io.yinxin.hsm.DataKeySpec> dataKey(KeyRef ref) {
    checkToken(ref);
    return recovering(() -> hasAes(ref.label()))
        ? java.util.Optional.of(io.yinxin.hsm.DataKeySpec.AES_256_GCM)
        : java.util.Optional.empty();
  }

  @Override
  public byte[] encrypt(KeyRef ref, byte[] plaintext, byte[] associatedData) {
    checkToken(ref);
    byte[] nonce = new byte[io.yinxin.hsm.DataCiphertext.NONCE_BYTES];
    io.yinxin.hsm.Randomness.current().nextBytes(nonce);
    byte[] sealed =
        recovering(() -> nativeToken.encryptAesGcm(ref.label(), nonce, associatedData, plaintext));
    return io.yinxin.hsm.DataCiphertext.gcm(io.yinxin.hsm.DataKeySpec.AES_256_GCM, nonce, sealed);
  }

  @Override
  public byte[] decrypt(KeyRef ref, byte[] ciphertext, byte[] associatedData) {
    checkToken(ref);
    io.yinxin.hsm.DataCiphertext.Gcm g =
        io.yinxin.hsm.DataCiphertext.parseGcm(ciphertext, io.yinxin.hsm.DataKeySpec.AES_256_GCM);
    return recovering(
        () -> nativeToken.decryptAesGcm(ref.label(), g.nonce(), associatedData, g.sealed()));
  }

  /** The key's metadata, read from its placeholder certificate on the token; null if absent. */
  private KeyMeta lookup(String label) {
    KeyMeta m = meta.get(label);
    if (m != null) {
      return m;
    }
    byte[] der = nativeToken.certificate(label);
    if (der == null) {
      return null;
    }
    try {
      X509Certificate cert =
          (X509Certificate)
              CertificateFactory.getInstance("X.509")
                  .generateCertificate(new java.io.ByteArrayInputStream(der));
      PublicKey pub = PublicKeys.decode(cert.getPublicKey().getEncoded());
      m = new KeyMeta(PublicKeys.specOf(pub), pub);
      meta.put(label, m);
      return m;
    } catch (GeneralSecurityException e) {
      throw new KeyException(
          Code.BACKEND_UNAVAILABLE, "unreadable certificate object for key " + label, e);
    }
  }

  /** Runs a token operation; after a lost session or login, reconnects and runs it once more. */
  private <T> T recovering(java.util.function.Supplier<T> op) {
    long seen = generation.get();
    try {
      return op.get();
    } catch (KeyException e) {
      if (!Pkcs11Errors.isRecoverable(e)) {
        throw e;
      }
      recover(seen, e);
      return op.get();
    }
  }

  private KeyMeta require(KeyRef ref) {
    checkToken(ref);
    KeyMeta m = recovering(() -> lookup(ref.label()));
    if (m == null) {
      throw new KeyException(Code.KEY_NOT_FOUND, "no key " + ref);
    }
    return m;
  }

  @Override
  public KeyInfo describe(KeyRef ref) {
    KeyMeta m = require(ref);
    return new KeyInfo(ref, m.spec(), m.publicKey());
  }

  @Override
  public byte[] sign(KeyRef ref, SignatureAlgorithm alg, byte[] data) {
    KeyMeta m = require(ref);
    if (!m.spec().allows(alg)) {
      throw new KeyException(
          Code.INVALID_REQUEST, alg + " cannot sign with " + m.spec() + " key " + ref);
    }
    try {
      permits.acquire();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KeyException(Code.BACKEND_UNAVAILABLE, "interrupted waiting for a session");
    }
    try {
      long seen = generation.get();
      try {
        return signOnce(ref.label(), alg, data);
      } catch (Exception e) {
        if (!Pkcs11Errors.isRecoverable(e)) {
          throw Pkcs11Errors.translate(e, "signing failed with " + ref);
        }
        recover(seen, e);
        try {
          return signOnce(ref.label(), alg, data);
        } catch (Exception again) {
          throw Pkcs11Errors.translate(again, "signing failed with " + ref + " after reconnect");
        }
      }
    } finally {
      permits.release();
    }
  }

  @Override
  public byte[] signDigest(KeyRef ref, SignatureAlgorithm alg, byte[] digest) {
    KeyMeta m = require(ref);
    if (!m.spec().allows(alg)) {
      throw new KeyException(
          Code.INVALID_REQUEST, alg + " cannot sign with " + m.spec() + " key " + ref);
    }
    try {
      permits.acquire();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KeyException(Code.BACKEND_UNAVAILABLE, "interrupted waiting for a session");
    }
    try {
      return nativeToken.signDigest(ref.label(), alg, digest);
    } finally {
      permits.release();
    }
  }

  private byte[] signOnce(String label, SignatureAlgorithm alg, byte[] data)
      throws GeneralSecurityException {
    if (alg == SignatureAlgorithm.ED25519) {
      return nativeToken.signEdDsa(label, data);
    }
    PrivateKey key = sunKey(label);
    Signature sig = signature(alg);
    sig.initSign(key);
    sig.update(data);
    return sig.sign();
  }

  private Signature signature(SignatureAlgorithm alg) throws GeneralSecurityException {
    Map<SignatureAlgorithm, Signature> cache = signatures.get();
    Signature s = cache.get(alg);
    Provider current = provider;
    if (s == null || s.getProvider() != current) {
      s = Signature.getInstance(alg.genericJcaName(), current);
      if (alg.parameters().isPresent()) {
        s.setParameter(alg.parameters().get());
      }
      cache.put(alg, s);
    }
    return s;
  }

  /** The SunPKCS11 handle of a key; the key store is re-read once if a new key is not seen yet. */
  private PrivateKey sunKey(String label) throws GeneralSecurityException {
    PrivateKey k = sunKeys.get(label);
    if (k != null) {
      return k;
    }
    synchronized (this) {
      k = (PrivateKey) keyStore.getKey(label, null);
      if (k == null) {
        char[] p = pin.value();
        try {
          keyStore.load(null, p);
        } catch (java.io.IOException e) {
          throw new GeneralSecurityException("key store reload", e);
        } finally {
          Arrays.fill(p, '\0');
        }
        k = (PrivateKey) keyStore.getKey(label, null);
      }
      if (k == null) {
        throw new KeyException(
            Code.KEY_NOT_FOUND, "key " + label + " is not visible through SunPKCS11");
      }
      sunKeys.put(label, k);
      return k;
    }
  }

  @Override
  public List<KeyInfo> list() {
    List<KeyInfo> all = new ArrayList<>();
    for (String label : recovering(() -> nativeToken.certificateLabels())) {
      KeyMeta m = lookup(label);
      if (m != null) {
        all.add(new KeyInfo(KeyRef.pkcs11(tokenLabel, label), m.spec(), m.publicKey()));
      }
    }
    return all;
  }

  @Override
  public String health() {
    long seen = generation.get();
    try {
      nativeToken.ping();
    } catch (RuntimeException e) {
      recover(seen, e);
      nativeToken.ping();
    }
    return "token=" + tokenLabel + " slot=" + nativeToken.slotId();
  }

  /** Test hook: closes all of this process's sessions on the token, as a token reset would. */
  void simulateTokenReset() {
    nativeToken.closeAllSessions();
  }

  @Override
  public synchronized void close() {
    NativeToken nt = nativeToken;
    if (nt != null) {
      nt.close();
    }
    pin.destroy();
  }

  @Override
  public String toString() {
    return "Pkcs11KeyBackend[token=" + tokenLabel + ", module=" + library + "]";
  }

  static byte[] encoded(X509Certificate cert) {
    try {
      return cert.getEncoded();
    } catch (CertificateEncodingException e) {
      throw new KeyException(Code.BACKEND_UNAVAILABLE, "certificate encoding", e);
    }
  }
}
