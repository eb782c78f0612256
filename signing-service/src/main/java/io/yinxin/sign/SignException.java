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
    /** The body is not a PDF this service can read: empty, truncated, broken, not PDF (400). */
    NOT_PDF(400),
    /** The PDF is encrypted with a password (400). */
    ENCRYPTED(400),
    /** The PDF's permissions forbid modification or signing (400). */
    MODIFICATION_RESTRICTED(400),
    /** The placement does not fit the document: no such page, anchor or field (400). */
    INVALID_PLACEMENT(400),
    /** A certification signature (DocMDP P=1) forbids any further signature (409). */
    DOCMDP_FORBIDS(409),
    /** No credentials (401). */
    UNAUTHORIZED(401),
    /** Authenticated, but not allowed to do this (403). */
    FORBIDDEN(403),
    /** No such seal (404). */
    NOT_FOUND(404),
    /** The seal is disabled (409). */
    SEAL_DISABLED(409),
    /** The seal's certificate (or one of its chain) is revoked (409). */
    CERTIFICATE_REVOKED(409),
    /** The seal's certificate is expired or not valid yet (409). */
    CERTIFICATE_EXPIRED(409),
    /** The request body is larger than accepted (413). */
    TOO_LARGE(413),
    /**
     * This client address already has as many documents in work as one address may (429,
     * Retry-After).
     */
    RATE_LIMITED(429),
    /** Too many documents are being processed; retry after a moment (503, Retry-After). */
    BUSY(503),
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
