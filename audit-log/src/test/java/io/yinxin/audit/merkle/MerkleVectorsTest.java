package io.yinxin.audit.merkle;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

/**
 * The tree, proofs and verifiers against references that are not this module's code: the published
 * inclusion and consistency vectors of transparency-dev/merkle over the RFC 6962 reference tree,
 * and, for a large tree with no repeating structure, a naive recursive implementation written here
 * from the definitions of RFC 9162 §2.1.1-2.1.4.
 */
class MerkleVectorsTest {
  /** The RFC 6962 reference tree's leaves (as used by Certificate Transparency's tests). */
  static final String[] LEAVES = {
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f"
  };

  @SuppressWarnings("unchecked")
  static List<Map<String, Object>> vectors(String name) throws Exception {
    try (InputStream in = MerkleVectorsTest.class.getResourceAsStream("/merkle-vectors/" + name)) {
      return JsonMapper.builder().build().readValue(in, List.class);
    }
  }

  static byte[] b64(Object s) {
    return Base64.getDecoder().decode((String) s);
  }

  @SuppressWarnings("unchecked")
  static List<byte[]> proof(Map<String, Object> v) {
    List<byte[]> out = new ArrayList<>();
    for (Object o : (List<Object>) v.get("proof")) {
      out.add(b64(o));
    }
    return out;
  }

  static InMemoryTree referenceTree() {
    InMemoryTree t = new InMemoryTree();
    for (String hex : LEAVES) {
      t.append(Rfc9162.leafHash(HexFormat.of().parseHex(hex)));
    }
    return t;
  }

  static long num(Map<String, Object> v, String k) {
    return ((Number) v.get(k)).longValue();
  }

  @Test
  void publishedInclusionVectorsAreReproducedAndVerified() throws Exception {
    InMemoryTree tree = referenceTree();
    for (Map<String, Object> v : vectors("inclusion.json")) {
      long index = num(v, "leafIdx");
      long size = num(v, "treeSize");
      byte[] leaf = b64(v.get("leafHash"));
      byte[] root = b64(v.get("root"));
      boolean ok = Rfc9162.verifyInclusion(index, size, leaf, proof(v), root);
      assertThat(ok).as((String) v.get("desc")).isEqualTo(!(Boolean) v.get("wantErr"));
      if (!(Boolean) v.get("wantErr")) {
        assertThat(tree.rootAt(size)).as("root " + size).isEqualTo(root);
        assertThat(tree.hash(0, index)).isEqualTo(leaf);
        assertThat(Rfc9162.inclusionProof(tree, index, size))
            .as((String) v.get("desc"))
            .containsExactlyElementsOf(proof(v));
      }
    }
  }

  @Test
  void publishedConsistencyVectorsAreReproducedAndVerified() throws Exception {
    InMemoryTree tree = referenceTree();
    for (Map<String, Object> v : vectors("consistency.json")) {
      long first = num(v, "size1");
      long second = num(v, "size2");
      byte[] r1 = b64(v.get("root1"));
      byte[] r2 = b64(v.get("root2"));
      boolean ok = Rfc9162.verifyConsistency(first, second, r1, r2, proof(v));
      assertThat(ok).as((String) v.get("desc")).isEqualTo(!(Boolean) v.get("wantErr"));
      if (!(Boolean) v.get("wantErr")) {
        assertThat(tree.rootAt(first)).isEqualTo(r1);
        assertThat(tree.rootAt(second)).isEqualTo(r2);
        assertThat(Rfc9162.consistencyProof(tree, first, second))
            .as((String) v.get("desc"))
            .containsExactlyElementsOf(proof(v));
      }
    }
  }

  // ---- RFC 9162 §2.1, written out naively: recursion over the leaf list, nothing shared.

