package io.yinxin.audit.store;

import io.yinxin.audit.merkle.Tiles;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The growing edge of the tree: at each tile level, the hashes of the tile that is not full yet.
 * Appending a leaf hash may fill a level-0 tile, whose root then goes one level up, and so on.
 * Records which tiles must be written so one transaction writes exactly those: a level-0 tile once,
 * when it is full (its prefixes are the entries' leaf hashes, see {@link LogStore#tile}), a tile
 * above level 0 whenever it grows, which is once per 256 entries or less often.
 */
final class RightEdge {
  private long size;
  private final List<byte[]> partial = new ArrayList<>();
  private final Map<String, Object[]> dirty = new LinkedHashMap<>();

  private RightEdge(long size) {
    this.size = size;
  }

  static RightEdge empty() {
    return new RightEdge(0);
  }

  /** Reads the partial tiles of a tree of {@code size} leaves. */
  static RightEdge load(LogStore store, Connection c, long size) throws SQLException {
    RightEdge e = new RightEdge(size);
    for (int level = 0; Tiles.hashesAtLevel(size, level) > 0; level++) {
      long count = Tiles.hashesAtLevel(size, level);
      int width = (int) (count % Tiles.WIDTH);
      long index = count / Tiles.WIDTH;
      byte[] hashes = new byte[0];
      if (width > 0) {
        final int missing = level;
        hashes =
            level == 0
                ? store.leafHashes(c, index * Tiles.WIDTH, width)
                : store
                    .tile(c, level, index, width)
                    .orElseThrow(
                        () -> new SQLException("missing partial tile at level " + missing));
        if (hashes.length != width * 32) {
          throw new SQLException("missing entries below the tree size at level " + level);
        }
      }
      e.partial.add(hashes);
    }
    return e;
  }

  long size() {
    return size;
  }

  RightEdge copy() {
    RightEdge c = new RightEdge(size);
    partial.forEach(p -> c.partial.add(p.clone()));
    return c;
  }

  void append(byte[] leafHash) {
    byte[] h = leafHash;
    for (int level = 0; ; level++) {
      if (partial.size() <= level) {
        partial.add(new byte[0]);
      }
      byte[] cur = partial.get(level);
      byte[] next = Arrays.copyOf(cur, cur.length + 32);
      System.arraycopy(h, 0, next, cur.length, 32);
      long tileIndex = (Tiles.hashesAtLevel(size, level)) / Tiles.WIDTH;
      boolean full = next.length == Tiles.WIDTH * 32;
      if (full || level > 0) {
        dirty.put(level + "/" + tileIndex, new Object[] {level, tileIndex, next});
      }
      if (!full) {
        partial.set(level, next);
        break;
      }
      partial.set(level, new byte[0]);
      h = Tiles.tileRoot(next);
    }
    size++;
  }

  /** The tiles touched since the last flush, as (level, index, hashes), and forgets them. */
  List<Object[]> takeDirty() {
    List<Object[]> out = new ArrayList<>(dirty.values());
    dirty.clear();
    return out;
  }

  /** Writes every tile touched since the last flush. */
  void flush(LogStore store, Connection c) throws SQLException {
    for (Object[] t : dirty.values()) {
      store.upsertTile(c, (Integer) t[0], (Long) t[1], (byte[]) t[2]);
    }
    dirty.clear();
  }
}
