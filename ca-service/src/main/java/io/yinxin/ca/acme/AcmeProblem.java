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

  /**
   * Unpadded base64url in its one canonical spelling (no padding, no bits set past the last octet),
   * decoded; anything else is {@code malformed}, naming {@code what} was not.
   */
  static byte[] canonicalBase64Url(String s, String what) {
    byte[] b;
    try {
      b = java.util.Base64.getUrlDecoder().decode(s);
    } catch (IllegalArgumentException e) {
      throw malformed(what + " is not unpadded base64url");
    }
    if (!java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(b).equals(s)) {
      throw malformed(what + " is not base64url in its canonical form");
    }
    return b;
  }

  static AcmeProblem notFound(String detail) {
    return new AcmeProblem("malformed", 404, detail);
  }
}
