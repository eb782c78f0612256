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

  /** What was done with the key. */
  public enum Operation {
    GENERATE,
    SIGN
  }
}
