package io.yinxin.sso.account;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The breached-password list in Have I Been Pwned's form. The files are made by outside tools —
 * coreutils' {@code sha1sum} hashes each password, {@code sort} orders the lines — so the lookup is
 * checked against hashes and an order this code did not compute.
 */
class BreachedPasswordsTest {
  @TempDir Path dir;

  private static final SecureRandom RANDOM = new SecureRandom();

  /** SHA-1 of the password's UTF-8 bytes, upper-case hex, by {@code sha1sum}. */
  private static String sha1sum(String password) throws Exception {
    Process p = new ProcessBuilder("sha1sum").start();
    p.getOutputStream().write(password.getBytes(StandardCharsets.UTF_8));
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
    assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
    return out.substring(0, 40).toUpperCase(java.util.Locale.ROOT);
  }

  /** Writes HASH:count lines, sorted by {@code sort} (byte order), with the given line end. */
  private Path list(String name, List<String> hashes, String lineEnd) throws Exception {
    Path unsorted = dir.resolve(name + ".unsorted");
    StringBuilder text = new StringBuilder();
    for (String h : hashes) {
      text.append(h).append(':').append(1 + RANDOM.nextInt(1_000_000)).append('\n');
    }
    Files.writeString(unsorted, text, StandardCharsets.US_ASCII);
    Path sorted = dir.resolve(name);
    ProcessBuilder sort =
        new ProcessBuilder("sort", "-o", sorted.toString(), unsorted.toString())
            .redirectErrorStream(true);
    sort.environment().put("LC_ALL", "C"); // byte order, as the list is sorted
    Process p = sort.start();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isZero();
    if (!lineEnd.equals("\n")) {
      Files.writeString(
          sorted,
          Files.readString(sorted, StandardCharsets.US_ASCII).replace("\n", lineEnd),
          StandardCharsets.US_ASCII);
    }
    return sorted;
  }

  private static String randomHash() {
    byte[] b = new byte[20];
    RANDOM.nextBytes(b);
    return java.util.HexFormat.of().withUpperCase().formatHex(b);
  }

  @Test
  void everyListedPasswordIsFoundAndNoOther() throws Exception {
    List<String> breached = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      breached.add("breached password number " + i);
    }
    breached.add("ｐａｓｓｗｏｒｄ 全角"); // listed as typed, full-width
    breached.add("listed in ascii 42");
    List<String> hashes = new ArrayList<>();
    for (String b : breached) {
      hashes.add(sha1sum(b));
    }
    for (int i = 0; i < 20_000; i++) {
      hashes.add(randomHash());
    }
    for (String lineEnd : new String[] {"\n", "\r\n"}) {
      Path file = list("pwned" + lineEnd.length() + ".txt", hashes, lineEnd);
      try (BreachedPasswords list = BreachedPasswords.open(file)) {
        for (String b : breached) {
          assertThat(list.contains(b)).as(b).isTrue();
        }
        for (int i = 0; i < 300; i++) {
          assertThat(list.contains("not breached " + i)).isFalse();
        }
        assertThat(list.contains(null)).isFalse();
        // Typed full-width, its NFKC form is the listed one.
        assertThat(list.contains("ｌｉｓｔｅｄ ｉｎ ａｓｃｉｉ ４２")).isTrue();
      }
    }
  }

  @Test
  void theFirstAndLastLinesAndTinyListsAreSearchedToo() throws Exception {
    String first = "0000000000000000000000000000000000000000";
    String last = "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF";
    String only = "only breached pass";
    for (int n : new int[] {0, 1, 2, 3, 7}) {
      List<String> hashes = new ArrayList<>(List.of(sha1sum(only)));
      for (int i = 0; i < n; i++) {
        hashes.add(randomHash());
      }
      Path file = list("tiny" + n, hashes, "\n");
      try (BreachedPasswords list = BreachedPasswords.open(file)) {
        assertThat(list.contains(only)).as("n=%d", n).isTrue();
        assertThat(list.contains("another pass")).as("n=%d", n).isFalse();
      }
    }
    // A password whose hash would sort before the first line or after the last: not found, and
    // the search ends. (Found by hash, so the edge lines are checked through an empty list's
    // neighbours: a file holding just the extremes.)
    Path edges = dir.resolve("edges");
    Files.writeString(edges, first + ":1\n" + sha1sum(only) + ":2\n" + last + ":3");
    try (BreachedPasswords list = BreachedPasswords.open(edges)) {
      assertThat(list.contains(only)).isTrue();
      assertThat(list.contains("zzz")).isFalse();
    }
    Path empty = dir.resolve("empty");
    Files.writeString(empty, "");
    try (BreachedPasswords list = BreachedPasswords.open(empty)) {
      assertThat(list.contains(only)).isFalse();
    }
    assertThat(BreachedPasswords.none().contains(only)).isFalse();
  }

  @Test
  void aFileInAnotherFormIsRefusedAtStart() throws Exception {
    Path words = dir.resolve("words");
    Files.writeString(words, "password\n123456\n");
    assertThatThrownBy(() -> BreachedPasswords.open(words))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("line 1");
    Path unsorted = dir.resolve("unsorted");
    Files.writeString(unsorted, "F" + "0".repeat(39) + ":1\n" + "0".repeat(40) + ":2\n");
    assertThatThrownBy(() -> BreachedPasswords.open(unsorted))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("line 2");
    assertThatThrownBy(() -> BreachedPasswords.open(dir.resolve("missing")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cannot read");
  }
}
