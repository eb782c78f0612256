package io.yinxin.hsm;

import java.time.Instant;
import java.util.Optional;

/**
 * One use of a key, as reported to {@link KeyUseListener}s.
 *
 * @param ref the key
 * @param operation {@code GENERATE}, {@code SIGN}, {@code ENCRYPT} or {@code DECRYPT}
 * @param algorithm the signature algorithm (for a generate, the key is described by {@code spec})
 * @param spec the key type, known for generate
 * @param purpose what the caller said the use was for (free text: it never changes what is
 *     recorded)
 * @param recordedByCaller the caller signed through {@link KeyService#signRecordedByCaller}: it
 *     records this use in its own audit event (naming the key) before anyone sees the result, so
 *     audit listeners do not record it a second time. Only a type, never a purpose string, says so.
 * @param time when it happened
 */
public record KeyUse(
    KeyRef ref,
    Operation operation,
    Optional<SignatureAlgorithm> algorithm,
    Optional<KeySpec> spec,
    String purpose,
    boolean recordedByCaller,
    Instant time) {

  /** What was done with the key. */
  public enum Operation {
    GENERATE,
    SIGN,
    /** A data protection key encrypted data. */
    ENCRYPT,
    /** A data protection key decrypted data. */
    DECRYPT
  }
}
