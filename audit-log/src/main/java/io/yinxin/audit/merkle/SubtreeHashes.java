package io.yinxin.audit.merkle;

/**
 * Where the tree's stored hashes come from: the hash of a complete subtree. Storage answers from
 * tiles, tests from memory. Implementations only need to answer for subtrees that lie entirely
 * inside the tree size they were asked about.
 */
@FunctionalInterface
public interface SubtreeHashes {
  /**
   * The hash of the complete subtree of height {@code level} covering leaves {@code [index <<
   * level, (index + 1) << level)}; level 0 is a leaf hash.
   */
  byte[] hash(int level, long index);
}
