package io.yinxin.ca;

/**
 * An expected failure of the CA, with a stable code (answered as RFC 9457 problem+json) and, for
 * input errors, the field at fault. Messages never contain a full ID number or credit code.
 */
public final class CaException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Stable error codes. */
  public enum Code {
    /** An ID number or credit code with a wrong format or check character (400). */
    INVALID_IDENTITY(400),
    /** Malformed or disallowed input (400). */
    INVALID_REQUEST(400),
    /** A CSR that does not parse or whose signature does not verify (400). */
    BAD_CSR(400),
    /** A public key the profile does not allow (400). */
    BAD_KEY(400),
    /** No such profile (400). */
    UNKNOWN_PROFILE(400),
    /** No credentials, or credentials without the scope (401/403 decided by the caller). */
    UNAUTHORIZED(401),
    /** Authenticated, but the scope is missing (403). */
    FORBIDDEN(403),
    /** No such certificate or CA (404). */
    NOT_FOUND(404),
    /** The certificate's state does not allow the change, e.g. revoked twice (409). */
    CONFLICT(409),
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
  private final String field;

  public CaException(Code code, String field, String message) {
    super(field + ": " + message);
    this.code = code;
    this.field = field;
  }

  /** A failure not tied to one request field. */
  public CaException(Code code, String message) {
    super(message);
    this.code = code;
    this.field = "";
  }

  public CaException(Code code, String message, Throwable cause) {
    super(message, cause);
    this.code = code;
    this.field = "";
  }

  public Code code() {
    return code;
  }

  /** The request field at fault, e.g. {@code subject.serialNumber}. */
  public String field() {
    return field;
  }
}
