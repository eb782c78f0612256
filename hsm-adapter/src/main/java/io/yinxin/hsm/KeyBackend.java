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
