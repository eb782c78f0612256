package io.yinxin.sign;

/**
 * An expected failure of the signing service, with a stable code (answered as RFC 9457 problem+json
 * on REST). Messages never contain document content, keys or personal data.
 */
public final class SignException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Stable error codes. */
  public enum Code {
    /** Malformed or disallowed input (400). */
    INVALID_REQUEST(400),
    /** No credentials (401). */
    UNAUTHORIZED(401),
    /** Authenticated, but not allowed to do this (403). */
    FORBIDDEN(403),
    /** No such seal (404). */
    NOT_FOUND(404),
    /** The request body is larger than accepted (413). */
    TOO_LARGE(413),
    /** Storage, key backend or audit log cannot complete the operation (503). */
    UNAVAILABLE(503);

    private final int httpStatus;

    Code(int httpStatus) {
      this.httpStatus = httpStatus;
    }

    /** The HTTP status a REST answer carries for this code. */
    public int httpStatus() {
      return httpStatus;
    }
  }

  private final Code code;

  public SignException(Code code, String message) {
    super(message);
    this.code = code;
  }

  public SignException(Code code, String message, Throwable cause) {
    super(message, cause);
    this.code = code;
  }

  public Code code() {
    return code;
  }
}
