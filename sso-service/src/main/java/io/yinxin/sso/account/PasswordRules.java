package io.yinxin.sso.account;

import java.text.Normalizer;
import java.util.Locale;
import java.util.Optional;
import org.springframework.security.crypto.password.PasswordEncoder;

/**
 * What a new password must be, after NIST SP 800-63B: at least 12 characters and at most 200,
 * counted as Unicode code points, not containing the account's name (of four characters or more),
 * not a run of a few characters repeated, not a stretch of the alphabet, the digits or a keyboard
 * row. No rules of composition (NIST: they do not help), no expiry. A password is compared in
 * Unicode NFKC (NIST's "SHOULD"): the same password typed as composed or decomposed characters, or
 * in the full-width forms a Chinese input method gives ("ｐａｓｓ１２３"), is the same password.
 */
public final class PasswordRules {
  /** Why a new password is refused. */
  public enum Problem {
    SHORT("密码需要至少 12 个字符。", "A password needs at least 12 characters."),
    LONG("密码最多 200 个字符。", "A password has at most 200 characters."),
    NAME("密码不能包含用户名。", "A password must not contain the username."),
    REPETITIVE(
        "密码不能是几个字符的重复（如 aaaa… 或 abab…）。",
        "A password must not be a few characters repeated (like aaaa… or abab…)."),
    SEQUENCE(
        "密码不能是连续的字母、数字或键盘上的一排键（如 123456… 或 qwerty…）。",
        "A password must not be a run of letters, digits or keyboard keys (like 123456… or"
            + " qwerty…)."),
    GUESSABLE(
        "密码太容易被猜到（常见密码、词语、姓名、拼音、日期或键盘规律）。几个不相关的词连在一起更长也更难猜。",
        "This password is too easy to guess (a common password, words, names, pinyin, dates or"
            + " keyboard patterns). A few unrelated words together make a longer, harder one."),
    BREACHED(
        "此密码出现在已泄露的密码库中，攻击者会最先尝试它。请换一个。",
        "This password is in a list of passwords exposed in data breaches, which attackers try"
            + " first. Choose another."),
    SAME("新密码不能与当前密码相同。", "The new password must differ from the current one.");

    private final String zh;
    private final String en;

    Problem(String zh, String en) {
      this.zh = zh;
      this.en = en;
    }

    /** What the page says, in Chinese or English. */
    public String message(boolean chinese) {
      return chinese ? zh : en;
    }
  }

  static final int MIN = 12;
  static final int MAX = 200;

  /**
   * Runs a password must not be part of, forwards or backwards: the digits, the alphabet, the rows
   * and columns of a QWERTY keyboard, each written out again and again past the longest password,
   * so a run may wrap round as often as it likes.
   */
  private static final String[] RUNS =
      java.util.stream.Stream.of(
              "0123456789",
              "abcdefghijklmnopqrstuvwxyz",
              "`1234567890-=",
              "qwertyuiop[]\\",
              "asdfghjkl;'",
              "zxcvbnm,./",
              "qwertyuiopasdfghjklzxcvbnm",
              "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/",
              "qazwsxedcrfvtgbyhnujmikolp")
          .map(r -> r.repeat((MAX + r.length()) / r.length() + 1))
          .toArray(String[]::new);

  /** A repeated unit of at most this many characters makes a password repetitive. */
  private static final int MAX_UNIT = 4;

  private PasswordRules() {}

  /** The one form a password is hashed and compared in. */
  public static String normalized(CharSequence password) {
    return Normalizer.normalize(password, Normalizer.Form.NFKC);
  }

  /** Why {@code password} may not be the new password of {@code username}; empty if it may. */
  public static Optional<Problem> check(String username, String password) {
    if (password == null) {
      return Optional.of(Problem.SHORT);
    }
    String p = normalized(password);
    int length = p.codePointCount(0, p.length());
    if (length < MIN) {
      return Optional.of(Problem.SHORT);
    }
    if (length > MAX) {
      return Optional.of(Problem.LONG);
    }
    String folded = p.toLowerCase(Locale.ROOT);
    // A short name (li, wu) would turn up inside many good passphrases by chance.
    String name = username == null ? "" : normalized(username).toLowerCase(Locale.ROOT);
    if (name.codePointCount(0, name.length()) >= 4 && folded.contains(name)) {
      return Optional.of(Problem.NAME);
    }
    if (repetitive(folded)) {
      return Optional.of(Problem.REPETITIVE);
    }
    String reversed = new StringBuilder(folded).reverse().toString();
    for (String run : RUNS) {
      if (run.contains(folded) || run.contains(reversed)) {
        return Optional.of(Problem.SEQUENCE);
      }
    }
    if (guesses(p, name) < MIN_GUESSES) {
      return Optional.of(Problem.GUESSABLE);
    }
    return Optional.empty();
  }

