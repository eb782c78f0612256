package io.yinxin.ca.acme;

/**
 * An RFC 8555 §6.7 error, answered as an {@code application/problem+json} document with type {@code
 * urn:ietf:params:acme:error:<type>}.
 */
public final class AcmeProblem extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String type;
  private final int status;

  public AcmeProblem(String type, int status, String detail) {
    super(detail);
    this.type = type;
    this.status = status;
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
