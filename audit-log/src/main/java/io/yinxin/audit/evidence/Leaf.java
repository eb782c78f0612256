package io.yinxin.audit.evidence;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
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

  private static final java.util.regex.Pattern TYPE =
      java.util.regex.Pattern.compile("[A-Z][A-Z0-9_]{0,63}");

  public Leaf {
    if (!TYPE.matcher(type).matches()) {
      throw new IllegalArgumentException("bad leaf type");
    }
    Instant.parse(time);
    if (commitment.length != 32) {
      throw new IllegalArgumentException("a commitment has 32 bytes");
    }
    commitment = commitment.clone();
  }

  @Override
  public byte[] commitment() {
    return commitment.clone();
  }

  public static byte[] commit(byte[] salt, byte[] canonicalEvent) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      md.update(salt);
      md.update(canonicalEvent);
      return md.digest();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Whether {@code canonicalEvent} with {@code salt} is what this leaf commits to. */
  public boolean commitsTo(byte[] salt, byte[] canonicalEvent) {
    return MessageDigest.isEqual(commitment, commit(salt, canonicalEvent));
  }

  public byte[] encode() {
    return (HEADER
            + "\ntype "
            + type
            + "\ntime "
            + time
            + "\ncommitment "
            + Base64.getEncoder().encodeToString(commitment)
            + "\n")
        .getBytes(StandardCharsets.UTF_8);
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
