package io.yinxin.audit;

import java.math.BigInteger;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The attributes of the {@code KEY_USED} event in which a Yinxin time-stamp authority records the
 * tokens one key signed in a period: how many, the lowest and highest serial number among them, and
 * the period. Anyone may ask a TSA for a token, unauthenticated, so one entry per token would let
 * any client grow the evidence log at will; the tokens themselves are signed and carry their
 * serial. The checkpoint time-stamper reads these events too ({@link #onlyToken}): a record of
 * nothing but its own last stamp is not stamped again.
 *
 * @param algorithm the signature algorithm's name
 * @param count tokens signed, at least one
 * @param firstSerial the lowest serial number among them
 * @param lastSerial the highest
 * @param from start of the period
 * @param to end of the period
 */
public record TsaKeyUse(
    String algorithm,
    long count,
    BigInteger firstSerial,
    BigInteger lastSerial,
    Instant from,
    Instant to) {
  /** The {@code purpose} attribute of these events. */
  public static final String PURPOSE = "rfc3161-timestamp";

  public TsaKeyUse {
    if (count < 1 || firstSerial.compareTo(lastSerial) > 0 || from.isAfter(to)) {
      throw new IllegalArgumentException("not a tally of time-stamp tokens");
    }
  }

  /** The event's attributes. */
  public Map<String, String> attributes() {
    Map<String, String> a = new LinkedHashMap<>();
    a.put("operation", "SIGN");
    a.put("purpose", PURPOSE);
    a.put("algorithm", algorithm);
    a.put("count", Long.toString(count));
    a.put("firstSerial", firstSerial.toString());
    a.put("lastSerial", lastSerial.toString());
    a.put("from", from.toString());
    a.put("to", to.toString());
    return a;
  }

  /** The tally these attributes state, if they are one (and well-formed). */
  public static Optional<TsaKeyUse> of(Map<?, ?> attributes) {
    if (!PURPOSE.equals(attributes.get("purpose"))
        || !"SIGN".equals(attributes.get("operation"))
        || !(attributes.get("algorithm") instanceof String algorithm)
        || !(attributes.get("count") instanceof String count)
        || !(attributes.get("firstSerial") instanceof String first)
        || !(attributes.get("lastSerial") instanceof String last)
        || !(attributes.get("from") instanceof String from)
        || !(attributes.get("to") instanceof String to)
        || !count.matches("[1-9][0-9]{0,17}")
        || !first.matches("[1-9][0-9]{0,77}")
        || !last.matches("[1-9][0-9]{0,77}")) {
      return Optional.empty();
    }
    try {
      return Optional.of(
          new TsaKeyUse(
              algorithm,
              Long.parseLong(count),
              new BigInteger(first),
              new BigInteger(last),
              Instant.parse(from),
              Instant.parse(to)));
    } catch (DateTimeParseException | IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  /** Whether this records exactly one token, the one of {@code serial}. */
  public boolean onlyToken(BigInteger serial) {
    return count == 1 && firstSerial.equals(serial) && lastSerial.equals(serial);
  }
}
