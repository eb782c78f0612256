package io.yinxin.sso.account;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;

/**
 * Passwords exposed in data breaches (NIST SP 800-63B §3.1.1.2: "passwords obtained from previous
 * breach corpuses"), looked up in a file in the form of Have I Been Pwned's Pwned Passwords
 * download ordered by hash: one line per password, the SHA-1 of its UTF-8 bytes in hex, optionally
 * {@code :count}, sorted by the hash, LF or CRLF ({@code yinxin.sso.breached-passwords}). The full
 * list is some 40 GB: it is searched where it lies, by binary search over byte offsets with
 * positional reads (about 2·log2(lines) reads of a few hundred bytes, none kept), never loaded. An
 * operator who prefers a smaller list (the most common million, say) gives that, in the same form.
 *
 * <p>A password is looked up as typed and in its NFKC form (the one it is hashed in here): the
 * breach lists hold what people typed.
 */
public final class BreachedPasswords implements AutoCloseable {
  /** Reads of at most this many bytes find a line: a hash, a count, the line ends. */
  private static final int READ = 128;

  private static final int HASH = 40;

  private final Optional<FileChannel> file;
  private final long size;

  private BreachedPasswords(Optional<FileChannel> file, long size) {
    this.file = file;
    this.size = size;
  }

  /** No list: nothing counts as breached. */
  public static BreachedPasswords none() {
    return new BreachedPasswords(Optional.empty(), 0);
  }

  /**
   * The list in {@code path}, checked at once: readable, its first lines hashes in order (a file in
   * another form would find nothing, silently).
   *
   * @throws IllegalArgumentException if it is not such a file
   */
  public static BreachedPasswords open(Path path) {
    try {
      FileChannel channel = FileChannel.open(path, StandardOpenOption.READ);
      BreachedPasswords list = new BreachedPasswords(Optional.of(channel), channel.size());
      checkStart(path, channel);
      return list;
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "yinxin.sso.breached-passwords: cannot read " + path + " (" + e.getMessage() + ")");
    }
  }

  private static void checkStart(Path path, FileChannel channel) throws IOException {
    try (var lines = Files.newBufferedReader(path, StandardCharsets.US_ASCII)) {
      String previous = "";
      for (int i = 0; i < 1_000; i++) {
        String line = lines.readLine();
        if (line == null) {
          break;
        }
        String hash = hashOf(line.getBytes(StandardCharsets.US_ASCII), line.length());
        if (hash == null || hash.compareTo(previous) < 0) {
          channel.close();
          throw new IllegalArgumentException(
              "yinxin.sso.breached-passwords: line "
                  + (i + 1)
                  + " is not a SHA-1 hash in order (HASH[:count], sorted by hash)");
        }
        previous = hash;
      }
    }
  }

  @Override
  public void close() throws IOException {
    if (file.isPresent()) {
      file.get().close();
    }
  }

  /** Whether {@code password}, as typed or in NFKC, is in the list. */
  public boolean contains(String password) {
    if (file.isEmpty() || password == null) {
      return false;
    }
    String normalized = PasswordRules.normalized(password);
    try {
      return find(sha1(password)) || (!normalized.equals(password) && find(sha1(normalized)));
    } catch (IOException e) {
      throw new UncheckedIOException("the breached-password list cannot be read", e);
    }
  }

  private static String sha1(String password) {
    try {
      return HexFormat.of()
          .withUpperCase()
          .formatHex(
              MessageDigest.getInstance("SHA-1").digest(password.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A line: where it starts and ends (past its line feed), and its hash (null if none). */
  private record Line(long start, long end, String hash) {}

  /**
   * Binary search for the line of {@code target} over the byte offsets lines start at. If that line
   * is there, it starts in [lo, hi), and lo starts a line; each step either moves lo past a line
   * before the target's or brings hi down to the middle.
   */
  private boolean find(String target) throws IOException {
    long lo = 0;
    long hi = size;
    while (lo < hi) {
      long mid = lo + (hi - lo) / 2;
      Optional<Line> l = lineFrom(mid);
      if (l.isEmpty() || l.get().start() >= hi) {
        hi = mid; // no line starts in [mid, hi)
        continue;
      }
      Line line = l.get();
      // A line without a hash (a blank last line) sorts first: the search moves past it.
      int c = line.hash() == null ? -1 : line.hash().compareTo(target);
      if (c == 0) {
        return true;
      }
      if (c < 0) {
        lo = line.end();
      } else {
        hi = mid; // the target's line starts before this one, and none starts in [mid, it)
      }
    }
    return false;
  }

  /** The first line that starts at {@code pos} or after it. */
  private Optional<Line> lineFrom(long pos) throws IOException {
    long at = pos;
    if (pos > 0) {
      // Past the end of the line pos is in (unless pos starts a line: the byte before is a LF).
      long nl = nextLineFeed(pos - 1);
      if (nl < 0) {
        return Optional.empty();
      }
      at = nl + 1;
    }
    if (at >= size) {
      return Optional.empty();
    }
    ByteBuffer b = ByteBuffer.allocate(READ);
    file.get().read(b, at);
    byte[] bytes = b.array();
    int n = b.position();
    int end = 0;
    while (end < n && bytes[end] != '\n') {
      end++;
    }
    return Optional.of(new Line(at, at + Math.min(end + 1, n), hashOf(bytes, end)));
  }

  /** The offset of the first line feed at or after {@code pos}; -1 if none. */
  private long nextLineFeed(long pos) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(READ);
    for (long at = pos; at < size; at += READ) {
      b.clear();
      file.get().read(b, at);
      for (int i = 0; i < b.position(); i++) {
        if (b.get(i) == '\n') {
          return at + i;
        }
      }
    }
    return -1;
  }

  /** The upper-case hash a line of {@code length} bytes starts with, or null if it has none. */
  private static String hashOf(byte[] line, int length) {
    if (length < HASH || (length > HASH && line[HASH] != ':' && line[HASH] != '\r')) {
      return null;
    }
    StringBuilder hash = new StringBuilder(HASH);
    for (int i = 0; i < HASH; i++) {
      char ch = Character.toUpperCase((char) line[i]);
      if ((ch < '0' || ch > '9') && (ch < 'A' || ch > 'F')) {
        return null;
      }
      hash.append(ch);
    }
    return hash.toString();
  }
}
