package io.yinxin.audit.note;

import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

/**
 * A C2SP tlog-proof ({@code c2sp.org/tlog-proof@v1}): optional extra data, the entry's index, its
 * inclusion proof (one base64 hash per line, leaf's sibling first), a blank line, then the signed
 * checkpoint verbatim. Offline-verifiable with the log's key alone.
 *
 * @param extra opaque, unauthenticated extra data
 * @param index the entry's index
 * @param proof the inclusion proof hashes
 * @param checkpoint the signed checkpoint note
 */
public record TlogProof(
    Optional<byte[]> extra, long index, List<byte[]> proof, SignedNote checkpoint) {
  public static final String HEADER = "c2sp.org/tlog-proof@v1";

  public TlogProof {
    proof = List.copyOf(proof);
    if (index < 0) {
      throw new IllegalArgumentException("negative index");
    }
  }

  public String text() {
    StringBuilder sb = new StringBuilder(HEADER).append('\n');
    extra.ifPresent(
        e -> sb.append("extra ").append(Base64.getEncoder().encodeToString(e)).append('\n'));
    sb.append("index ").append(index).append('\n');
    for (byte[] p : proof) {
      sb.append(Base64.getEncoder().encodeToString(p)).append('\n');
    }
    sb.append('\n').append(checkpoint.text());
    return sb.toString();
  }

  public static TlogProof parse(String text) {
    String[] head = text.split("\n", -1);
    int i = 0;
    if (head.length < 4 || !head[i++].equals(HEADER)) {
      throw new IllegalArgumentException("not a " + HEADER);
    }
    Optional<byte[]> extra = Optional.empty();
    if (head[i].startsWith("extra ")) {
      extra = Optional.of(b64(head[i++].substring(6)));
    }
    if (!head[i].matches("index (0|[1-9][0-9]{0,18})")) {
      throw new IllegalArgumentException("tlog-proof needs an index line");
    }
    long index = Long.parseLong(head[i++].substring(6));
    List<byte[]> proof = new ArrayList<>();
    while (i < head.length && !head[i].isEmpty()) {
      byte[] h = b64(head[i++]);
      if (h.length != 32 || proof.size() == 64) {
        throw new IllegalArgumentException("inclusion proof lines are 32-byte hashes, at most 64");
      }
      proof.add(h);
    }
    if (i >= head.length) {
      throw new IllegalArgumentException("tlog-proof has no checkpoint");
    }
    int offset = 0;
    for (int k = 0; k <= i; k++) {
      offset += head[k].length() + 1;
    }
    return new TlogProof(extra, index, proof, SignedNote.parse(text.substring(offset)));
  }

  private static byte[] b64(String s) {
    try {
      return Base64.getDecoder().decode(s);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("tlog-proof line is not base64");
    }
  }
}
