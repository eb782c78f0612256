package io.yinxin.sso.account;

import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.sso.account.PasswordRules.Problem;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.springframework.security.crypto.password.PasswordEncoder;

/**
 * The rules a new password meets (NIST SP 800-63B) and the NFKC form passwords are compared in. The
 * normalization cases are Unicode's own mappings, written out here as code points: full-width Latin
 * letters and digits (U+FF01–FF5E) and the ideographic space (U+3000) are compatibility forms of
 * ASCII, and "e" + U+0301 composes to U+00E9.
 */
class PasswordRulesTest {
  @Test
  void lengthIsCountedInCodePointsAfterNormalizing() {
    assertThat(PasswordRules.check("zhangsan", "eleven char")).contains(Problem.SHORT);
    assertThat(PasswordRules.check("zhangsan", "twelve chars"))
        .isNotEqualTo(Optional.of(Problem.SHORT));
    // Six emoji are twelve UTF-16 units but six characters.
    assertThat(
            PasswordRules.check(
                "zhangsan",
                "\uD83D\uDE00".repeat(2) + "\uD83C\uDF89\uD83D\uDE80\uD83C\uDF1F\uD83D\uDD11"))
        .contains(Problem.SHORT);
    // Twelve Chinese characters are twelve.
    assertThat(PasswordRules.check("zhangsan", "春眠不觉晓处处闻啼鸟夜来风")).isEmpty();
    assertThat(PasswordRules.check("zhangsan", "x".repeat(199) + "y"))
        .isNotEqualTo(Optional.of(Problem.LONG));
    assertThat(PasswordRules.check("zhangsan", "x".repeat(200) + "y")).contains(Problem.LONG);
    assertThat(PasswordRules.check("zhangsan", null)).contains(Problem.SHORT);
  }

  @Test
  void aPasswordMayNotContainTheUsername() {
    assertThat(PasswordRules.check("zhangsan", "ZhangSan 2024!")).contains(Problem.NAME);
    assertThat(PasswordRules.check("zhangsan", "my zhangsan pass")).contains(Problem.NAME);
    // Typed full-width, it is the same name.
    assertThat(
            PasswordRules.check(
                "zhangsan", "\uFF5A\uFF48\uFF41\uFF4E\uFF47\uFF53\uFF41\uFF4E 2024!"))
        .contains(Problem.NAME);
    // A name of two or three characters turns up in good passphrases by chance.
    assertThat(PasswordRules.check("li", "reliable old bridge"))
        .isNotEqualTo(Optional.of(Problem.NAME));
    assertThat(PasswordRules.check("wangwu", "reliable old bridge"))
        .isNotEqualTo(Optional.of(Problem.NAME));
  }

  @Test
  void repeatsAndRunsAreRefused() {
    for (String p :
        new String[] {
          "aaaaaaaaaaaa", "abababababab", "123123123123", "abcdabcdabcd", "!!!!!!!!!!!!!!!"
        }) {
      assertThat(PasswordRules.check("zhangsan", p)).as(p).contains(Problem.REPETITIVE);
    }
    for (String p :
        new String[] {
          "123456789012",
          "1234567890".repeat(20),
          "0987654321098",
          "abcdefghijklm",
          "ZYXWVUTSRQPON",
          "qwertyuiopasdf",
          "asdfghjkl;'as",
          "1qaz2wsx3edc4rfv",
          "qazwsxedcrfvtgb",
          "`1234567890-=",
          // Full-width digits are digits.
          "\uFF11\uFF12\uFF13\uFF14\uFF15\uFF16\uFF17\uFF18\uFF19\uFF10\uFF11\uFF12"
        }) {
      assertThat(PasswordRules.check("zhangsan", p)).as(p).contains(Problem.SEQUENCE);
    }
    // Five different characters repeated, or a run with anything else in it, may be used.
    // (Whether they are easy to guess is the next rule's question.)
    for (String p : new String[] {"abcdeabcdeab", "123456789012x"}) {
      assertThat(PasswordRules.check("zhangsan", p))
          .as(p)
          .isNotIn(Optional.of(Problem.REPETITIVE), Optional.of(Problem.SEQUENCE));
    }
    assertThat(PasswordRules.check("zhangsan", "correct horse battery staple")).isEmpty();
  }

