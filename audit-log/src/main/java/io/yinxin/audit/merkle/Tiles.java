package io.yinxin.audit.merkle;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * C2SP tlog-tiles arithmetic. A tile at level L holds up to 256 hashes of complete subtrees of
 * height 8L; tile N at level L covers those with indices [256N, 256N + 256). Paths are {@code
 * tile/<L>/<N>[.p/<W>]} and {@code tile/entries/<N>[.p/<W>]}, with N written in 3-digit groups
 * prefixed by {@code x} on all but the last.
 */
public final class Tiles {
  public static final int WIDTH = 256;
  public static final int HEIGHT = 8;
  public static final int MAX_LEVEL = 7;

  private Tiles() {}

  /** A tile's coordinates: level (or -1 for entries), index, and width (256 when full). */
  public record TileId(int level, long index, int width) {
    public boolean entries() {
      return level < 0;
    }

    public boolean full() {
      return width == WIDTH;
    }
  }

  /** Encodes N as C2SP does: 1234067 becomes x001/x234/067. */
  public static String encodeIndex(long n) {
    String digits = Long.toString(n);
    int pad = (3 - digits.length() % 3) % 3;
    digits = "0".repeat(pad) + digits;
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < digits.length(); i += 3) {
      if (i > 0) {
        sb.append('/');
      }
      if (i + 3 < digits.length()) {
        sb.append('x');
      }
      sb.append(digits, i, i + 3);
    }
    return sb.toString();
  }

  public static String path(TileId id) {
    String base =
        (id.entries() ? "tile/entries/" : "tile/" + id.level() + "/") + encodeIndex(id.index());
    return id.full() ? base : base + ".p/" + id.width();
  }

  /**
   * Parses the part of a tile path after {@code tile/}; empty for anything that is not exactly a
   * tile path (so callers answer 404, not 500).
   */
  public static Optional<TileId> parse(String rest) {
    String[] parts = rest.split("/", -1);
    if (parts.length < 2) {
      return Optional.empty();
    }
    int level;
    if (parts[0].equals("entries")) {
      level = -1;
    } else if (parts[0].matches("[0-9]")) {
      level = Integer.parseInt(parts[0]);
      if (level > MAX_LEVEL) {
        return Optional.empty();
      }
    } else {
      return Optional.empty();
    }
    int width = WIDTH;
    int last = parts.length - 1;
    if (parts.length >= 3 && parts[last - 1].endsWith(".p")) {
      if (!parts[last].matches("[1-9][0-9]{0,2}")) {
        return Optional.empty();
      }
      width = Integer.parseInt(parts[last]);
      if (width >= WIDTH) {
        return Optional.empty();
      }
      parts[last - 1] = parts[last - 1].substring(0, parts[last - 1].length() - 2);
      last--;
    }
    List<String> groups = new ArrayList<>();
    for (int i = 1; i <= last; i++) {
      groups.add(parts[i]);
    }
    long n = 0;
    for (int i = 0; i < groups.size(); i++) {
      String g = groups.get(i);
      boolean lastGroup = i == groups.size() - 1;
      if (lastGroup ? !g.matches("[0-9]{3}") : !g.matches("x[0-9]{3}")) {
        return Optional.empty();
      }
      if (groups.size() > 6) {
        return Optional.empty();
      }
      n = n * 1000 + Integer.parseInt(lastGroup ? g : g.substring(1));
    }
    if (!encodeIndex(n).equals(String.join("/", groups))) {
      return Optional.empty();
    }
    return Optional.of(new TileId(level, n, width));
  }

  /** How many hashes at tree height 8L exist in a tree of {@code size} leaves. */
  public static long hashesAtLevel(long size, int level) {
    return size >>> (HEIGHT * level);
  }

  /** Reads a stored tile's hashes (32 bytes each, {@code width} of them). */
  @FunctionalInterface
  public interface TileReader {
    byte[] read(int level, long index, int width);
  }

  /**
   * Complete subtree hashes answered from tiles: height h = 8a + b is the root of 2^b hashes of
   * tile level a, all inside one tile.
   */
  public static SubtreeHashes subtreeHashes(TileReader tiles, long size) {
    return (level, index) -> {
      int a = level / HEIGHT;
      int b = level % HEIGHT;
      long first = index << b;
      long count = 1L << b;
      long tile = first / WIDTH;
      int offset = (int) (first % WIDTH);
      long available = hashesAtLevel(size, a);
      int width = (int) Math.min(WIDTH, available - tile * WIDTH);
      byte[] hashes = tiles.read(a, tile, width);
      return rootOf(hashes, offset, (int) count);
    };
  }

  /** Root of {@code count} (a power of two) consecutive 32-byte hashes starting at {@code from}. */
  static byte[] rootOf(byte[] hashes, int from, int count) {
    byte[][] level = new byte[count][];
    for (int i = 0; i < count; i++) {
      level[i] = java.util.Arrays.copyOfRange(hashes, (from + i) * 32, (from + i + 1) * 32);
    }
    for (int n = count; n > 1; n /= 2) {
      for (int i = 0; i < n / 2; i++) {
        level[i] = Rfc9162.nodeHash(level[2 * i], level[2 * i + 1]);
      }
    }
    return level[0];
  }

  /** The root of a full tile's 256 hashes: the hash one tile level up. */
  public static byte[] tileRoot(byte[] fullTile) {
    return rootOf(fullTile, 0, WIDTH);
  }
}
