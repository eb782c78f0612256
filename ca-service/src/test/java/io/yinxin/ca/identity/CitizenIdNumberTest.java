package io.yinxin.ca.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.yinxin.ca.CaException;
import java.time.LocalDate;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CitizenIdNumberTest {
  private static final String VALID = "11010519491231002X";

  @Test
  void theStandardsExampleIsValidAndMasked() {
    CitizenIdNumber id = CitizenIdNumber.parse(VALID, "subject.serialNumber");
    assertThat(id.value()).isEqualTo(VALID);
    assertThat(id.birthDate()).isEqualTo(LocalDate.of(1949, 12, 31));
    assertThat(id.masked()).isEqualTo("1101**********002X");
    assertThat(id.toString()).isEqualTo(id.masked());
    assertThat(CitizenIdNumber.parse("11010519491231002x", "f").value()).isEqualTo(VALID);
  }

  @Test
  void everySingleCharacterSubstitutionIsRefused() {
    String chars = "0123456789X";
    int refused = 0;
    for (int pos = 0; pos < 18; pos++) {
      for (char c : chars.toCharArray()) {
        if (c == VALID.charAt(pos)) {
          continue;
        }
        String bad = VALID.substring(0, pos) + c + VALID.substring(pos + 1);
        assertThatThrownBy(() -> CitizenIdNumber.parse(bad, "subject.serialNumber"))
            .as(bad)
            .isInstanceOf(CaException.class);
        refused++;
      }
    }
    assertThat(refused).isEqualTo(18 * 10);
  }

  @Test
  void everyAdjacentTranspositionIsRefused() {
    SplittableRandom r = new SplittableRandom(11643);
    for (int n = 0; n < 2000; n++) {
      String id = random(r);
      for (int pos = 0; pos < 17; pos++) {
        if (id.charAt(pos) == id.charAt(pos + 1)) {
          continue;
        }
        String swapped =
            id.substring(0, pos) + id.charAt(pos + 1) + id.charAt(pos) + id.substring(pos + 2);
        assertThatThrownBy(() -> CitizenIdNumber.parse(swapped, "f"))
            .as(swapped)
            .isInstanceOf(CaException.class);
      }
    }
  }

  @Test
  void tenThousandRandomValidNumbersAreAccepted() {
    SplittableRandom r = new SplittableRandom(1999);
    for (int n = 0; n < 10_000; n++) {
      String id = random(r);
      CitizenIdNumber parsed = CitizenIdNumber.parse(id, "f");
      assertThat(parsed.value()).isEqualTo(id);
      assertThat(parsed.masked()).doesNotContain(id.substring(4, 14));
    }
  }

  /** A valid number: area 110000-659999, a real birth date 1900-2020, any sequence. */
  static String random(SplittableRandom r) {
    int area = 110_000 + r.nextInt(550_000);
    LocalDate birth = LocalDate.of(1900, 1, 1).plusDays(r.nextInt(43_800));
    String first17 =
        String.format(
            "%06d%04d%02d%02d%03d",
            area, birth.getYear(), birth.getMonthValue(), birth.getDayOfMonth(), r.nextInt(1000));
    return first17 + CitizenIdNumber.checkCharacter(first17);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "11010519491231002",
        "11010519491231002XX",
        "1101051949123100AX",
        "01010519491231002X",
        "110105194902300",
        "1101051949023000",
        "110105 9491231002X",
        "１１010519491231002X"
      })
  void malformedNumbersAreRefusedWithTheFieldNamed(String bad) {
    assertThatThrownBy(() -> CitizenIdNumber.parse(bad, "subject.serialNumber"))
        .isInstanceOfSatisfying(
            CaException.class,
            e -> {
              assertThat(e.code()).isEqualTo(CaException.Code.INVALID_IDENTITY);
              assertThat(e.field()).isEqualTo("subject.serialNumber");
              assertThat(e.getMessage()).startsWith("subject.serialNumber: ");
              if (bad.length() > 8) {
                assertThat(e.getMessage()).doesNotContain(bad.substring(0, 8));
              }
            });
  }

  @Test
  void impossibleAndFutureBirthDatesAreRefused() {
    String feb30 = "110105" + "19490230" + "002";
    assertThatThrownBy(
            () -> CitizenIdNumber.parse(feb30 + CitizenIdNumber.checkCharacter(feb30), "f"))
        .hasMessageContaining("birth date");
    String future = "110105" + LocalDate.now().plusYears(1).toString().replace("-", "") + "002";
    assertThatThrownBy(
            () -> CitizenIdNumber.parse(future + CitizenIdNumber.checkCharacter(future), "f"))
        .hasMessageContaining("future");
    String old = "110105" + "18991231" + "002";
    assertThatThrownBy(() -> CitizenIdNumber.parse(old + CitizenIdNumber.checkCharacter(old), "f"))
        .hasMessageContaining("1900");
    assertThatThrownBy(() -> CitizenIdNumber.parse(null, "f")).isInstanceOf(CaException.class);
  }
}
