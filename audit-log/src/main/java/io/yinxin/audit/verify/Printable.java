package io.yinxin.audit.verify;

/**
 * Text from a bundle or a log, made safe to print on an auditor's terminal. An event's subject, a
 * served checkpoint or an error message may hold control characters: ESC sequences that move the
 * cursor, erase lines or hide all later output, a carriage return that overwrites the line, or
 * bidirectional overrides that show text in another order than it is (CVE-2021-42574). A bundle
 * with one failing entry could then end in a screen that reads "VERDICT: VALID". Each such
 * character is shown as {@code \\u} and its four hex digits instead.
 */
final class Printable {
  private Printable() {}

  /** One line: every control character escaped, line breaks included. */
  static String line(String s) {
    return escape(s, false);
  }

  /** Text of several lines (a checkpoint note): line feeds kept, everything else escaped. */
  static String text(String s) {
    return escape(s, true);
  }

  /** A value inside {@code key="..."} in a log line: also its quotes and backslashes. */
  static String quoted(String s) {
    String l = line(String.valueOf(s));
    return l.replace("\\", "\\\\").replace("\"", "\\\"");
  }

  private static String escape(String s, boolean keepLineFeeds) {
    int k = 0;
    while (k < s.length() && !unsafe(s.charAt(k), keepLineFeeds)) {
      k++;
    }
    if (k == s.length()) {
      return s;
    }
    StringBuilder sb = new StringBuilder(s.length() + 16).append(s, 0, k);
    for (; k < s.length(); k++) {
      char c = s.charAt(k);
      if (unsafe(c, keepLineFeeds)) {
        sb.append(String.format("\\u%04x", (int) c));
      } else {
        sb.append(c);
      }
    }
    return sb.toString();
  }

  /**
   * C0 and C1 controls and DEL; the bidirectional marks, embeddings, overrides and isolates; the
   * Unicode line and paragraph separators.
   */
  static boolean unsafe(char c, boolean keepLineFeeds) {
    if (c == '\n') {
      return !keepLineFeeds;
    }
    return c < 0x20
        || (c >= 0x7f && c <= 0x9f)
        || c == 0x061c
        || c == 0x200e
        || c == 0x200f
        || (c >= 0x202a && c <= 0x202e)
        || (c >= 0x2066 && c <= 0x2069)
        || c == 0x2028
        || c == 0x2029;
  }
}
