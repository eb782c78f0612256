package io.yinxin.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * An event is refused, not stored differently from what it says: a lone surrogate (UTF-8 would
 * commit to it as "?"), U+0000 in a column PostgreSQL stores as text, a time RFC 3339 cannot write.
 * Characters outside the Basic Multilingual Plane (surrogate pairs) and the limits themselves are
 * accepted, and a pair survives into the committed bytes as its UTF-8.
 */
class AuditEventTextTest {
  private static final Instant NOW = Instant.parse("2026-12-05T18:00:00Z");

  private static AuditEvent event(
      String actor, String subject, Map<String, String> attrs, Instant t) {
    return new AuditEvent(EventType.KEY_USED, actor, subject, t, attrs, Optional.empty());
  }

  @Test
  void whatCannotBeStoredAsItIsIsRefused() {
    for (AuditEventFactory bad :
        new AuditEventFactory[] {
          () -> event("a", "s\ud800", Map.of(), NOW),
          () -> event("a\udc00", "s", Map.of(), NOW),
          () -> event("a", "s", Map.of("k", "v\ud83d"), NOW), // high surrogate at the end
          () -> event("a", "s", Map.of("k\udfff", "v"), NOW),
          () -> event("a", "s\u0000", Map.of(), NOW),
          () -> event("\u0000", "s", Map.of(), NOW),
          () -> event("a", "s", Map.of(), Instant.parse("-0001-12-31T23:59:59.999Z")),
          () -> event("a", "s", Map.of(), Instant.parse("+10000-01-01T00:00:00Z"))
        }) {
      assertThatThrownBy(bad::make)
          .isInstanceOf(AuditException.class)
          .satisfies(
              e ->
                  assertThat(((AuditException) e).code())
                      .isEqualTo(AuditException.Code.INVALID_EVENT));
    }
  }

  @Test
  void pairsAndTheLimitsAreAccepted() {
    AuditEvent e =
        event("办事员😀", "市民/😀", Map.of("k😀", "v\u0001"), Instant.parse("0000-01-01T00:00:00Z"));
    assertThat(new String(e.canonicalBytes(), StandardCharsets.UTF_8))
        .contains("办事员😀", "市民/😀", "k😀");
    assertThat(new String(e.canonicalBytes(), StandardCharsets.UTF_8)).doesNotContain("?");
    assertThat(event("a", "s", Map.of(), Instant.parse("9999-12-31T23:59:59.999999Z")).time())
        .isEqualTo(Instant.parse("9999-12-31T23:59:59.999Z"));
  }

  @FunctionalInterface
  private interface AuditEventFactory {
    AuditEvent make();
  }
}
