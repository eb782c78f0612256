package io.yinxin.audit.merkle;

import java.util.ArrayList;
import java.util.List;

/**
 * The compact range [0, n) of a tree (as transparency-dev/merkle's {@code compact} package keeps
 * it): the roots of the perfect subtrees that n splits into, largest first, at most one per level.
 * Appending leaves one by one and asking for the root at any point needs O(log n) memory, so a
 * whole log can be recomputed from a stream of its leaves.
 */
public final class CompactRange {
  private final List<byte[]> hashes = new ArrayList<>();
  private final List<Integer> heights = new ArrayList<>();
  private long size;

  public long size() {
    return size;
  }

  /** Appends a leaf hash, merging every pair of equal-height subtrees it completes. */
  public void append(byte[] leafHash) {
    byte[] h = leafHash;
    int height = 0;
    while (!heights.isEmpty() && heights.get(heights.size() - 1) == height) {
      byte[] left = hashes.remove(hashes.size() - 1);
      heights.remove(heights.size() - 1);
      h = Rfc9162.nodeHash(left, h);
      height++;
    }
    hashes.add(h);
    heights.add(height);
    size++;
  }

  /** The RFC 9162 root of the leaves appended so far. */
  public byte[] root() {
    if (hashes.isEmpty()) {
      return Rfc9162.emptyRoot();
    }
    byte[] acc = hashes.get(hashes.size() - 1);
    for (int i = hashes.size() - 2; i >= 0; i--) {
      acc = Rfc9162.nodeHash(hashes.get(i), acc);
    }
    return acc;
  }
}
