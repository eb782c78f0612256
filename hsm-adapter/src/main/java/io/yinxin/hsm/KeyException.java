package io.yinxin.hsm;

/**
 * An expected failure of a key operation, with a stable code. Messages name keys and backends,
 * never PINs, tokens or passwords.
 */
public final class KeyException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Stable error codes. */
  public enum Code {
    /** No key with that reference exists in its backend. */
    KEY_NOT_FOUND,
    /** The backend cannot be reached or failed internally. */
    BACKEND_UNAVAILABLE,
    /** The backend refused the credentials (PIN, token, keystore password). */
    AUTH_FAILED,
    /** The backend cannot do this algorithm or key type. */
    UNSUPPORTED_ALGORITHM,
    /** The request itself is wrong (bad URI, label, algorithm for this key, duplicate label). */
    INVALID_REQUEST,
    /**
     * A ciphertext that this key did not make with this associated data: tampered, truncated, from
     * another key, or moved to another context.
     */
    INVALID_CIPHERTEXT
  }

  private final Code code;

  public KeyException(Code code, String message) {
    super(message);
    this.code = code;
  }

  public KeyException(Code code, String message, Throwable cause) {
    super(message, cause);
    this.code = code;
  }

  public Code code() {
    return code;
  }

  @Override
  public String toString() {
    return "KeyException[" + code + "]: " + getMessage();
  }
}
