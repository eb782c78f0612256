package io.yinxin.audit.store;

import io.yinxin.audit.AuditException;
import io.yinxin.audit.AuditException.Code;
import io.yinxin.audit.merkle.Tiles;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Tile reads with a bounded LRU cache. A tile's first W hashes never change once written, so a
 * (level, index, width) key can be cached forever; proofs and tile fetches then touch the database
 * only for tiles nobody asked for recently.
 */
public final class TileCache {
  private record Key(int level, long index, int width) {}

  private final LogStore store;
  private final Map<Key, byte[]> cache;

  public TileCache(LogStore store, int maxTiles) {
    this.store = store;
    this.cache =
        new LinkedHashMap<>(1024, 0.75f, true) {
          private static final long serialVersionUID = 1L;

          @Override
          protected boolean removeEldestEntry(Map.Entry<Key, byte[]> eldest) {
            return size() > maxTiles;
          }
        };
  }

  /** The first {@code width} hashes of tile (level, index); NOT_FOUND if not stored yet. */
  public byte[] read(Connection c, int level, long index, int width) {
    Key k = new Key(level, index, width);
    synchronized (cache) {
      byte[] hit = cache.get(k);
      if (hit != null) {
        return hit;
      }
    }
    try {
      byte[] hashes =
          store
              .tile(c, level, index, width)
              .orElseThrow(
                  () ->
                      new AuditException(
                          Code.NOT_FOUND,
                          "no tile " + Tiles.path(new Tiles.TileId(level, index, width))));
      synchronized (cache) {
        cache.put(k, hashes);
      }
      return hashes;
    } catch (SQLException e) {
      throw LogStore.unavailable(e);
    }
  }

  /** A reader bound to a connection, for {@link Tiles#subtreeHashes}. */
  public Tiles.TileReader reader(Connection c) {
    return (level, index, width) -> read(c, level, index, width);
  }

  public void clear() {
    synchronized (cache) {
      cache.clear();
    }
  }
}
