package io.yinxin.ca.profile;

/**
 * Which subject alternative names a profile takes.
 *
 * @param dns DNS names
 * @param email e-mail addresses (rfc822Name)
 * @param maxNames most names in one certificate
 * @param allowedDomains if not empty, every DNS name must equal one of these or end with "." + one
 */
public record SanRule(
    Presence dns, Presence email, int maxNames, java.util.List<String> allowedDomains) {

  /** Whether a kind of name is required, allowed or refused. */
  public enum Presence {
    REQUIRED,
    OPTIONAL,
    FORBIDDEN
  }

  public SanRule {
    allowedDomains = java.util.List.copyOf(allowedDomains);
  }

  /** No alternative names at all. */
  public static SanRule none() {
    return new SanRule(Presence.FORBIDDEN, Presence.FORBIDDEN, 0, java.util.List.of());
  }
}
