package io.yinxin.hsm;

import java.security.PublicKey;
import java.util.List;
import java.util.Set;

/**
 * One kind of key store. Implementations live in their own package ({@code pkcs11}, {@code vault},
 * {@code soft}); callers use {@link KeyService}, which routes by {@link KeyRef.Scheme}.
 */
public interface KeyBackend extends AutoCloseable {

  KeyRef.Scheme scheme();

  /** Key types this backend creates and signs with; others answer {@code UNSUPPORTED_ALGORITHM}. */
  Set<KeySpec> supportedSpecs();

  KeyInfo generate(KeySpec spec, String label);

  /**
   * Destroys a key (signing or data) this backend generated a moment ago, because what had to
   * follow its generation failed: its {@code KEY_GENERATED} record. A key the evidence does not
   * know of must not stay. Nothing else in Yinxin destroys keys.
   *
   * @throws KeyException if the key could not be destroyed (the caller reports it)
   */
  void destroyGenerated(KeyRef ref);

  KeyInfo describe(KeyRef ref);

  default PublicKey publicKey(KeyRef ref) {
    return describe(ref).publicKey();
  }

  byte[] sign(KeyRef ref, SignatureAlgorithm alg, byte[] data);

  /**
   * Signs a digest of {@code alg}'s hash; {@link KeyServices} has checked its length. Backends that
   * cannot keep the default, which refuses.
   */
  default byte[] signDigest(KeyRef ref, SignatureAlgorithm alg, byte[] digest) {
    throw new KeyException(
        KeyException.Code.UNSUPPORTED_ALGORITHM,
        "the " + scheme().uriScheme() + " backend cannot sign a digest");
  }

  /** Data protection key types this backend creates; none unless it says otherwise. */
  default Set<DataKeySpec> supportedDataKeySpecs() {
    return Set.of();
  }

  default KeyRef generateDataKey(DataKeySpec spec, String label) {
    throw new KeyException(
        KeyException.Code.UNSUPPORTED_ALGORITHM,
        "the " + scheme().uriScheme() + " backend has no data protection keys");
  }

  default java.util.Optional<DataKeySpec> dataKey(KeyRef ref) {
    return java.util.Optional.empty();
  }

  /** Encrypts; {@link KeyServices} has checked the arguments. */
  default byte[] encrypt(KeyRef ref, byte[] plaintext, byte[] associatedData) {
    throw new KeyException(KeyException.Code.KEY_NOT_FOUND, "no data protection key " + ref);
  }

  default byte[] decrypt(KeyRef ref, byte[] ciphertext, byte[] associatedData) {
    throw new KeyException(KeyException.Code.KEY_NOT_FOUND, "no data protection key " + ref);
  }

  List<KeyInfo> list();

  /**
   * A short status line for operators (no secrets).
   *
   * @throws KeyException when the backend cannot be used now
   */
  String health();

  @Override
  void close();
}
