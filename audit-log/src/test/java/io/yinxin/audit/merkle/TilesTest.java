package io.yinxin.audit.merkle;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TilesTest {

  @Test
  void indicesAreWrittenInThreeDigitGroupsAsC2spSays() {
    assertThat(Tiles.encodeIndex(1234067)).isEqualTo("x001/x234/067");
    assertThat(Tiles.encodeIndex(0)).isEqualTo("000");
    assertThat(Tiles.encodeIndex(999)).isEqualTo("999");
    assertThat(Tiles.encodeIndex(1000)).isEqualTo("x001/000");
    assertThat(Tiles.path(new Tiles.TileId(1, 1234067, 256))).isEqualTo("tile/1/x001/x234/067");
    assertThat(Tiles.path(new Tiles.TileId(-1, 5, 17))).isEqualTo("tile/entries/005.p/17");
  }

  @ParameterizedTest
  @ValueSource(strings = {"0/000", "3/x001/x234/067", "entries/005.p/17", "0/x001/000.p/255"})
  void pathsRoundTrip(String rest) {
    assertThat(Tiles.parse(rest)).isPresent();
    assertThat(Tiles.path(Tiles.parse(rest).get())).isEqualTo("tile/" + rest);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "0/0", "0/0000", "0/x000/001", "0/001.p/256", "0/001.p/0", "0/001.p/07", "9/000",
        "x/000", "entries", "0/../000", "0/1234", "0/x1234/000", "0/001/002", ""
      })
  void malformedPathsAreNotTiles(String rest) {
    assertThat(Tiles.parse(rest)).isEmpty();
  }

  /** Tiles built from a memory tree answer every subtree hash, root and proof identically. */
  @Test
  void subtreeHashesFromTilesMatchTheFullTree() {
    InMemoryTree t = new InMemoryTree();
    int size = 70_000;
    for (int i = 0; i < size; i++) {
      t.append(Rfc9162.leafHash(ByteBuffer.allocate(4).putInt(i).array()));
    }
    Map<String, byte[]> tiles = new HashMap<>();
    for (int level = 0; Tiles.hashesAtLevel(size, level) > 0; level++) {
      long count = Tiles.hashesAtLevel(size, level);
      for (long n = 0; n * 256 < count; n++) {
        int width = (int) Math.min(256, count - n * 256);
        byte[] b = new byte[width * 32];
        for (int k = 0; k < width; k++) {
          System.arraycopy(t.hash(8 * level, n * 256 + k), 0, b, k * 32, 32);
        }
        tiles.put(level + "/" + n, b);
      }
    }
    Tiles.TileReader reader =
        (level, index, width) ->
            java.util.Arrays.copyOf(tiles.get(level + "/" + index), width * 32);
    for (long n : List.of(1L, 255L, 256L, 257L, 65_535L, 65_536L, 65_537L, 69_999L, 70_000L)) {
      SubtreeHashes fromTiles = Tiles.subtreeHashes(reader, n);
      assertThat(Rfc9162.root(fromTiles, n)).isEqualTo(Rfc9162.root(t, n));
      assertThat(Rfc9162.inclusionProof(fromTiles, n - 1, n))
          .containsExactlyElementsOf(Rfc9162.inclusionProof(t, n - 1, n));
      assertThat(Rfc9162.consistencyProof(fromTiles, n / 3 + 1, n))
          .containsExactlyElementsOf(Rfc9162.consistencyProof(t, n / 3 + 1, n));
    }
  }
}
