package io.yinxin.sso.account;

import java.text.Normalizer;
import java.util.Locale;

/**
 * What a name shown to people (a display name, a legal name) may hold: NFC, no control, format (a
 * right-to-left override draws "三张" for "张三"), private-use, unassigned or separator characters, no
 * leading or trailing space. The CA holds certificate names to the same rule.
 */
public final class DisplayText {
  private DisplayText() {}

  /** Why {@code s} is refused, or null when it is acceptable. */
  public static String problem(String s) {
    if (!s.equals(s.strip())) {
      return "no leading or trailing spaces";
    }
    for (int i = 0; i < s.length(); ) {
      int cp = s.codePointAt(i);
      switch (Character.getType(cp)) {
        case Character.CONTROL,
            Character.FORMAT,
            Character.PRIVATE_USE,
            Character.SURROGATE,
            Character.UNASSIGNED,
            Character.LINE_SEPARATOR,
            Character.PARAGRAPH_SEPARATOR -> {
          return String.format(Locale.ROOT, "no control or invisible character (U+%04X)", cp);
        }
        default -> i += Character.charCount(cp);
      }
    }
    if (!Normalizer.isNormalized(s, Normalizer.Form.NFC)) {
      return "in Unicode normalization form NFC";
    }
    return null;
  }
}
