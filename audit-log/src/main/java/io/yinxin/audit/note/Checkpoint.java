package io.yinxin.audit.note;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * A C2SP tlog-checkpoint body: origin line, decimal tree size, base64 root hash, then optional
 * extension lines; every line ends in a newline.
 *
 * @param origin the log's unique name
 * @param size the tree size
 * @param root the 32-byte root hash
 * @param extensions extra lines (none in Yinxin's own checkpoints)
 */
public record Checkpoint(String origin, long size, byte[] root, List<String> extensions) {

  public Checkpoint {
    if (origin.isEmpty() || origin.contains("\n")) {
      throw new IllegalArgumentException("origin must be one non-empty line");
    }
    if (size < 0 || root.length != 32) {
      throw new IllegalArgumentException("size must be >= 0 and the root 32 bytes");
    }
    root = root.clone();
    extensions = List.copyOf(extensions);
  }

  @Override
  public byte[] root() {
    return root.clone();
  }

  /** The note body, as signed. */
  public String body() {
    StringBuilder sb = new StringBuilder();
    sb.append(origin).append('\n').append(size).append('\n');
    sb.append(Base64.getEncoder().encodeToString(root)).append('\n');
    for (String e : extensions) {
      sb.append(e).append('\n');
    }
    return sb.toString();
  }

  /** Parses a note body (without signature lines). */
  public static Checkpoint parse(String body) {
    if (!body.endsWith("\n")) {
      throw new IllegalArgumentException("checkpoint body must end with a newline");
    }
    String[] lines = body.substring(0, body.length() - 1).split("\n", -1);
    if (lines.length < 3) {
      throw new IllegalArgumentException("checkpoint needs origin, size and root lines");
    }
    if (!lines[1].matches("0|[1-9][0-9]{0,18}")) {
      throw new IllegalArgumentException("checkpoint size is not a decimal without leading zeros");
    }
    byte[] root;
    try {
      root = Base64.getDecoder().decode(lines[2]);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("checkpoint root is not base64");
    }
    List<String> ext = new ArrayList<>();
    for (int i = 3; i < lines.length; i++) {
      if (lines[i].isEmpty()) {
        throw new IllegalArgumentException("checkpoint body has an empty line");
      }
      ext.add(lines[i]);
    }
    return new Checkpoint(lines[0], Long.parseLong(lines[1]), root, ext);
  }

  public byte[] bodyBytes() {
    return body().getBytes(StandardCharsets.UTF_8);
  }
}
