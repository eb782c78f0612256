package io.yinxin.audit;

import io.yinxin.audit.evidence.Json;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Something that happened. The whole event stays in the private store; the public log only holds a
 * salted commitment to it plus its type and time.
 *
 * @param type what kind of event
 * @param actor who did it (a user, client or service name)
 * @param subject whom or what it concerns (a certificate serial, a user id); searchable by auditors
 * @param time when, to the millisecond
 * @param attributes further facts, by name
 * @param objectDigest a digest of the object concerned (e.g. {@code sha256:...} of a certificate)
 */
public record AuditEvent(
    EventType type,
    String actor,
    String subject,
    Instant time,
    Map<String, String> attributes,
    Optional<String> objectDigest) {

  /**
   * The times an event may carry: what RFC 3339 can write (four-digit years), so the leaf's time,
   * the event's and the stored column name one moment in every reader (an extended year such as
   * {@code +200000} would be accepted by {@link Instant#parse} but not by a verifier reading RFC
   * 3339, and beyond the databases' range would fail the whole commit it travels in).
   */
  static final Instant EARLIEST = Instant.parse("0000-01-01T00:00:00Z");

  static final Instant LATEST = Instant.parse("9999-12-31T23:59:59.999Z");

  /** Largest canonical encoding accepted. */
  public static final int MAX_BYTES = 64 * 1024;

  public AuditEvent {
    if (type == null || actor == null || subject == null || time == null || attributes == null) {
      throw new AuditException(
          AuditException.Code.INVALID_EVENT,
          "type, actor, subject, time and attributes are required");
    }
    if (actor.isEmpty() || actor.length() > 512 || subject.length() > 512) {
      throw new AuditException(
          AuditException.Code.INVALID_EVENT, "actor must be 1-512 characters, subject at most 512");
    }
    wellFormed(actor, true);
    wellFormed(subject, true);
    time = time.truncatedTo(ChronoUnit.MILLIS);
    if (time.isBefore(EARLIEST) || time.isAfter(LATEST)) {
      throw new AuditException(
          AuditException.Code.INVALID_EVENT,
          "time must be an RFC 3339 time in the years 0000-9999 (UTC)");
    }
    attributes = new TreeMap<>(attributes);
    for (var e : attributes.entrySet()) {
      if (e.getKey() == null || e.getValue() == null || e.getKey().isEmpty()) {
        throw new AuditException(
            AuditException.Code.INVALID_EVENT, "attribute names and values must be non-empty");
      }
      wellFormed(e.getKey(), false);
      wellFormed(e.getValue(), false);
    }
    attributes = java.util.Collections.unmodifiableMap(attributes);
    if (objectDigest == null) {
      objectDigest = Optional.empty();
    }
  }

  /**
   * Refuses a string with an unpaired surrogate: UTF-8 has no encoding for one, so it would be
   * committed to (and stored) as {@code ?}, and two different events would be one piece of
   * evidence. A {@code column} (actor, subject) must not hold U+0000 either: PostgreSQL text
   * cannot, so the row would fail, and with it every entry committed together with it.
   */
  private static void wellFormed(String v, boolean column) {
    for (int k = 0; k < v.length(); k++) {
      char c = v.charAt(k);
      if (c == 0 && column) {
        throw new AuditException(
            AuditException.Code.INVALID_EVENT, "actor and subject must not contain U+0000");
      }
      if (Character.isHighSurrogate(c)
          && k + 1 < v.length()
          && Character.isLowSurrogate(v.charAt(k + 1))) {
        k++;
      } else if (Character.isSurrogate(c)) {
        throw new AuditException(
            AuditException.Code.INVALID_EVENT,
            "text must be well-formed Unicode (no lone surrogate)");
      }
    }
  }

  public static AuditEvent of(
      EventType type, String actor, String subject, Map<String, String> attributes) {
    return new AuditEvent(type, actor, subject, Instant.now(), attributes, Optional.empty());
  }

  /**
   * The canonical encoding that the public leaf commits to: JSON with a fixed member order and
   * attributes sorted by name, UTF-8, no insignificant whitespace.
   */
  public String canonical() {
    StringBuilder sb = new StringBuilder(256).append('{');
    Json.member(sb, "type", type.name()).append(',');
    Json.member(sb, "time", time.toString()).append(',');
    Json.member(sb, "actor", actor).append(',');
    Json.member(sb, "subject", subject).append(',');
    Json.string(sb, "attributes").append(":{");
    boolean first = true;
    for (var e : attributes.entrySet()) {
      if (!first) {
        sb.append(',');
      }
      first = false;
      Json.member(sb, e.getKey(), e.getValue());
    }
    sb.append('}');
    if (objectDigest.isPresent()) {
      sb.append(',');
      Json.member(sb, "objectDigest", objectDigest.get());
    }
    return sb.append('}').toString();
  }

  /** The canonical encoding as bytes, checked against {@link #MAX_BYTES}. */
  public byte[] canonicalBytes() {
    byte[] b = canonical().getBytes(StandardCharsets.UTF_8);
    if (b.length > MAX_BYTES) {
      throw new AuditException(
          AuditException.Code.INVALID_EVENT,
          "event is " + b.length + " bytes; the limit is " + MAX_BYTES);
    }
    return b;
  }
}
