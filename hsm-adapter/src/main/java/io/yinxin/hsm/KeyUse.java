package io.yinxin.hsm;

import java.time.Instant;
import java.util.Optional;

/**
 * One use of a key, as reported to {@link KeyUseListener}s.
 *
 * @param ref the key
 * @param operation {@code GENERATE} or {@code SIGN}
 * @param algorithm the signature algorithm (for a generate, the key is described by {@code spec})
 * @param spec the key type, known for generate
 * @param purpose what the caller said the use was for
 * @param time when it happened
 */
public record KeyUse(
    KeyRef ref,
    Operation operation,
    Optional<SignatureAlgorithm> algorithm,
    Optional<KeySpec> spec,
    String purpose,
    Instant time) {

  /**
   * Suffix of a purpose whose caller records the key use in its own audit event (naming the key,
   * the operation and for whom) before anyone outside sees the result, e.g. the CA's CERT_ISSUED
   * event. Audit listeners do not record such a use a second time.
   */
  public static final String RECORDED_BY_CALLER = ";recorded-by-caller";

  /** Whether the caller records this use itself (see {@link #RECORDED_BY_CALLER}). */
  public boolean recordedByCaller() {
    return purpose.endsWith(RECORDED_BY_CALLER);
  }

  /** What was done with the key. */
  public enum Operation {
    GENERATE,
    SIGN
  }
}
