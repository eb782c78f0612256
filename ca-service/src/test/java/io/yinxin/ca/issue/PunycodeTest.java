package io.yinxin.ca.issue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.yinxin.ca.CaException;
import org.junit.jupiter.api.Test;

/**
 * Punycode against RFC 3492 §7.1's sample strings (B, C, D, L, R) and, for the rest, the answers of
 * Python's {@code punycode} codec, another implementation; and which {@code xn--} labels the CA
 * takes as A-labels.
 */
class PunycodeTest {
  private static final String[][] VECTORS = {
    {"他们为什么不说中文", "ihqwcrb4cv8a8dqg056pqjye"}, // RFC 3492 7.1 (B)
    {"他們爲什麽不說中文", "ihqwctvzc91f659drss3x8bo0yb"}, // (C)
    {"Pročprostěnemluvíčesky", "Proprostnemluvesky-uyb24dma41a"}, // (D)
    {"3年B組金八先生", "3B-ww4c5e180e575a65lsy2b"}, // (L)
    {"そのスピードで", "d9juau41awczczp"}, // (R)
    {"例子", "fsqu00a"},
    {"中国", "fiqs8s"},
    {"faß", "fa-hia"},
    {"bücher", "bcher-kva"},
    {"-> $1.00 <-", "-> $1.00 <--"},
  };

  @Test
  void encodesAndDecodesThePublishedSamples() {
    for (String[] v : VECTORS) {
      assertThat(Punycode.encode(v[0])).as(v[0]).contains(v[1]);
      assertThat(Punycode.decode(v[1])).as(v[1]).contains(v[0]);
    }
  }

  @Test
  void refusesWhatDoesNotDecode() {
    // Python: "incomplete punicode string" for both.
    assertThat(Punycode.decode("zz")).isEmpty();
    assertThat(Punycode.decode("99999999999")).isEmpty();
    // Past the largest code point (Python: "Invalid character U+48a3c1"), and far past it.
    assertThat(Punycode.decode("99999a")).isEmpty();
    assertThat(Punycode.decode("999999a")).isEmpty();
    assertThat(Punycode.decode("9999a")).contains(new String(Character.toChars(0x737b5)));
    assertThat(Punycode.decode("-abc")).isEmpty();
    assertThat(Punycode.decode("a-é")).isEmpty();
  }

  @Test
  void anALabelIsTheExactPunycodeOfAValidULabel() {
    assertThat(Punycode.isALabel("xn--fsqu00a")).isTrue(); // 例子
    assertThat(Punycode.isALabel("xn--fiqs8s")).isTrue(); // 中国
    assertThat(Punycode.isALabel("xn--fa-hia")).isTrue(); // faß: IDNA2008 keeps ß (IDNA2003 not)
    assertThat(Punycode.isALabel("xn--bcher-kva")).isTrue();
    assertThat(Punycode.isALabel("xn--zz")).as("does not decode").isFalse();
    assertThat(Punycode.isALabel("xn--abc-")).as("decodes to ASCII abc").isFalse();
    assertThat(Punycode.isALabel("xn--wca")).as("Ü, upper case").isFalse();
    assertThat(Punycode.isALabel("xn--u-ccb")).as("u + U+0308, not NFC").isFalse();
    assertThat(Punycode.isALabel("xn--n3h")).as("☃, a symbol").isFalse();
    assertThat(Punycode.isALabel("xn----kb7aq09a")).as("例-子, an inner hyphen").isTrue();
    assertThat(Punycode.isALabel("xn----lb7a")).as("-例, a leading hyphen").isFalse();
    assertThat(Punycode.isALabel("xn---lb7a")).as("a delimiter first: does not decode").isFalse();
    assertThat(Punycode.isALabel("xn--tda")).isTrue(); // ü
  }

  @Test
  void theCaTakesOnlyRealALabelsAmongReservedLabels() {
    assertThat(Names.dnsName("xn--fsqu00a.xn--fiqs8s")).isEqualTo("xn--fsqu00a.xn--fiqs8s");
    assertThat(Names.dnsName("www.xn--fa-hia.de")).isEqualTo("www.xn--fa-hia.de");
    for (String bad :
        new String[] {"xn--zz.example.cn", "ab--cd.example.cn", "www.xn--n3h.cn", "xn--abc-.cn"}) {
      assertThatThrownBy(() -> Names.dnsName(bad))
          .as(bad)
          .isInstanceOf(CaException.class)
          .hasMessageContaining("xn-- A-labels");
    }
    // A hyphen pair elsewhere in a label is an ordinary label.
    assertThat(Names.dnsName("a-b--c.example.cn")).isEqualTo("a-b--c.example.cn");
  }
}
