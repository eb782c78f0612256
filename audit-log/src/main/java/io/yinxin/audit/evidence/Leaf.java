package io.yinxin.audit.evidence;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.Base64;

/**
 * The public form of a log entry: what the Merkle leaf hashes and what tiles publish. It names the
 * event's type and time and commits to the whole event with a salted hash, so mirrors learn no
 * names or ID numbers:
 *
 * <pre>
 * yinxin-audit/v1
 * type CERT_ISSUED
 * time 2026-11-27T18:00:00.123Z
 * commitment base64(SHA-256(salt ‖ canonical event))
 * </pre>
 *
 * @param type the event type name
 * @param time the event time as written in the event
 * @param commitment SHA-256(salt ‖ canonical event bytes)
 */
public record Leaf(String type, String time, byte[] commitment) {
  public static final String HEADER = "yinxin-audit/v1";

  public Leaf {
    if (!isTypeName(type)) {
      throw new IllegalArgumentException("bad leaf type");
    }
    if (!isPlainInstant(time)) {
      Instant.parse(time);
    }
    if (commitment.length != 32) {
      throw new IllegalArgumentException("a commitment has 32 bytes");
    }
    commitment = commitment.clone();
  }

  /** {@code [A-Z][A-Z0-9_]{0,63}}, checked without a regular expression (once per append). */
  private static boolean isTypeName(String type) {
    int n = type.length();
    if (n < 1 || n > 64) {
      return false;
    }
    for (int i = 0; i < n; i++) {
      char c = type.charAt(i);
      if (!(c >= 'A' && c <= 'Z' || i > 0 && (c >= '0' && c <= '9' || c == '_'))) {
        return false;
      }
    }
    return true;
  }

  /**
   * Whether {@code t} is {@code uuuu-MM-ddTHH:mm:ss[.fraction]Z} (what {@link Instant#toString}
   * writes for the years 0000–9999, the form every event's time has) and names a real moment; only
   * strings {@link Instant#parse} accepts too. Anything else goes to {@code Instant.parse} for the
   * verdict: this is only a fast path, a fifth of a token request's audit work otherwise.
   */
  static boolean isPlainInstant(String t) {
    int n = t.length();
    if (n < 20 || n > 30 || t.charAt(n - 1) != 'Z' || n == 21) {
      return false;
    }
    for (int i = 0; i < 19; i++) {
      char c = t.charAt(i);
      boolean ok =
          switch (i) {
            case 4, 7 -> c == '-';
            case 10 -> c == 'T';
            case 13, 16 -> c == ':';
            default -> c >= '0' && c <= '9';
          };
      if (!ok) {
        return false;
      }
    }
    if (n > 20) {
      if (t.charAt(19) != '.') {
        return false;
      }
      for (int i = 20; i < n - 1; i++) {
        char c = t.charAt(i);
        if (c < '0' || c > '9') {
          return false;
        }
      }
    }
    int year = num(t, 0, 4);
    int month = num(t, 5, 2);
    int day = num(t, 8, 2);
    int hour = num(t, 11, 2);
    int minute = num(t, 14, 2);
    int second = num(t, 17, 2);
    return month >= 1
        && month <= 12
        && day >= 1
        && day <= java.time.YearMonth.of(year, month).lengthOfMonth()
        && hour <= 23
        && minute <= 59
        && second <= 59;
  }

  private static int num(String s, int from, int digits) {
    int v = 0;
    for (int i = from; i < from + digits; i++) {
      v = v * 10 + (s.charAt(i) - '0');
    }
    return v;
  }

  @Override
  public byte[] commitment() {
    return commitment.clone();
  }

  public static byte[] commit(byte[] salt, byte[] canonicalEvent) {
    return io.yinxin.audit.merkle.Rfc9162.sha256(salt, canonicalEvent);
  }

  /** Whether {@code canonicalEvent} with {@code salt} is what this leaf commits to. */
  public boolean commitsTo(byte[] salt, byte[] canonicalEvent) {
    return MessageDigest.isEqual(commitment, commit(salt, canonicalEvent));
  }

  private static final byte[] TYPE_LINE = (HEADER + "\ntype ").getBytes(StandardCharsets.US_ASCII);
  private static final byte[] TIME_LINE = "\ntime ".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] COMMITMENT_LINE = "\ncommitment ".getBytes(StandardCharsets.US_ASCII);

  /**
   * The leaf's bytes, written in place (once per append): every line is ASCII, the type and time
   * having been checked when this leaf was made.
   */
  public byte[] encode() {
    byte[] b64 = Base64.getEncoder().encode(commitment);
    byte[] out =
        new byte
            [TYPE_LINE.length
                + type.length()
                + TIME_LINE.length
                + time.length()
                + COMMITMENT_LINE.length
                + b64.length
                + 1];
    int p = put(out, 0, TYPE_LINE);
    p = put(out, p, type);
    p = put(out, p, TIME_LINE);
    p = put(out, p, time);
    p = put(out, p, COMMITMENT_LINE);
    p = put(out, p, b64);
    out[p] = '\n';
    return out;
  }

  private static int put(byte[] out, int p, byte[] b) {
    System.arraycopy(b, 0, out, p, b.length);
    return p + b.length;
  }

  private static int put(byte[] out, int p, String ascii) {
    for (int i = 0; i < ascii.length(); i++) {
      char c = ascii.charAt(i);
      if (c > 0x7f) {
        throw new IllegalStateException("a leaf line is ASCII"); // the constructor ensures it
      }
      out[p++] = (byte) c;
    }
    return p;
  }

  public static Leaf decode(byte[] data) {
    String[] l = new String(data, StandardCharsets.UTF_8).split("\n", -1);
    if (l.length != 5
        || !l[0].equals(HEADER)
        || !l[1].startsWith("type ")
        || !l[2].startsWith("time ")
        || !l[3].startsWith("commitment ")
        || !l[4].isEmpty()) {
      throw new IllegalArgumentException("not a " + HEADER + " leaf");
    }
    return new Leaf(
        l[1].substring(5), l[2].substring(5), Base64.getDecoder().decode(l[3].substring(11)));
  }
}
