package io.yinxin.audit.merkle;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Merkle tree hashing and proofs exactly as RFC 9162 §2.1: leaf = SHA-256(0x00 ‖ data), node =
 * SHA-256(0x01 ‖ left ‖ right), the root of n leaves splits at the largest power of two below n.
 * Pure functions: stored hashes come in through {@link SubtreeHashes}.
 */
public final class Rfc9162 {
  /**
   * This thread's SHA-256, reset: a provider look-up per hash ({@code MessageDigest.getInstance})
   * cost about as much as hashing a leaf. Each use completes with {@code digest()} in the same
   * method and nothing it calls hashes, so one instance per thread is never shared mid-hash.
   */
  private static final ThreadLocal<MessageDigest> SHA256 =
      ThreadLocal.withInitial(Rfc9162::newSha256);

  static MessageDigest sha256() {
    MessageDigest md = SHA256.get();
    md.reset(); // a hash abandoned by an exception leaves no state behind
    return md;
  }

  private static MessageDigest newSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by the Java platform", e);
    }
  }

  /** SHA-256 of the empty string: the root of the empty tree. */
  private static final byte[] EMPTY = sha256(new byte[0]);

  private Rfc9162() {}

  private static byte[] sha256(byte[] data) {
    return sha256().digest(data);
  }

  /**
   * Plain SHA-256 of {@code first ‖ second}, with no RFC 9162 domain byte (a leaf's salted
   * commitment), on this thread's instance.
   */
  public static byte[] sha256(byte[] first, byte[] second) {
    MessageDigest md = sha256();
    md.update(first);
    md.update(second);
    return md.digest();
  }

  public static byte[] emptyRoot() {
    return EMPTY.clone();
  }

  public static byte[] leafHash(byte[] data) {
    MessageDigest md = sha256();
    md.update((byte) 0);
    md.update(data);
    return md.digest();
  }

  public static byte[] nodeHash(byte[] left, byte[] right) {
    MessageDigest md = sha256();
    md.update((byte) 1);
    md.update(left);
    md.update(right);
    return md.digest();
  }

  /** The largest power of two strictly smaller than {@code n} (n ≥ 2). */
  static long split(long n) {
    return Long.highestOneBit(n - 1);
  }

  /** The root of a tree of {@code size} leaves. */
  public static byte[] root(SubtreeHashes hashes, long size) {
    if (size < 0) {
      throw new IllegalArgumentException("negative tree size");
    }
    return size == 0 ? emptyRoot() : rangeHash(hashes, 0, size);
  }

  /**
   * MTH over leaves {@code [begin, end)}, where {@code begin} is a multiple of the largest power of
   * two not above {@code end - begin} (true for every range the RFC's recursion visits).
   */
  static byte[] rangeHash(SubtreeHashes hashes, long begin, long end) {
    long n = end - begin;
    if (Long.bitCount(n) == 1 && begin % n == 0) {
      int level = Long.numberOfTrailingZeros(n);
      return hashes.hash(level, begin >>> level);
    }
    long k = split(n);
    return nodeHash(rangeHash(hashes, begin, begin + k), rangeHash(hashes, begin + k, end));
  }

  /** The audit path for leaf {@code index} in a tree of {@code size} leaves (RFC 9162 §2.1.3.1). */
  public static List<byte[]> inclusionProof(SubtreeHashes hashes, long index, long size) {
    if (index < 0 || index >= size) {
      throw new IllegalArgumentException("index " + index + " is not in a tree of size " + size);
    }
    List<byte[]> proof = new ArrayList<>();
    path(hashes, index, 0, size, proof);
    return proof;
  }

  private static void path(SubtreeHashes hashes, long m, long begin, long end, List<byte[]> out) {
    long n = end - begin;
    if (n == 1) {
      return;
    }
    long k = split(n);
    if (m < k) {
      path(hashes, m, begin, begin + k, out);
      out.add(rangeHash(hashes, begin + k, end));
    } else {
      path(hashes, m - k, begin + k, end, out);
      out.add(rangeHash(hashes, begin, begin + k));
    }
  }

  /** The consistency proof between sizes {@code first ≤ second} (RFC 9162 §2.1.4.1). */
  public static List<byte[]> consistencyProof(SubtreeHashes hashes, long first, long second) {
    if (first < 0 || first > second) {
      throw new IllegalArgumentException("need 0 <= first <= second");
    }
    List<byte[]> proof = new ArrayList<>();
    if (first == 0 || first == second) {
      return proof;
    }
    subproof(hashes, first, 0, second, true, proof);
    return proof;
  }

  private static void subproof(
      SubtreeHashes hashes, long m, long begin, long end, boolean whole, List<byte[]> out) {
    long n = end - begin;
    if (m == n) {
      if (!whole) {
        out.add(rangeHash(hashes, begin, end));
      }
      return;
    }
    long k = split(n);
    if (m <= k) {
      subproof(hashes, m, begin, begin + k, whole, out);
      out.add(rangeHash(hashes, begin + k, end));
    } else {
      subproof(hashes, m - k, begin + k, end, false, out);
      out.add(rangeHash(hashes, begin, begin + k));
    }
  }

  /**
   * Verifies an inclusion proof (RFC 9162 §2.1.3.2). Only meaningful against a signed (size, root):
   * check the checkpoint first.
   */
  public static boolean verifyInclusion(
      long index, long size, byte[] leafHash, List<byte[]> proof, byte[] root) {
    if (index < 0 || index >= size || leafHash.length != 32 || root.length != 32) {
      return false;
    }
    long fn = index;
    long sn = size - 1;
    byte[] r = leafHash;
    for (byte[] p : proof) {
      if (sn == 0 || p.length != 32) {
        return false;
      }
      if ((fn & 1) == 1 || fn == sn) {
        r = nodeHash(p, r);
        if ((fn & 1) == 0) {
          while ((fn & 1) == 0 && fn != 0) {
            fn >>>= 1;
            sn >>>= 1;
          }
        }
      } else {
        r = nodeHash(r, p);
      }
      fn >>>= 1;
      sn >>>= 1;
    }
    return sn == 0 && MessageDigest.isEqual(r, root);
  }

  /** Verifies a consistency proof (RFC 9162 §2.1.4.2). */
  public static boolean verifyConsistency(
      long first, long second, byte[] firstRoot, byte[] secondRoot, List<byte[]> proof) {
    if (first < 0 || first > second || firstRoot.length != 32 || secondRoot.length != 32) {
      return false;
    }
    if (first == second) {
      return proof.isEmpty() && MessageDigest.isEqual(firstRoot, secondRoot);
    }
    if (first == 0) {
      return proof.isEmpty();
    }
    List<byte[]> path = new ArrayList<>(proof);
    for (byte[] p : path) {
      if (p.length != 32) {
        return false;
      }
    }
    if (Long.bitCount(first) == 1) {
      path.add(0, firstRoot);
    }
    if (path.isEmpty()) {
      return false;
    }
    long fn = first - 1;
    long sn = second - 1;
    while ((fn & 1) == 1) {
      fn >>>= 1;
      sn >>>= 1;
    }
    byte[] fr = path.get(0);
    byte[] sr = path.get(0);
    for (int i = 1; i < path.size(); i++) {
      byte[] c = path.get(i);
      if (sn == 0) {
        return false;
      }
      if ((fn & 1) == 1 || fn == sn) {
        fr = nodeHash(c, fr);
        sr = nodeHash(c, sr);
        if ((fn & 1) == 0) {
          while ((fn & 1) == 0 && fn != 0) {
            fn >>>= 1;
            sn >>>= 1;
          }
        }
      } else {
        sr = nodeHash(sr, c);
      }
      fn >>>= 1;
      sn >>>= 1;
    }
    return sn == 0 && MessageDigest.isEqual(fr, firstRoot) && MessageDigest.isEqual(sr, secondRoot);
  }

  /** Hex, for messages and test vectors. */
  public static String hex(byte[] b) {
    StringBuilder sb = new StringBuilder(b.length * 2);
    for (byte x : b) {
      sb.append(Character.forDigit((x >> 4) & 0xf, 16)).append(Character.forDigit(x & 0xf, 16));
    }
    return sb.toString();
  }

  static boolean same(byte[] a, byte[] b) {
    return Arrays.equals(a, b);
  }
}
