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
 *
 * <p>Each level keeps a buffer of one full tile and a width, so an append copies 32 bytes, not the
 * tile; a tile is copied out only when it must be written.
 */
final class RightEdge {
  private static final int TILE_BYTES = Tiles.WIDTH * 32;

  private long size;
  private final List<byte[]> buffers = new ArrayList<>();
  private final List<Integer> widths = new ArrayList<>();
  private final Map<Long, Object[]> dirty = new LinkedHashMap<>();

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
      byte[] buffer = new byte[TILE_BYTES];
      if (width > 0) {
        final int missing = level;
        byte[] hashes =
            level == 0
                ? store.leafHashes(c, index * Tiles.WIDTH, width)
                : store
                    .tile(c, level, index, width)
                    .orElseThrow(
                        () -> new SQLException("missing partial tile at level " + missing));
        if (hashes.length != width * 32) {
          throw new SQLException("missing entries below the tree size at level " + level);
        }
        System.arraycopy(hashes, 0, buffer, 0, hashes.length);
      }
      e.buffers.add(buffer);
      e.widths.add(width);
    }
    return e;
  }

  long size() {
    return size;
  }

  void append(byte[] leafHash) {
    byte[] h = leafHash;
    for (int level = 0; ; level++) {
      if (buffers.size() <= level) {
        buffers.add(new byte[TILE_BYTES]);
        widths.add(0);
      }
      byte[] buffer = buffers.get(level);
      int width = widths.get(level);
      System.arraycopy(h, 0, buffer, width * 32, 32);
      width++;
      long tileIndex = Tiles.hashesAtLevel(size, level) / Tiles.WIDTH;
      boolean full = width == Tiles.WIDTH;
      if (full || level > 0) {
        // Keyed by level and index; a later append to the same tile replaces the earlier copy.
        dirty.put(
            tileIndex * 64 + level,
            new Object[] {level, tileIndex, Arrays.copyOf(buffer, width * 32)});
      }
      if (!full) {
        widths.set(level, width);
        break;
      }
      widths.set(level, 0);
      h = Tiles.tileRoot(buffer);
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
