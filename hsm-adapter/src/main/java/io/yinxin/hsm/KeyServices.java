package io.yinxin.hsm;

import java.security.PublicKey;
import java.time.Clock;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link KeyService}: routes each call to the backend its {@link KeyRef.Scheme} names, checks
 * arguments once for all backends, and tells {@link KeyUseListener}s about every key use.
 */
public final class KeyServices implements KeyService, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(KeyServices.class);
  private static final int MAX_PURPOSE = 200;
  private static final int MAX_DATA = 64 * 1024 * 1024;

  private final Map<KeyRef.Scheme, KeyBackend> backends = new EnumMap<>(KeyRef.Scheme.class);
  private final List<KeyUseListener> listeners;
  private final Clock clock;

  public KeyServices(List<? extends KeyBackend> backends, List<KeyUseListener> listeners) {
    this(backends, listeners, Clock.systemUTC());
  }

  public KeyServices(
      List<? extends KeyBackend> backends, List<KeyUseListener> listeners, Clock clock) {
    for (KeyBackend b : backends) {
      if (this.backends.put(b.scheme(), b) != null) {
        throw new IllegalArgumentException("two backends for scheme " + b.scheme().uriScheme());
      }
    }
    this.listeners = List.copyOf(listeners);
    this.clock = clock;
  }

  /** A service with the given backends and no listeners. */
  public static KeyServices of(KeyBackend... backends) {
    return new KeyServices(List.of(backends), List.of());
  }

  private KeyBackend backend(KeyRef.Scheme scheme) {
    KeyBackend b = backends.get(scheme);
    if (b == null) {
      throw new KeyException(
          KeyException.Code.KEY_NOT_FOUND,
          "no " + scheme.uriScheme() + " key backend is configured");
    }
    return b;
  }

  /** The backend for a scheme, for backend-specific operations such as Vault key rotation. */
  public Optional<KeyBackend> backendFor(KeyRef.Scheme scheme) {
    return Optional.ofNullable(backends.get(scheme));
  }

  @Override
  public KeyInfo generate(KeyRef.Scheme scheme, KeySpec spec, String label) {
    if (spec == null || label == null) {
      throw new KeyException(KeyException.Code.INVALID_REQUEST, "key type and label are required");
    }
    KeyBackend b = backend(scheme);
    if (!b.supportedSpecs().contains(spec)) {
      throw new KeyException(
          KeyException.Code.UNSUPPORTED_ALGORITHM,
          "the " + scheme.uriScheme() + " backend cannot create " + spec + " keys");
    }
    KeyInfo info = b.generate(spec, label);
    log.info("event=key_generated key={} type={}", info.ref(), spec);
    recordOrDestroy(
        b,
        new KeyUse(
            info.ref(),
            KeyUse.Operation.GENERATE,
            Optional.empty(),
            Optional.of(spec),
            "generate",
            false,
            clock.instant()));
    return info;
  }

  @Override
  public PublicKey publicKey(KeyRef ref) {
    return backend(ref.scheme()).publicKey(ref);
  }

  @Override
  public KeyInfo describe(KeyRef ref) {
    return backend(ref.scheme()).describe(ref);
  }

  @Override
  public byte[] sign(KeyRef ref, SignatureAlgorithm alg, byte[] data, String purpose) {
    return sign(ref, alg, data, purpose, false);
  }

  @Override
  public byte[] signRecordedByCaller(
      KeyRef ref, SignatureAlgorithm alg, byte[] data, String purpose) {
    return sign(ref, alg, data, purpose, true);
  }

  private byte[] sign(
      KeyRef ref, SignatureAlgorithm alg, byte[] data, String purpose, boolean byCaller) {
    if (ref == null || alg == null || data == null) {
      throw new KeyException(
          KeyException.Code.INVALID_REQUEST, "key, algorithm and data are required");
    }
    if (data.length > MAX_DATA) {
      throw new KeyException(KeyException.Code.INVALID_REQUEST, "data to sign exceeds 64 MiB");
    }
    String p = checkPurpose(purpose);
    byte[] signature = timed(ref, alg, () -> backend(ref.scheme()).sign(ref, alg, data));
    if (!listeners.isEmpty()) {
      notify(
          new KeyUse(
              ref,
              KeyUse.Operation.SIGN,
              Optional.of(alg),
              Optional.empty(),
              p,
              byCaller,
              clock.instant()));
    }
    return signature;
  }

  @Override
  public byte[] signDigest(KeyRef ref, SignatureAlgorithm alg, byte[] digest, String purpose) {
    return signDigest(ref, alg, digest, purpose, false);
  }

  @Override
  public byte[] signDigestRecordedByCaller(
      KeyRef ref, SignatureAlgorithm alg, byte[] digest, String purpose) {
    return signDigest(ref, alg, digest, purpose, true);
  }

  private byte[] signDigest(
      KeyRef ref, SignatureAlgorithm alg, byte[] digest, String purpose, boolean byCaller) {
    if (ref == null || alg == null || digest == null) {
      throw new KeyException(
          KeyException.Code.INVALID_REQUEST, "key, algorithm and digest are required");
    }
    String p = checkPurpose(purpose);
    String hash =
        alg.digestAlgorithm()
            .orElseThrow(
                () ->
                    new KeyException(
                        KeyException.Code.UNSUPPORTED_ALGORITHM,
                        alg + " signs the message, not a digest"));
    int length = "SHA-384".equals(hash) ? 48 : 32;
    if (digest.length != length) {
      throw new KeyException(
          KeyException.Code.INVALID_REQUEST,
          "a " + hash + " digest has " + length + " bytes, not " + digest.length);
    }
    byte[] d = digest.clone();
    byte[] signature = timed(ref, alg, () -> backend(ref.scheme()).signDigest(ref, alg, d));
    if (!listeners.isEmpty()) {
      notify(
          new KeyUse(
              ref,
              KeyUse.Operation.SIGN,
              Optional.of(alg),
              Optional.empty(),
              p,
              byCaller,
              clock.instant()));
    }
    return signature;
  }

  /** Runs a backend signature, recording its latency or its failure (yinxin_keys_sign_*). */
  private static byte[] timed(
      KeyRef ref, SignatureAlgorithm alg, java.util.function.Supplier<byte[]> signature) {
    long start = System.nanoTime();
    try {
      byte[] s = signature.get();
      KeyMetrics.signed(ref.scheme(), alg, System.nanoTime() - start);
      return s;
    } catch (RuntimeException e) {
      KeyMetrics.failed(ref.scheme(), alg, e);
      throw e;
    }
  }

  private static final int MAX_PLAINTEXT = 64 * 1024;

  @Override
  public KeyRef generateDataKey(KeyRef.Scheme scheme, DataKeySpec spec, String label) {
    if (spec == null || label == null) {
      throw new KeyException(KeyException.Code.INVALID_REQUEST, "key type and label are required");
    }
    KeyBackend b = backend(scheme);
    if (!b.supportedDataKeySpecs().contains(spec)) {
      throw new KeyException(
          KeyException.Code.UNSUPPORTED_ALGORITHM,
          "the " + scheme.uriScheme() + " backend cannot create " + spec + " keys");
    }
    KeyRef ref = b.generateDataKey(spec, label);
    log.info("event=key_generated key={} type={}", ref, spec);
    recordOrDestroy(
        b,
        new KeyUse(
            ref,
            KeyUse.Operation.GENERATE,
            Optional.empty(),
            Optional.empty(),
            "data key " + spec,
            false,
            clock.instant()));
    return ref;
  }

  @Override
  public Optional<DataKeySpec> dataKey(KeyRef ref) {
    return backend(ref.scheme()).dataKey(ref);
  }

  @Override
  public byte[] encrypt(KeyRef ref, byte[] plaintext, byte[] associatedData, String purpose) {
    return encrypt(ref, plaintext, associatedData, purpose, false);
  }

  @Override
  public byte[] encryptRecordedByCaller(
      KeyRef ref, byte[] plaintext, byte[] associatedData, String purpose) {
    return encrypt(ref, plaintext, associatedData, purpose, true);
  }

  private byte[] encrypt(
      KeyRef ref, byte[] plaintext, byte[] associatedData, String purpose, boolean byCaller) {
    if (ref == null || plaintext == null || associatedData == null) {
      throw new KeyException(
          KeyException.Code.INVALID_REQUEST, "key, plaintext and associated data are required");
    }
    if (plaintext.length == 0) {
      throw new KeyException(KeyException.Code.INVALID_REQUEST, "nothing to encrypt");
    }
    if (plaintext.length > MAX_PLAINTEXT || associatedData.length > MAX_PLAINTEXT) {
      throw new KeyException(
          KeyException.Code.INVALID_REQUEST, "plaintext or associated data exceeds 64 KiB");
    }
    String p = checkPurpose(purpose);
    byte[] out = backend(ref.scheme()).encrypt(ref, plaintext.clone(), associatedData.clone());
    dataKeyUse(ref, KeyUse.Operation.ENCRYPT, p, byCaller);
    return out;
  }

  @Override
  public byte[] decrypt(KeyRef ref, byte[] ciphertext, byte[] associatedData, String purpose) {
    return decrypt(ref, ciphertext, associatedData, purpose, false);
  }

  @Override
  public byte[] decryptRecordedByCaller(
      KeyRef ref, byte[] ciphertext, byte[] associatedData, String purpose) {
    return decrypt(ref, ciphertext, associatedData, purpose, true);
  }

  private byte[] decrypt(
      KeyRef ref, byte[] ciphertext, byte[] associatedData, String purpose, boolean byCaller) {
    if (ref == null || ciphertext == null || associatedData == null) {
      throw new KeyException(
          KeyException.Code.INVALID_REQUEST, "key, ciphertext and associated data are required");
    }
    if (ciphertext.length > 2 * MAX_PLAINTEXT || associatedData.length > MAX_PLAINTEXT) {
      throw new KeyException(KeyException.Code.INVALID_CIPHERTEXT, "ciphertext too large");
    }
    String p = checkPurpose(purpose);
    byte[] out = backend(ref.scheme()).decrypt(ref, ciphertext.clone(), associatedData.clone());
    dataKeyUse(ref, KeyUse.Operation.DECRYPT, p, byCaller);
    return out;
  }

  private void dataKeyUse(KeyRef ref, KeyUse.Operation op, String purpose, boolean byCaller) {
    if (!listeners.isEmpty()) {
      notify(
          new KeyUse(
              ref, op, Optional.empty(), Optional.empty(), purpose, byCaller, clock.instant()));
    }
  }

  private static String checkPurpose(String purpose) {
    if (purpose == null || purpose.isEmpty() || purpose.length() > MAX_PURPOSE) {
      throw new KeyException(
          KeyException.Code.INVALID_REQUEST, "purpose must be 1-" + MAX_PURPOSE + " characters");
    }
    for (int i = 0; i < purpose.length(); i++) {
      if (Character.isISOControl(purpose.charAt(i))) {
        throw new KeyException(
            KeyException.Code.INVALID_REQUEST, "purpose must not contain control characters");
      }
    }
    return purpose;
  }

  /**
   * Records a new key ({@code KEY_GENERATED}); if the record fails, the key is destroyed and the
   * failure thrown, so no key exists that the evidence does not name. A key that cannot be
   * destroyed either is logged by its URI for an operator to remove.
   */
  private void recordOrDestroy(KeyBackend b, KeyUse use) {
    try {
      notify(use);
    } catch (RuntimeException e) {
      try {
        b.destroyGenerated(use.ref());
        log.warn(
            "event=key_destroyed_unrecorded key={} reason={}",
            use.ref(),
            e.getClass().getSimpleName());
      } catch (RuntimeException d) {
        e.addSuppressed(d);
        log.error(
            "event=key_unrecorded_not_destroyed key={} reason={}",
            use.ref(),
            d.getClass().getSimpleName());
      }
      throw e;
    }
  }

  private void notify(KeyUse use) {
    for (KeyUseListener l : listeners) {
      l.onKeyUse(use);
    }
  }

  @Override
  public List<KeyInfo> list() {
    List<KeyInfo> all = new ArrayList<>();
    for (KeyBackend b : backends.values()) {
      all.addAll(b.list());
    }
    return all;
  }

  @Override
  public Health health() {
    Map<String, String> status = new LinkedHashMap<>();
    boolean up = !backends.isEmpty();
    for (KeyBackend b : backends.values()) {
      try {
        status.put(b.scheme().uriScheme(), "UP " + b.health());
      } catch (KeyException e) {
        up = false;
        status.put(b.scheme().uriScheme(), "DOWN " + e.code() + ": " + e.getMessage());
      } catch (RuntimeException e) {
        up = false;
        status.put(b.scheme().uriScheme(), "DOWN " + e.getClass().getSimpleName());
      }
    }
    return new Health(up, status);
  }

  @Override
  public void close() {
    for (KeyBackend b : backends.values()) {
      b.close();
    }
  }
}
