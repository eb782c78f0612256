package io.yinxin.hsm;

import java.security.PublicKey;
import java.util.List;

/**
 * The one way Yinxin uses private keys. A key is created inside a backend (an HSM, Vault Transit
 * or, for development only, a PKCS#12 file), is never exported, and is addressed by a {@link
 * KeyRef}.
 *
 * <p>Every method either returns a result or throws {@link KeyException} with a stable {@link
 * KeyException.Code}. Implementations are safe for concurrent use. No method, message or {@code
 * toString()} reveals a PIN, token or password.
 */
public interface KeyService {

  /**
   * Creates a new key pair inside the backend named by {@code scheme}. The private key is
   * non-exportable and usable only for signing.
   *
   * @param scheme which backend creates the key
   * @param spec key type and size
   * @param label the key's name in the backend; must not exist yet
   * @return the new key's reference, type and public key
   * @throws KeyException {@code INVALID_REQUEST} for a bad or existing label, {@code
   *     UNSUPPORTED_ALGORITHM} when the backend cannot create {@code spec}
   */
  KeyInfo generate(KeyRef.Scheme scheme, KeySpec spec, String label);

  /** The public half of a key. */
  PublicKey publicKey(KeyRef ref);

  /**
   * Signs {@code data} (the message, not a digest: the backend hashes it as {@code alg} says).
   *
   * @param purpose what the signature is for, recorded with the key use (for example {@code
   *     "crl:citizen-ca"}); never a secret
   * @return the signature in the encoding the JCA gives: DER {@code SEQUENCE{r,s}} for ECDSA and
   *     SM2, raw for Ed25519 and RSA
   */
  byte[] sign(KeyRef ref, SignatureAlgorithm alg, byte[] data, String purpose);

  /**
   * As {@link #sign(KeyRef, SignatureAlgorithm, byte[], String)}, for a caller that records this
   * use of the key in its own audit event before anyone outside sees the result (the CA's {@code
   * CERT_ISSUED}, which names the CA key; the OCSP responder's per-signer tally). Listeners are
   * told with {@link KeyUse#recordedByCaller()} set, and audit listeners do not record it again.
   * Which classes may call this is a rule of {@code ArchitectureTest}.
   */
  byte[] signRecordedByCaller(KeyRef ref, SignatureAlgorithm alg, byte[] data, String purpose);

  /**
   * Signs a digest the caller has already computed with {@code alg}'s hash ({@link
   * SignatureAlgorithm#digestAlgorithm()}): the result is the signature {@link #sign} gives for any
   * message with that digest. This is remote hash signing (the Cloud Signature Consortium's {@code
   * signHash}): the document never reaches the key backend.
   *
   * <p>For SM2 the digest is {@code e = SM3(Z ‖ M)}, {@code Z} computed from the signer's ID
   * (usually {@code 1234567812345678}) and public key: the signature is the one {@link #sign} gives
   * for {@code M} with that ID. Only the soft backend has SM2.
   *
   * @throws KeyException {@code UNSUPPORTED_ALGORITHM} for Ed25519, which cannot sign a bare
   *     digest, or a backend without it; {@code INVALID_REQUEST} when the digest's length is not
   *     the hash's
   */
  byte[] signDigest(KeyRef ref, SignatureAlgorithm alg, byte[] digest, String purpose);

  /**
   * As {@link #signDigest}, for a caller that records this use of the key in its own audit event
   * before anyone outside sees the result (the remote signing API's {@code HASH_SIGNED}, which
   * names the key and every digest signed). Listeners are told with {@link
   * KeyUse#recordedByCaller()} set. Which classes may call this is a rule of {@code
   * ArchitectureTest}.
   */
  byte[] signDigestRecordedByCaller(
      KeyRef ref, SignatureAlgorithm alg, byte[] digest, String purpose);

  /** Signs with purpose {@code "unspecified"}. */
  default byte[] sign(KeyRef ref, SignatureAlgorithm alg, byte[] data) {
    return sign(ref, alg, data, "unspecified");
  }

  /**
   * Creates a data protection key inside the backend named by {@code scheme}: non-exportable,
   * usable only to encrypt and decrypt.
   *
   * @throws KeyException {@code INVALID_REQUEST} for a bad or existing label, {@code
   *     UNSUPPORTED_ALGORITHM} when the backend cannot create {@code spec}
   */
  KeyRef generateDataKey(KeyRef.Scheme scheme, DataKeySpec spec, String label);

  /** The type of a data protection key, or empty when there is none under {@code ref}. */
  java.util.Optional<DataKeySpec> dataKey(KeyRef ref);

  /**
   * Encrypts {@code plaintext} (1 byte to 64 KiB: an absent value is stored as absent) under a data
   * protection key with authenticated encryption, bound to {@code associatedData} (the context the
   * value belongs in, such as its table, column and row: it must be given again to decrypt, so a
   * value copied to another row does not open there). A fresh random nonce each time. Audited like
   * a signature.
   *
   * @return the {@link DataCiphertext} layout
   */
  byte[] encrypt(KeyRef ref, byte[] plaintext, byte[] associatedData, String purpose);

  /**
   * Opens a ciphertext {@link #encrypt} made with the same key and associated data.
   *
   * @throws KeyException {@code INVALID_CIPHERTEXT} for anything else (no partial plaintext is ever
   *     returned)
   */
  byte[] decrypt(KeyRef ref, byte[] ciphertext, byte[] associatedData, String purpose);

  /**
   * As {@link #encrypt}, for a caller that records this use of the key in its own audit event: the
   * audit log wrapping the key its private event rows are encrypted under, recorded in the {@code
   * LOG_STARTED} event of the process (the log cannot append a record of that use before it holds
   * the key the record is encrypted under). Listeners are told with {@link
   * KeyUse#recordedByCaller()} set. Which classes may call this is a rule of {@code
   * ArchitectureTest}.
   */
  byte[] encryptRecordedByCaller(
      KeyRef ref, byte[] plaintext, byte[] associatedData, String purpose);

  /**
   * As {@link #decrypt}, for the same caller and on the same terms as {@link
   * #encryptRecordedByCaller}.
   */
  byte[] decryptRecordedByCaller(
      KeyRef ref, byte[] ciphertext, byte[] associatedData, String purpose);

  /** Describes a key: its type and public key. */
  KeyInfo describe(KeyRef ref);

  /** All keys the configured backends hold. */
  List<KeyInfo> list();

  /**
   * {@code base}, or {@code base-2}, {@code base-3}…: the first of them that no key of this scheme
   * has as its label. For keys labelled by the second they are made in (a service certificate's, a
   * rotated checkpoint or token key): two made within one second each get a key of their own. Two
   * nodes asking at once may get the same label; the second {@link #generate} of it is refused.
   */
  default String freeLabel(KeyRef.Scheme scheme, String base) {
    java.util.Set<String> taken = new java.util.HashSet<>();
    for (KeyInfo k : list()) {
      if (k.ref().scheme() == scheme) {
        taken.add(k.ref().label());
      }
    }
    String label = base;
    for (int n = 2; taken.contains(label); n++) {
      label = base + "-" + n;
    }
    return label;
  }

  /** Whether each configured backend can sign right now. */
  Health health();
}
