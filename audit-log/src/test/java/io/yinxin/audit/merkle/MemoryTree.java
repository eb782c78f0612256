package io.yinxin.audit.merkle;

import java.util.List;

/**
 * RFC 9162 straight from its recursive definitions: the reference the fast code is checked against.
 */
final class MemoryTree {
  private MemoryTree() {}

  /** RFC 9162 MTH computed straight from the definition, with no stored hashes at all. */
  static byte[] naiveRoot(List<byte[]> leaves, int begin, int end) {
    int n = end - begin;
    if (n == 0) {
      return Rfc9162.emptyRoot();
    }
    if (n == 1) {
      return leaves.get(begin);
    }
    int k = Integer.highestOneBit(n - 1);
    return Rfc9162.nodeHash(naiveRoot(leaves, begin, begin + k), naiveRoot(leaves, begin + k, end));
  }

  /** RFC 9162 PATH(m, D[begin:end]) straight from the definition. */
  static void naivePath(List<byte[]> leaves, int m, int begin, int end, List<byte[]> out) {
    int n = end - begin;
    if (n <= 1) {
      return;
    }
    int k = Integer.highestOneBit(n - 1);
    if (m < k) {
      naivePath(leaves, m, begin, begin + k, out);
      out.add(naiveRoot(leaves, begin + k, end));
    } else {
      naivePath(leaves, m - k, begin + k, end, out);
      out.add(naiveRoot(leaves, begin, begin + k));
    }
  }

  /** RFC 9162 SUBPROOF(m, D[begin:end], b) straight from the definition. */
  static void naiveSubproof(
      List<byte[]> leaves, int m, int begin, int end, boolean whole, List<byte[]> out) {
    int n = end - begin;
    if (m == n) {
      if (!whole) {
        out.add(naiveRoot(leaves, begin, end));
      }
      return;
    }
    int k = Integer.highestOneBit(n - 1);
    if (m <= k) {
      naiveSubproof(leaves, m, begin, begin + k, whole, out);
      out.add(naiveRoot(leaves, begin + k, end));
    } else {
      naiveSubproof(leaves, m - k, begin + k, end, false, out);
      out.add(naiveRoot(leaves, begin, begin + k));
    }
  }
}
