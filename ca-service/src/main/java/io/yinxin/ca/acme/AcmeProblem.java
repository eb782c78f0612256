package io.yinxin.ca.acme;

/**
 * An RFC 8555 §6.7 error, answered as an {@code application/problem+json} document with type {@code
 * urn:ietf:params:acme:error:<type>}.
 */
public final class AcmeProblem extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String type;
  private final int status;
  private final long retryAfterSeconds;

  public AcmeProblem(String type, int status, String detail) {
    this(type, status, detail, 0);
  }

  /**
   * @param retryAfterSeconds when the client may try again ({@code Retry-After}); 0 for no header
   */
  public AcmeProblem(String type, int status, String detail, long retryAfterSeconds) {
    super(detail);
    this.type = type;
    this.status = status;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  /** Seconds the client should wait before trying again; 0 when the error says nothing of it. */
  public long retryAfterSeconds() {
    return retryAfterSeconds;
  }

  /** The short type, e.g. {@code badNonce}. */
  public String type() {
    return type;
  }

  public int status() {
    return status;
  }

  static AcmeProblem malformed(String detail) {
    return new AcmeProblem("malformed", 400, detail);
  }

  static AcmeProblem unauthorized(String detail) {
    return new AcmeProblem("unauthorized", 403, detail);
  }

  static AcmeProblem notFound(String detail) {
    return new AcmeProblem("malformed", 404, detail);
  }
}
