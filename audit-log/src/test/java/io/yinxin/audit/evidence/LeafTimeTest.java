package io.yinxin.audit.evidence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The leaf's fast check of a time accepts only what {@link Instant#parse} accepts (the JDK is the
 * reference), and every time an event can carry ({@link Instant#toString} of years 0000–9999).
 */
class LeafTimeTest {

  @Test
  void everyInstantToStringTakesTheFastPath() {
    SplittableRandom r = new SplittableRandom(20261203);
    long min = Instant.parse("0000-01-01T00:00:00Z").getEpochSecond();
    long max = Instant.parse("9999-12-31T23:59:59Z").getEpochSecond();
    for (int i = 0; i < 200_000; i++) {
      Instant t =
          Instant.ofEpochSecond(
              r.nextLong(min, max + 1), r.nextInt(4) == 0 ? 0 : r.nextInt(1_000_000_000));
      assertThat(Leaf.isPlainInstant(t.toString())).as(t.toString()).isTrue();
    }
  }

  @Test
  void whatTheFastPathAcceptsInstantParseAcceptsAndTheRestGetsItsVerdict() {
    List<String> edges =
        List.of(
            "2000-02-29T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-12-31T23:59:60Z",
            "2026-12-31T24:00:00Z",
            "2026-00-10T00:00:00Z",
            "2026-13-10T00:00:00Z",
            "2026-01-00T00:00:00Z",
            "2026-01-01T00:60:00Z",
            "2026-01-01T00:00:00.Z",
            "2026-01-01T00:00:00.1234567890Z",
            "2026-01-01T00:00:00.123456789Z",
            "2026-01-01T00:00:00+00:00",
            "2026-01-01t00:00:00Z",
            "+2026-01-01T00:00:00Z",
            "2026-1-01T00:00:00Z",
            "２０２６-01-01T00:00:00Z",
            "2026-01-01T00:00:00z");
    SplittableRandom r = new SplittableRandom(7);
    String alphabet = "0123456789-T:.Z+z ";
    java.util.List<String> cases = new java.util.ArrayList<>(edges);
    for (int i = 0; i < 100_000; i++) {
      char[] c = "2026-06-15T12:30:45.123Z".toCharArray();
      for (int k = r.nextInt(1, 3); k > 0; k--) {
        c[r.nextInt(c.length)] = alphabet.charAt(r.nextInt(alphabet.length()));
      }
      cases.add(new String(c));
    }
    for (String t : cases) {
      boolean parses;
      try {
        Instant.parse(t);
        parses = true;
      } catch (DateTimeParseException e) {
        parses = false;
      }
      if (Leaf.isPlainInstant(t)) {
        assertThat(parses).as(t).isTrue();
      }
      byte[] commitment = new byte[32];
      if (parses) {
        assertThat(new Leaf("CERT_ISSUED", t, commitment).time()).isEqualTo(t);
      } else {
        assertThatThrownBy(() -> new Leaf("CERT_ISSUED", t, commitment))
            .as(t)
            .isInstanceOf(DateTimeParseException.class);
      }
    }
  }
}
