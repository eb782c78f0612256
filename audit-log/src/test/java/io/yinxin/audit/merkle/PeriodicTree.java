package io.yinxin.audit.merkle;

import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A tree of any size (10^7 and beyond) whose hashes are cheap: leaf i is the leaf hash of {@code i
 * mod 1024}, so every complete subtree of height 10 or more aligned the same way has the same hash,
 * and the rest repeats with period 1024. Real hashes throughout: proofs over it are real RFC 9162
 * proofs.
 */
final class PeriodicTree implements SubtreeHashes {
  private static final int PERIOD_BITS = 10;
  private final ConcurrentHashMap<Long, byte[]> memo = new ConcurrentHashMap<>();

  static byte[] leaf(long i) {
    return Rfc9162.leafHash(ByteBuffer.allocate(8).putLong(i & ((1L << PERIOD_BITS) - 1)).array());
  }

  @Override
  public byte[] hash(int level, long index) {
    long key;
    if (level >= PERIOD_BITS) {
      key = ((long) level << 32);
    } else {
      long within = index & ((1L << (PERIOD_BITS - level)) - 1);
      key = ((long) level << 32) | within;
      index = within;
    }
    byte[] h = memo.get(key);
    if (h == null) {
      h =
          level == 0
              ? leaf(index)
              : Rfc9162.nodeHash(hash(level - 1, 2 * index), hash(level - 1, 2 * index + 1));
      memo.put(key, h);
    }
    return h;
  }
}