  /**
   * At least this many guesses (zxcvbn's score 3, "safely unguessable"): enough that an attacker
   * who stole the Argon2id hashes, at some ten thousand guesses a second, spends days on it.
   */
  static final double MIN_GUESSES = 1e8;

  /**
   * zxcvbn reads at most this many characters: its time grows fast with length (4.7 s for 200
   * random characters here, 12–20 ms for 64), and a password that is strong only after its first 64
   * characters is no strong password.
   */
  static final int MEASURED = 64;

  /**
   * Dropbox's zxcvbn (zxcvbn4j): its lists (30,000 common passwords, English words, names, film and
   * television) and patterns (keyboards, dates, l33t, repeats), and a list of what Chinese
   * passwords are made of that its lists do not know ({@code common-chinese.txt}).
   */
  private static final class Estimator {
    // Loaded on the first new password, not when the encoder above is built at every start: the
    // lists take a few hundred milliseconds and some megabytes.
    static final com.nulabinc.zxcvbn.Zxcvbn INSTANCE = estimator();
  }

  private static com.nulabinc.zxcvbn.Zxcvbn estimator() {
    try (var in = PasswordRules.class.getResourceAsStream("common-chinese.txt")) {
      java.util.List<String> words =
          new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)
              .lines()
              .map(String::strip)
              .filter(l -> !l.isEmpty() && !l.startsWith("#"))
              .distinct()
              .toList();
      return new com.nulabinc.zxcvbn.ZxcvbnBuilder()
          .dictionaries(com.nulabinc.zxcvbn.StandardDictionaries.loadAllDictionaries())
          .dictionary(new com.nulabinc.zxcvbn.matchers.Dictionary("common_chinese", words))
          .keyboards(com.nulabinc.zxcvbn.StandardKeyboards.loadAllKeyboards())
          .build();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** How many guesses zxcvbn reckons {@code p} takes, the account's name and this site known. */
  static double guesses(String p, String name) {
    int end = p.offsetByCodePoints(0, Math.min(MEASURED, p.codePointCount(0, p.length())));
    java.util.List<String> known = new java.util.ArrayList<>(java.util.List.of("yinxin", "印信"));
    if (!name.isEmpty()) {
      known.add(name);
    }
    return Estimator.INSTANCE.measure(p.substring(0, end), known).getGuesses();
  }

  /** A unit of one to four code points written again and again ("aaaa…", "abab…", "1234 1234…"). */
  private static boolean repetitive(String p) {
    int[] cps = p.codePoints().toArray();
    for (int unit = 1; unit <= MAX_UNIT; unit++) {
      boolean repeats = true;
      for (int i = unit; i < cps.length && repeats; i++) {
        repeats = cps[i] == cps[i - unit];
      }
      if (repeats) {
        return true;
      }
    }
    return false;
  }

  /**
   * An encoder that hashes and compares the NFKC form. A hash stored before passwords were
   * normalized (of the password as typed) still verifies: when normalizing changes what was typed,
   * what was typed is tried as well.
   */
  static PasswordEncoder normalizing(PasswordEncoder hashes) {
    return new PasswordEncoder() {
      @Override
      public String encode(CharSequence raw) {
        return hashes.encode(normalized(raw));
      }

      @Override
      public boolean matches(CharSequence raw, String encoded) {
        if (raw == null) {
          return false;
        }
        String n = normalized(raw);
        return hashes.matches(n, encoded)
            || (!n.contentEquals(raw) && hashes.matches(raw, encoded));
      }

      @Override
      public boolean upgradeEncoding(String encoded) {
        return hashes.upgradeEncoding(encoded);
      }
    };
  }
}
