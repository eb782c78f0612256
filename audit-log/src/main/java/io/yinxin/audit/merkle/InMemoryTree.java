package io.yinxin.audit.merkle;

import java.util.ArrayList;
import java.util.List;

/**
 * Every level of a tree held in memory: for recomputing a log from its raw leaves (the self-check)
 * and as a reference in tests. About 64 bytes per leaf.
 */
public final class InMemoryTree implements SubtreeHashes {
  private final List<List<byte[]>> levels = new ArrayList<>();

  public InMemoryTree() {
    levels.add(new ArrayList<>());
  }

  /** Appends a leaf hash and every complete parent it finishes. */
  public void append(byte[] leafHash) {
    levels.get(0).add(leafHash);
    int level = 0;
    long index = levels.get(0).size() - 1;
    while ((index & 1) == 1) {
      List<byte[]> cur = levels.get(level);
      byte[] parent = Rfc9162.nodeHash(cur.get((int) index - 1), cur.get((int) index));
      level++;
      if (levels.size() <= level) {
        levels.add(new ArrayList<>());
      }
      levels.get(level).add(parent);
      index >>= 1;
    }
  }

  public long size() {
    return levels.get(0).size();
  }

  /** The root of the first {@code n} leaves. */
  public byte[] rootAt(long n) {
    return Rfc9162.root(this, n);
  }

  @Override
  public byte[] hash(int level, long index) {
    return levels.get(level).get((int) index);
  }
}
