package io.yinxin.ca.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.yinxin.ca.CaException;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class UnifiedSocialCreditCodeTest {
  private static final String VALID = "91350100M000100Y43";
  private static final String ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY";

  @Test
  void theStandardsExampleIsValidAndMasked() {
    UnifiedSocialCreditCode code =
        UnifiedSocialCreditCode.parse(VALID, "subject.organizationIdentifier");
    assertThat(code.value()).isEqualTo(VALID);
    assertThat(code.masked())
        .isEqualTo("9135**********Y43".substring(0, 4) + "**********" + "0Y43");
    assertThat(UnifiedSocialCreditCode.parse(VALID.toLowerCase(java.util.Locale.ROOT), "f").value())
        .isEqualTo(VALID);
    assertThat(UnifiedSocialCreditCode.organisationCheck("M000100Y")).isEqualTo('4');
  }

  @Test
  void everySingleCharacterSubstitutionIsRefused() {
    int refused = 0;
    for (int pos = 0; pos < 18; pos++) {
      for (char c : ALPHABET.toCharArray()) {
        if (c == VALID.charAt(pos)) {
          continue;
        }
        String bad = VALID.substring(0, pos) + c + VALID.substring(pos + 1);
        assertThatThrownBy(() -> UnifiedSocialCreditCode.parse(bad, "f"))
            .as(bad)
            .isInstanceOf(CaException.class);
        refused++;
      }
    }
    assertThat(refused).isEqualTo(18 * 30);
  }

  @Test
  void everyAdjacentTranspositionIsRefusedAndRandomValidCodesAreAccepted() {
    SplittableRandom r = new SplittableRandom(32100);
    for (int n = 0; n < 5000; n++) {
      String code = random(r);
      assertThat(UnifiedSocialCreditCode.parse(code, "f").value()).isEqualTo(code);
      for (int pos = 0; pos < 17; pos++) {
        if (code.charAt(pos) == code.charAt(pos + 1)) {
          continue;
        }
        String swapped =
            code.substring(0, pos)
                + code.charAt(pos + 1)
                + code.charAt(pos)
                + code.substring(pos + 2);
        assertThatThrownBy(() -> UnifiedSocialCreditCode.parse(swapped, "f"))
            .as(swapped)
            .isInstanceOf(CaException.class);
      }
    }
  }

  /** A valid code: random authority and type, digits for the area, a checked organisation code. */
  static String random(SplittableRandom r) {
    StringBuilder sb = new StringBuilder();
    sb.append(ALPHABET.charAt(1 + r.nextInt(9))).append(ALPHABET.charAt(1 + r.nextInt(9)));
    for (int i = 0; i < 6; i++) {
      sb.append((char) ('0' + r.nextInt(10)));
    }
    StringBuilder org = new StringBuilder();
    for (int i = 0; i < 8; i++) {
      org.append(ALPHABET.charAt(r.nextInt(31)));
    }
    sb.append(org).append(UnifiedSocialCreditCode.organisationCheck(org.toString()));
    return sb.toString() + UnifiedSocialCreditCode.checkCharacter(sb.toString());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "91350100M000100Y4",
        "91350100M000100Y433",
        "91350100M000I00Y43",
        "91350100M000O00Y43",
        "9135010SM000100Y43",
        "91350100M000100Y53",
        "913501 0M000100Y43"
      })
  void malformedCodesAreRefusedWithTheFieldNamed(String bad) {
    assertThatThrownBy(() -> UnifiedSocialCreditCode.parse(bad, "subject.organizationIdentifier"))
        .isInstanceOfSatisfying(
            CaException.class,
            e -> {
              assertThat(e.code()).isEqualTo(CaException.Code.INVALID_IDENTITY);
              assertThat(e.field()).isEqualTo("subject.organizationIdentifier");
              if (bad.length() > 8) {
                assertThat(e.getMessage()).doesNotContain(bad.substring(2, 10));
              }
            });
  }
}
