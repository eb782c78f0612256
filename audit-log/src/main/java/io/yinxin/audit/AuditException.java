package io.yinxin.audit;

/** An expected failure of the audit log, with a stable code for problem+json answers. */
public final class AuditException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Stable error codes. */
  public enum Code {
    INVALID_EVENT,
    INVALID_REQUEST,
    NOT_FOUND,
    UNAUTHORIZED,
    /** Authenticated, but without the scope the operation needs. */
    FORBIDDEN,
    UNAVAILABLE
  }

  private final Code code;

  public AuditException(Code code, String message) {
    super(message);
    this.code = code;
  }

  public AuditException(Code code, String message, Throwable cause) {
    super(message, cause);
    this.code = code;
  }

  public Code code() {
    return code;
  }
}