  static byte[] sha(byte prefix, byte[]... parts) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    md.update(prefix);
    for (byte[] p : parts) {
      md.update(p);
    }
    return md.digest();
  }

  /** The largest power of two smaller than n (n > 1). */
  static int k(int n) {
    int k = 1;
    while (k << 1 < n) {
      k <<= 1;
    }
    return k;
  }

  /** MTH(D[n]) of §2.1.1. */
  static byte[] mth(List<byte[]> d) throws Exception {
    if (d.isEmpty()) {
      return MessageDigest.getInstance("SHA-256").digest();
    }
    if (d.size() == 1) {
      return sha((byte) 0, d.get(0));
    }
    int k = k(d.size());
    return sha((byte) 1, mth(d.subList(0, k)), mth(d.subList(k, d.size())));
  }

  /** PATH(m, D[n]) of §2.1.3.1. */
  static List<byte[]> path(int m, List<byte[]> d) throws Exception {
    List<byte[]> out = new ArrayList<>();
    if (d.size() == 1) {
      return out;
    }
    int k = k(d.size());
    if (m < k) {
      out.addAll(path(m, d.subList(0, k)));
      out.add(mth(d.subList(k, d.size())));
    } else {
      out.addAll(path(m - k, d.subList(k, d.size())));
      out.add(mth(d.subList(0, k)));
    }
    return out;
  }

  /** SUBPROOF(m, D[n], b) of §2.1.4.1. */
  static List<byte[]> subproof(int m, List<byte[]> d, boolean b) throws Exception {
    List<byte[]> out = new ArrayList<>();
    int n = d.size();
    if (m == n) {
      if (!b) {
        out.add(mth(d));
      }
      return out;
    }
    int k = k(n);
    if (m <= k) {
      out.addAll(subproof(m, d.subList(0, k), b));
      out.add(mth(d.subList(k, n)));
    } else {
      out.addAll(subproof(m - k, d.subList(k, n), false));
      out.add(mth(d.subList(0, k)));
    }
    return out;
  }

  @Test
  void aLargeTreeWithNoRepeatingStructureMatchesTheNaiveDefinitions() throws Exception {
    SplittableRandom random = new SplittableRandom(9162);
    int n = 70_001; // not a power of two, random leaves: no two subtrees alike
    List<byte[]> leaves = new ArrayList<>(n);
    InMemoryTree tree = new InMemoryTree();
    CompactRange range = new CompactRange();
    for (int i = 0; i < n; i++) {
      byte[] leaf = new byte[1 + random.nextInt(40)];
      random.nextBytes(leaf);
      leaves.add(leaf);
      tree.append(Rfc9162.leafHash(leaf));
      range.append(Rfc9162.leafHash(leaf));
    }
    assertThat(tree.rootAt(n)).isEqualTo(mth(leaves));
    assertThat(range.root()).isEqualTo(mth(leaves));
    // Sizes around every power of two and at random, and proofs in a smaller prefix (the naive
    // PATH and SUBPROOF recompute whole subtrees).
    List<Integer> sizes = new ArrayList<>();
    for (int p = 1; p <= n; p <<= 1) {
      sizes.addAll(Arrays.asList(p - 1, p, p + 1));
    }
    for (int i = 0; i < 20; i++) {
      sizes.add(1 + random.nextInt(n));
    }
    for (int size : sizes) {
      if (size >= 1 && size <= n) {
        assertThat(tree.rootAt(size))
            .as("root of %d", size)
            .isEqualTo(mth(leaves.subList(0, size)));
      }
    }
    int m = 3_000;
    List<byte[]> prefix = leaves.subList(0, m);
    for (int i = 0; i < 40; i++) {
      int size = 1 + random.nextInt(m);
      int index = random.nextInt(size);
      assertThat(Rfc9162.inclusionProof(tree, index, size))
          .as("inclusion %d in %d", index, size)
          .containsExactlyElementsOf(path(index, prefix.subList(0, size)));
      int first = 1 + random.nextInt(size);
      assertThat(Rfc9162.consistencyProof(tree, first, size))
          .as("consistency %d to %d", first, size)
          .containsExactlyElementsOf(subproof(first, prefix.subList(0, size), true));
    }
  }
}
