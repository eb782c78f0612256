package io.yinxin.audit.note;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

/**
 * A C2SP signed note: a body, a blank line, then signature lines {@code — <name> base64(keyID ‖
 * signature)}. Also verifies C2SP tlog-cosignature/v1 lines, whose signature is {@code keyID ‖ u64
 * timestamp ‖ Ed25519 signature} over {@code cosignature/v1⏎time <t>⏎} + body.
 *
 * @param body the note text up to and including its last newline
 * @param signatures the signature lines, in order
 */
public record SignedNote(String body, List<Line> signatures) {
  private static final String DASH = "\u2014 ";

  /** One signature line. */
  public record Line(String name, byte[] keyId, byte[] signature) {
    public Line {
      keyId = keyId.clone();
      signature = signature.clone();
    }

    @Override
    public byte[] keyId() {
      return keyId.clone();
    }

    @Override
    public byte[] signature() {
      return signature.clone();
    }

    String format() {
      byte[] b = new byte[keyId.length + signature.length];
      System.arraycopy(keyId, 0, b, 0, keyId.length);
      System.arraycopy(signature, 0, b, keyId.length, signature.length);
      return DASH + name + " " + Base64.getEncoder().encodeToString(b) + "\n";
    }
  }

  public SignedNote {
    signatures = List.copyOf(signatures);
  }

  /** The whole note as text. */
  public String text() {
    StringBuilder sb = new StringBuilder(body).append('\n');
    signatures.forEach(s -> sb.append(s.format()));
    return sb.toString();
  }

  /** Parses a note; signature lines it cannot read make the whole note invalid. */
  public static SignedNote parse(String text) {
    int split = text.lastIndexOf("\n\n");
    if (split < 0) {
      throw new IllegalArgumentException("a signed note has a blank line before its signatures");
    }
    String body = text.substring(0, split + 1);
    String sigs = text.substring(split + 2);
    if (!sigs.endsWith("\n")) {
      throw new IllegalArgumentException("signature lines end with a newline");
    }
    List<Line> lines = new ArrayList<>();
    for (String l : sigs.substring(0, sigs.length() - 1).split("\n", -1)) {
      if (!l.startsWith(DASH)) {
        throw new IllegalArgumentException("malformed signature line");
      }
      String rest = l.substring(DASH.length());
      int sp = rest.lastIndexOf(' ');
      if (sp <= 0) {
        throw new IllegalArgumentException("malformed signature line");
      }
      byte[] b;
      try {
        b = Base64.getDecoder().decode(rest.substring(sp + 1));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("signature is not base64");
      }
      if (b.length < 5) {
        throw new IllegalArgumentException("signature too short");
      }
      lines.add(
          new Line(rest.substring(0, sp), Arrays.copyOf(b, 4), Arrays.copyOfRange(b, 4, b.length)));
    }
    return new SignedNote(body, lines);
  }

  /** Whether a line by {@code key} (name and key ID matching) carries a valid note signature. */
  public boolean verifiedBy(NoteVerifierKey key) {
    if (key.type() != NoteVerifierKey.ED25519) {
      return false;
    }
    byte[] msg = body.getBytes(StandardCharsets.UTF_8);
    for (Line l : signatures) {
      if (l.name().equals(key.name())
          && Arrays.equals(l.keyId(), key.keyId())
          && Ed25519Keys.verify(key.publicKey(), msg, l.signature())) {
        return true;
      }
    }
    return false;
  }

  /**
   * The timestamp of a valid cosignature/v1 by {@code witness} on this note's body, if there is
   * one.
   */
  public Optional<Long> cosignedBy(NoteVerifierKey witness) {
    if (witness.type() != NoteVerifierKey.COSIGNATURE_V1) {
      return Optional.empty();
    }
    for (Line l : signatures) {
      byte[] s = l.signature();
      if (!l.name().equals(witness.name())
          || !Arrays.equals(l.keyId(), witness.keyId())
          || s.length != 72) {
        continue;
      }
      long time = ByteBuffer.wrap(s, 0, 8).getLong();
      if (time < 0) {
        continue;
      }
      if (Ed25519Keys.verify(
          witness.publicKey(), cosignedMessage(body, time), Arrays.copyOfRange(s, 8, 72))) {
        return Optional.of(time);
      }
    }
    return Optional.empty();
  }

  /** The message a cosignature/v1 signs: header line, time line, then the note body. */
  public static byte[] cosignedMessage(String body, long time) {
    return ("cosignature/v1\ntime " + time + "\n" + body).getBytes(StandardCharsets.UTF_8);
  }

  /** A copy of this note with one more signature line. */
  public SignedNote with(Line line) {
    List<Line> all = new ArrayList<>(signatures);
    all.add(line);
    return new SignedNote(body, all);
  }
}
