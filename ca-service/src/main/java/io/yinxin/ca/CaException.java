package io.yinxin.ca;

/**
 * An expected failure of the CA, with a stable code (answered as RFC 9457 problem+json) and, for
 * input errors, the field at fault. Messages never contain a full ID number or credit code.
 */
public final class CaException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Stable error codes. */
  public enum Code {
    INVALID_IDENTITY,
    INVALID_REQUEST
  }

  private final Code code;
  private final String field;

  public CaException(Code code, String field, String message) {
    super(field + ": " + message);
    this.code = code;
    this.field = field;
  }

  public Code code() {
    return code;
  }

  /** The request field at fault, e.g. {@code subject.serialNumber}. */
  public String field() {
    return field;
  }
}
