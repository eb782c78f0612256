package io.yinxin.sso.realname;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.LocalDate;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * GB 11643 against the standard's own example and formula: the weights are computed here as
 * 2^(18-i) mod 11 (not read from the class's table), the check character as "10X98765432"[sum mod
 * 11]; seeded random numbers with valid birth dates are accepted exactly with their one right check
 * character.
 */
class IdNumberTest {
  private static final LocalDate TODAY = LocalDate.of(2026, 12, 2);

  private static Optional<IdNumber> parse(String s) {
    return IdNumber.parse(s, TODAY, new String[1]);
  }

  private static char reference(String first17) {
    int sum = 0;
    for (int i = 1; i <= 17; i++) {
      int weight =
          java.math.BigInteger.TWO.pow(18 - i).mod(java.math.BigInteger.valueOf(11)).intValue();
      sum += (first17.charAt(i - 1) - '0') * weight;
    }
    return "10X98765432".charAt(sum % 11);
  }

  @Test
  void theStandardsExampleIsValidAndMaskedToFourAndFour() {
    IdNumber n = parse("11010519491231002X").orElseThrow();
    assertThat(n.value()).isEqualTo("11010519491231002X");
    assertThat(n.masked()).isEqualTo("1101**********002X");
    assertThat(n.toString()).isEqualTo("1101**********002X");
    // One spelling: lower-case x is the same number.
    assertThat(parse(" 11010519491231002x ")).hasValue(n);
  }

  @Test
  void randomNumbersAreAcceptedWithExactlyTheirOneCheckCharacter() {
    Random r = new Random(11643);
    for (int k = 0; k < 2000; k++) {
      LocalDate birth = LocalDate.of(1900, 1, 1).plusDays(r.nextInt(45_000));
      String first17 =
          String.format(
              "%06d%s%03d",
              110000 + r.nextInt(800_000), birth.toString().replace("-", ""), r.nextInt(1000));
      char right = reference(first17);
      assertThat(parse(first17 + right)).as(first17 + right).isPresent();
      for (char c : "0123456789X".toCharArray()) {
        if (c != right) {
          assertThat(parse(first17 + c)).as(first17 + c).isEmpty();
        }
      }
    }
  }

  @Test
  void impossibleDatesAreasAndShapesAreRefusedWithAReason() {
    String[] why = new String[1];
    // Right check characters, wrong contents.
    for (String first17 :
        new String[] {
          "11010519490230001", // 30 February
          "11010520300101001", // born in the future
          "11010518991231001", // before 1900
          "01010519491231002", // area code 0xxxxx
        }) {
      String candidate = first17 + reference(first17);
      assertThat(IdNumber.parse(candidate, TODAY, why)).as(candidate).isEmpty();
      assertThat(why[0]).isNotBlank().doesNotContain(candidate);
    }
    // Wrong shapes.
    for (String bad :
        new String[] {"11010519491231002", "1101051949123100\uff12X", "11010519491231002XX", ""}) {
      assertThat(IdNumber.parse(bad, TODAY, why)).as(bad).isEmpty();
      assertThat(why[0]).isNotBlank();
    }
  }
}