  @Test
  void passwordsThatAreEasyToGuessAreRefused() {
    // Long enough and no plain run or repeat, yet among the first an attacker tries: common
    // passwords with a year or digits, l33t, dictionary words, English names with dates, and
    // what Chinese passwords are made of (pinyin phrases, 5201314, the commonest names).
    for (String p :
        new String[] {
          "password1234",
          "Password123!",
          "P@ssw0rd2024!",
          "iloveyou2012",
          "baseball2012",
          "dragon123456",
          "Welcome12345",
          "administrator1",
          "michael19850612",
          "woaini5201314",
          "woainiwangfang",
          "zhangwei19900101",
          "wangfang1988",
          "yinxin123456",
          "shanghai19491001"
        }) {
      assertThat(PasswordRules.check("someone", p)).as(p).contains(Problem.GUESSABLE);
    }
    // The account's own name with a little more, below the length the name rule looks at.
    assertThat(PasswordRules.guesses("wuwu12345678", "wuwu")).isLessThan(PasswordRules.MIN_GUESSES);
    // Passphrases of unrelated words, a line of verse, random text: not refused.
    for (String p :
        new String[] {
          "correct horse battery staple",
          "another good passphrase",
          "policy says two factors",
          "春眠不觉晓处处闻啼鸟夜来风",
          "violet kettle under 9 bridges",
          "mQ7#tz!Pk2vW"
        }) {
      assertThat(PasswordRules.check("someone", p)).as(p).isEmpty();
    }
    // Only the first 64 characters are measured (zxcvbn's time grows fast with length): a
    // strong tail does not make a weak start strong (measured whole, this one would pass).
    String random = "Zt4!qW8#mN2$vB6%xC0^".repeat(10);
    assertThat(PasswordRules.check("someone", random)).isEmpty();
    assertThat(
            PasswordRules.check(
                "someone", "password1234" + "a".repeat(60) + random.substring(0, 100)))
        .contains(Problem.GUESSABLE);
  }

  @Test
  void theSamePasswordInAnotherUnicodeSpellingVerifies() {
    PasswordEncoder encoder = Accounts.passwords();
    String typed = "caf\u00E9 on the hill"; // é as one code point
    String hash = encoder.encode(typed);
    assertThat(encoder.matches("cafe\u0301 on the hill", hash)).isTrue(); // e + combining acute
    // Full-width letters, digits and the ideographic space, as a Chinese input method types them.
    String ascii = "open sesame 42";
    String wide =
        "\uFF4F\uFF50\uFF45\uFF4E\u3000\uFF53\uFF45\uFF53\uFF41\uFF4D\uFF45\u3000\uFF14\uFF12";
    String asciiHash = encoder.encode(ascii);
    assertThat(encoder.matches(wide, asciiHash)).isTrue();
    assertThat(encoder.matches("open sesame 43", asciiHash)).isFalse();
    assertThat(encoder.matches(null, asciiHash)).isFalse();
  }

  @Test
  void aHashOfThePasswordAsTypedBeforeNormalizingStillVerifies() {
    // A hash stored before passwords were normalized: Argon2id of the full-width text itself.
    Argon2idPasswords plain = new Argon2idPasswords(16, 32, 1, 7 * 1024, 5);
    String wide = "\uFF50\uFF41\uFF53\uFF53\u3000\uFF57\uFF4F\uFF52\uFF44\uFF11\uFF12";
    String legacy = plain.encode(wide);
    assertThat(plain.matches("pass word12", legacy)).isFalse();
    PasswordEncoder encoder = Accounts.passwords();
    assertThat(encoder.matches(wide, legacy)).isTrue();
    // New hashes are of the normalized form: the plain encoder accepts the ASCII spelling.
    assertThat(plain.matches("pass word12", encoder.encode(wide))).isTrue();
    assertThat(Optional.of(PasswordRules.normalized(wide))).contains("pass word12");
  }
}
