package io.yinxin.audit;

/**
 * The evidence log. Every module records what matters through this interface, in-process or, on a
 * node that does not host the log, over authenticated HTTP.
 */
public interface AuditLog {
  /**
   * Appends an event and returns only once it is durably committed at its index.
   *
   * @throws AuditException {@code INVALID_EVENT} for an event that is too large or malformed
   *     (nothing is written), {@code UNAVAILABLE} when the store cannot commit
   */
  Receipt append(AuditEvent event);
}
