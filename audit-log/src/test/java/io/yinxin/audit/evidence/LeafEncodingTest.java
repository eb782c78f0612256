package io.yinxin.audit.evidence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.yinxin.audit.merkle.Rfc9162;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * A leaf's bytes, its commitment and its type check, written by hand for speed (2026-12-07),
 * against references that are not the module's code: a leaf and hashes computed with Python's
 * hashlib, the format as the class documents it built by string concatenation, and the type rule as
 * a regular expression.
 */
class LeafEncodingTest {

  private static final byte[] COUNTING = new byte[32];

  static {
    for (int i = 0; i < 32; i++) {
      COUNTING[i] = (byte) i;
    }
  }

  @Test
  void aLeafIsTheDocumentedLinesAndHashesAsPythonHashlibSays() {
    byte[] leaf = new Leaf("CERT_ISSUED", "2026-11-27T18:00:00.123Z", COUNTING).encode();
    assertThat(new String(leaf, StandardCharsets.US_ASCII))
        .isEqualTo(
            "yinxin-audit/v1\ntype CERT_ISSUED\ntime 2026-11-27T18:00:00.123Z\n"
                + "commitment AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n");
    // python3: hashlib.sha256(b'\x00' + leaf).hexdigest()
    assertThat(HexFormat.of().formatHex(Rfc9162.leafHash(leaf)))
        .isEqualTo("7bf6e5cce95a8b5bffc8ccae344c013742b0c27538014cf77e94b593afeba1d5");
    // python3: hashlib.sha256(bytes(range(16)) + b'{"a":1}').hexdigest()
    assertThat(
            HexFormat.of()
                .formatHex(
                    Leaf.commit(
                        java.util.Arrays.copyOf(COUNTING, 16),
                        "{\"a\":1}".getBytes(StandardCharsets.UTF_8))))
        .isEqualTo("aed8a0ebb5f60a8aa06554873318b8e888584ebddf7878258719930ae328cbb2");
  }

  @Test
  void everyLeafEncodesAsTheConcatenatedLinesAndDecodesBack() {
    SplittableRandom r = new SplittableRandom(20261207);
    long min = Instant.parse("0000-01-01T00:00:00Z").getEpochSecond();
    long max = Instant.parse("9999-12-31T23:59:59Z").getEpochSecond();
    for (int i = 0; i < 20_000; i++) {
      String type = randomTypeName(r);
      String time =
          Instant.ofEpochSecond(r.nextLong(min, max + 1), r.nextInt(1_000_000_000)).toString();
      byte[] commitment = new byte[32];
      r.nextBytes(commitment);
      Leaf leaf = new Leaf(type, time, commitment);
      String expected =
          Leaf.HEADER
              + "\ntype "
              + type
              + "\ntime "
              + time
              + "\ncommitment "
              + Base64.getEncoder().encodeToString(commitment)
              + "\n";
      assertThat(leaf.encode()).isEqualTo(expected.getBytes(StandardCharsets.UTF_8));
      Leaf back = Leaf.decode(leaf.encode());
      assertThat(back.type()).isEqualTo(type);
      assertThat(back.time()).isEqualTo(time);
      assertThat(back.commitment()).isEqualTo(commitment);
    }
  }

  @Test
  void aTypeIsAcceptedExactlyWhenTheRegularExpressionMatchesIt() {
    Pattern rule = Pattern.compile("[A-Z][A-Z0-9_]{0,63}");
    List<String> names =
        new ArrayList<>(
            List.of(
                "",
                "A",
                "_",
                "0",
                "A_",
                "_A",
                "9A",
                "a",
                "Ab",
                "CERT_ISSUED",
                "CERT ISSUED",
                "CERT-ISSUED",
                "É",
                "ÀB",
                "Ａ", // fullwidth A
                "A\u0130", // dotted capital I
                "A\n",
                "A" + "_".repeat(63),
                "A" + "_".repeat(64),
                "Z".repeat(64),
                "Z".repeat(65)));
    SplittableRandom r = new SplittableRandom(7);
    String alphabet = "AZaz09_-. \u00c9\u0130\uff21";
    for (int i = 0; i < 20_000; i++) {
      StringBuilder sb = new StringBuilder();
      int n = r.nextInt(0, 70);
      for (int k = 0; k < n; k++) {
        sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
      }
      names.add(sb.toString());
      names.add(randomTypeName(r));
    }
    int accepted = 0;
    for (String name : names) {
      if (rule.matcher(name).matches()) {
        assertThat(new Leaf(name, "2026-12-07T00:00:00Z", COUNTING).type()).isEqualTo(name);
        accepted++;
      } else {
        assertThatThrownBy(() -> new Leaf(name, "2026-12-07T00:00:00Z", COUNTING))
            .as(name)
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessage("bad leaf type");
      }
    }
    assertThat(accepted).isGreaterThan(20_000); // both verdicts were exercised
  }

  private static String randomTypeName(SplittableRandom r) {
    String first = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    String rest = first + "0123456789_";
    StringBuilder sb = new StringBuilder().append(first.charAt(r.nextInt(first.length())));
    int n = r.nextInt(0, 64);
    for (int k = 0; k < n; k++) {
      sb.append(rest.charAt(r.nextInt(rest.length())));
    }
    return sb.toString();
  }
}
