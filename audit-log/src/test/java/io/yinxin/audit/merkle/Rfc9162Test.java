package io.yinxin.audit.merkle;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class Rfc9162Test {
  private static final int MAX = 300;

  private static InMemoryTree tree(int size, List<byte[]> leaves) {
    InMemoryTree t = new InMemoryTree();
    for (int i = 0; i < size; i++) {
      byte[] leaf = Rfc9162.leafHash(("entry " + i).getBytes(StandardCharsets.UTF_8));
      leaves.add(leaf);
      t.append(leaf);
    }
    return t;
  }

  @Test
  void knownVectors() {
    // RFC 6962/9162 test data used by Certificate Transparency implementations.
    assertThat(HexFormat.of().formatHex(Rfc9162.emptyRoot()))
        .isEqualTo("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assertThat(HexFormat.of().formatHex(Rfc9162.leafHash(new byte[0])))
        .isEqualTo("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
  }

  /**
   * Each thread reuses one SHA-256 (2026-12-07): a hash abandoned half-way by an exception must not
   * leak into the next, and threads must not share one. The JDK's own fresh instance is the
   * reference.
   */
  @Test
  void aHashAbandonedHalfWayOrTakenOnManyThreadsLeavesTheNextOneRight() throws Exception {
    byte[] data = "entry 0".getBytes(StandardCharsets.UTF_8);
    byte[] expected = reference((byte) 0, data);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Rfc9162.leafHash(null))
        .isInstanceOf(NullPointerException.class); // after the 0x00 byte went in
    assertThat(Rfc9162.leafHash(data)).isEqualTo(expected);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Rfc9162.nodeHash(data, null))
        .isInstanceOf(NullPointerException.class);
    assertThat(Rfc9162.nodeHash(data, data)).isEqualTo(reference((byte) 1, data, data));

    java.util.concurrent.ExecutorService pool =
        java.util.concurrent.Executors.newFixedThreadPool(8);
    try {
      List<java.util.concurrent.Future<Boolean>> all = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        int seed = t;
        all.add(
            pool.submit(
                () -> {
                  SplittableRandom r = new SplittableRandom(seed);
                  for (int i = 0; i < 20_000; i++) {
                    byte[] a = new byte[r.nextInt(0, 300)];
                    byte[] b = new byte[32];
                    r.nextBytes(a);
                    r.nextBytes(b);
                    if (!java.util.Arrays.equals(Rfc9162.leafHash(a), reference((byte) 0, a))
                        || !java.util.Arrays.equals(
                            Rfc9162.nodeHash(a, b), reference((byte) 1, a, b))) {
                      return false;
                    }
                  }
                  return true;
                }));
      }
      for (java.util.concurrent.Future<Boolean> f : all) {
        assertThat(f.get()).isTrue();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  private static byte[] reference(byte prefix, byte[]... parts) {
    try {
      java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
      md.update(prefix);
      for (byte[] p : parts) {
        md.update(p);
      }
      return md.digest();
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void everyRootInclusionAndConsistencyProofUpTo300MatchesTheDefinitionAndVerifies() {
    List<byte[]> leaves = new ArrayList<>();
    InMemoryTree t = tree(MAX, leaves);
    for (int n = 1; n <= MAX; n++) {
      byte[] root = Rfc9162.root(t, n);
      assertThat(root).isEqualTo(MemoryTree.naiveRoot(leaves, 0, n));
      for (int m = 0; m < n; m++) {
        List<byte[]> proof = Rfc9162.inclusionProof(t, m, n);
        List<byte[]> naive = new ArrayList<>();
        MemoryTree.naivePath(leaves, m, 0, n, naive);
        assertThat(proof).as("path %d/%d", m, n).containsExactlyElementsOf(naive);
        assertThat(Rfc9162.verifyInclusion(m, n, leaves.get(m), proof, root))
            .as("inclusion %d/%d", m, n)
            .isTrue();
      }
      for (int m = 1; m <= n; m++) {
        List<byte[]> proof = Rfc9162.consistencyProof(t, m, n);
        List<byte[]> naive = new ArrayList<>();
        if (m < n) {
          MemoryTree.naiveSubproof(leaves, m, 0, n, true, naive);
        }
        assertThat(proof).as("consistency %d->%d", m, n).containsExactlyElementsOf(naive);
        assertThat(Rfc9162.verifyConsistency(m, n, Rfc9162.root(t, m), root, proof))
            .as("consistency %d->%d", m, n)
            .isTrue();
      }
    }
  }

  @Test
  void everyTamperedInclusionProofIsRejected() {
    List<byte[]> leaves = new ArrayList<>();
    InMemoryTree t = tree(70, leaves);
    for (int n : new int[] {2, 3, 7, 8, 9, 31, 64, 70}) {
      byte[] root = Rfc9162.root(t, n);
      for (int m = 0; m < n; m++) {
        List<byte[]> proof = Rfc9162.inclusionProof(t, m, n);
        for (int e = 0; e < proof.size(); e++) {
          for (int bit = 0; bit < 256; bit++) {
            List<byte[]> bad = copy(proof);
            bad.get(e)[bit / 8] ^= (byte) (1 << (bit % 8));
            assertThat(Rfc9162.verifyInclusion(m, n, leaves.get(m), bad, root)).isFalse();
          }
        }
        List<byte[]> longer = copy(proof);
        longer.add(leaves.get(0));
        assertThat(Rfc9162.verifyInclusion(m, n, leaves.get(m), longer, root)).isFalse();
        if (!proof.isEmpty()) {
          assertThat(
                  Rfc9162.verifyInclusion(
                      m, n, leaves.get(m), proof.subList(0, proof.size() - 1), root))
              .isFalse();
        }
        if (n > 1) {
          assertThat(Rfc9162.verifyInclusion((m + 1) % n, n, leaves.get(m), proof, root)).isFalse();
        }
        assertThat(Rfc9162.verifyInclusion(m, n, leaves.get((m + 1) % 70), proof, root)).isFalse();
      }
    }
  }

  @Test
  void everyTamperedConsistencyProofIsRejected() {
    List<byte[]> leaves = new ArrayList<>();
    InMemoryTree t = tree(70, leaves);
    for (int n : new int[] {3, 8, 9, 31, 64, 70}) {
      for (int m = 1; m < n; m++) {
        byte[] r1 = Rfc9162.root(t, m);
        byte[] r2 = Rfc9162.root(t, n);
        List<byte[]> proof = Rfc9162.consistencyProof(t, m, n);
        for (int e = 0; e < proof.size(); e++) {
          for (int bit = 0; bit < 256; bit += 7) {
            List<byte[]> bad = copy(proof);
            bad.get(e)[bit / 8] ^= (byte) (1 << (bit % 8));
            assertThat(Rfc9162.verifyConsistency(m, n, r1, r2, bad)).isFalse();
          }
        }
        List<byte[]> longer = copy(proof);
        longer.add(r1);
        assertThat(Rfc9162.verifyConsistency(m, n, r1, r2, longer)).isFalse();
        assertThat(Rfc9162.verifyConsistency(m, n, r1, r2, proof.subList(0, proof.size() - 1)))
            .isFalse();
        assertThat(Rfc9162.verifyConsistency(m, n, r2, r1, proof)).isFalse();
      }
    }
  }

  /**
   * Property: for random sizes up to 10^7, random indices and random pairs, proofs verify, and do
   * not verify against a root with one bit flipped or for another leaf. Seeded, so a failure names
   * the case that reproduces it.
   */
  @Test
  void randomProofsInTreesUpTo10Million() {
    PeriodicTree t = new PeriodicTree();
    long seed = 0x5eed_1234L;
    SplittableRandom random = new SplittableRandom(seed);
    for (int c = 0; c < 2000; c++) {
      long n = 1 + random.nextLong(10_000_000L);
      long m = random.nextLong(n);
      byte[] root = Rfc9162.root(t, n);
      byte[] badRoot = root.clone();
      badRoot[random.nextInt(32)] ^= (byte) (1 << random.nextInt(8));
      List<byte[]> proof = Rfc9162.inclusionProof(t, m, n);
      String what = "seed " + seed + " case " + c + ": index " + m + " size " + n;
      assertThat(Rfc9162.verifyInclusion(m, n, PeriodicTree.leaf(m), proof, root))
          .as(what)
          .isTrue();
      assertThat(Rfc9162.verifyInclusion(m, n, PeriodicTree.leaf(m), proof, badRoot))
          .as(what)
          .isFalse();
      assertThat(Rfc9162.verifyInclusion(m, n, PeriodicTree.leaf(m + 1), proof, root))
          .as(what)
          .isFalse();
      assertThat(proof.size()).as(what).isLessThanOrEqualTo(64 - Long.numberOfLeadingZeros(n - 1));

      long first = 1 + random.nextLong(n);
      List<byte[]> cproof = Rfc9162.consistencyProof(t, first, n);
      byte[] firstRoot = Rfc9162.root(t, first);
      assertThat(Rfc9162.verifyConsistency(first, n, firstRoot, root, cproof)).as(what).isTrue();
      if (first < n) {
        assertThat(Rfc9162.verifyConsistency(first, n, firstRoot, badRoot, cproof))
            .as(what)
            .isFalse();
      }
    }
  }

  /**
   * Why a proof needs a signed (size, root): the bare algorithm accepts the path of leaf 0 in a
   * 5-leaf tree as a path in a 6-leaf tree with the same root. Bundles and the verifier therefore
   * take size and root only from a checkpoint whose signature they checked.
   */
  @Test
  void theBareAlgorithmCannotTellSomeTreeSizesApart() {
    List<byte[]> leaves = new ArrayList<>();
    InMemoryTree t = tree(6, leaves);
    byte[] root5 = Rfc9162.root(t, 5);
    List<byte[]> proof = Rfc9162.inclusionProof(t, 0, 5);
    assertThat(Rfc9162.verifyInclusion(0, 5, leaves.get(0), proof, root5)).isTrue();
    assertThat(Rfc9162.verifyInclusion(0, 6, leaves.get(0), proof, root5)).isTrue();
    assertThat(Rfc9162.verifyInclusion(0, 6, leaves.get(0), proof, Rfc9162.root(t, 6))).isFalse();
  }

  private static List<byte[]> copy(List<byte[]> proof) {
    List<byte[]> c = new ArrayList<>();
    proof.forEach(p -> c.add(p.clone()));
    return c;
  }
}
