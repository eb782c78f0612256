package io.yinxin.ca.issue;

import java.text.Normalizer;
import java.util.Optional;

/**
 * Punycode (RFC 3492), to tell a real IDN A-label from an {@code xn--} label that only looks like
 * one. Written here because the JDK has only {@code java.net.IDN}, which is IDNA2003: it maps
 * before encoding (ß becomes ss), refuses anything newer than Unicode 3.2, and returns an
 * undecodable label unchanged instead of failing — so it can neither accept every IDNA2008 label
 * nor say that a label does not decode. Tested against RFC 3492's sample strings (§7.1) and
 * Python's codec.
 */
final class Punycode {
  private static final int BASE = 36;
  private static final int TMIN = 1;
  private static final int TMAX = 26;
  private static final int SKEW = 38;
  private static final int DAMP = 700;
  private static final int INITIAL_BIAS = 72;
  private static final int INITIAL_N = 128;

  private Punycode() {}

  /**
   * Whether {@code label} (lower case) is an A-label: {@code xn--} and the exact Punycode of a
   * U-label that holds a character outside ASCII, is in NFC, and has only lower-case letters,
   * digits, combining marks and inner hyphens (not in the third and fourth place). IDNA2008's
   * per-code-point table, its contextual rules and its bidi rule are not checked.
   */
  static boolean isALabel(String label) {
    if (!label.startsWith("xn--")) {
      return false;
    }
    String encoded = label.substring(4);
    Optional<String> u = decode(encoded);
    if (u.isEmpty() || !encode(u.get()).map(encoded::equals).orElse(false)) {
      return false;
    }
    String s = u.get();
    if (s.codePoints().allMatch(c -> c < 0x80)
        || !Normalizer.isNormalized(s, Normalizer.Form.NFC)
        || s.startsWith("-")
        || s.endsWith("-")
        || (s.length() >= 4 && s.charAt(2) == '-' && s.charAt(3) == '-')) {
      return false;
    }
    return s.codePoints().allMatch(Punycode::allowed);
  }

  private static boolean allowed(int c) {
    if (c == '-') {
      return true;
    }
    if (c < 0x80) {
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    }
    int type = Character.getType(c);
    return type == Character.LOWERCASE_LETTER
        || type == Character.OTHER_LETTER
        || type == Character.MODIFIER_LETTER
        || type == Character.DECIMAL_DIGIT_NUMBER
        || type == Character.NON_SPACING_MARK
        || type == Character.COMBINING_SPACING_MARK;
  }

  /** The code points {@code input} (basic code points, a-z and 0-9 digits) encodes, if valid. */
  static Optional<String> decode(String input) {
    int b = input.lastIndexOf('-');
    int[] points = new int[input.length()];
    int count = 0;
    for (int j = 0; j < Math.max(b, 0); j++) {
      char c = input.charAt(j);
      if (c >= 0x80) {
        return Optional.empty();
      }
      points[count++] = c;
    }
    long n = INITIAL_N;
    long i = 0;
    int bias = INITIAL_BIAS;
    int in = b > 0 ? b + 1 : 0;
    while (in < input.length()) {
      long oldi = i;
      long w = 1;
      for (int k = BASE; ; k += BASE) {
        if (in >= input.length()) {
          return Optional.empty();
        }
        int digit = digit(input.charAt(in++));
        if (digit < 0) {
          return Optional.empty();
        }
        i += digit * w;
        if (i > Integer.MAX_VALUE) {
          return Optional.empty();
        }
        int t = k <= bias ? TMIN : k >= bias + TMAX ? TMAX : k - bias;
        if (digit < t) {
          break;
        }
        w *= BASE - t;
        if (w > Integer.MAX_VALUE) {
          return Optional.empty();
        }
      }
      bias = adapt(i - oldi, count + 1, oldi == 0);
      n += i / (count + 1);
      i %= count + 1;
      if (n > Character.MAX_CODE_POINT || (n >= 0xD800 && n <= 0xDFFF)) {
        return Optional.empty();
      }
      if (count == points.length) {
        points = java.util.Arrays.copyOf(points, count * 2 + 1);
      }
      System.arraycopy(points, (int) i, points, (int) i + 1, count - (int) i);
      points[(int) i] = (int) n;
      count++;
      i++;
    }
    return Optional.of(new String(points, 0, count));
  }

  /** The Punycode of {@code input}, or empty if it would overflow. */
  static Optional<String> encode(String input) {
    int[] points = input.codePoints().toArray();
    StringBuilder out = new StringBuilder();
    for (int c : points) {
      if (c < 0x80) {
        out.append((char) c);
      }
    }
    int b = out.length();
    int h = b;
    if (b > 0) {
      out.append('-');
    }
    long n = INITIAL_N;
    long delta = 0;
    int bias = INITIAL_BIAS;
    while (h < points.length) {
      long m = Long.MAX_VALUE;
      for (int c : points) {
        if (c >= n && c < m) {
          m = c;
        }
      }
      delta += (m - n) * (h + 1);
      if (delta > Integer.MAX_VALUE) {
        return Optional.empty();
      }
      n = m;
      for (int c : points) {
        if (c < n) {
          delta++;
        }
        if (c == n) {
          long q = delta;
          for (int k = BASE; ; k += BASE) {
            int t = k <= bias ? TMIN : k >= bias + TMAX ? TMAX : k - bias;
            if (q < t) {
              break;
            }
            out.append(digitChar((int) (t + (q - t) % (BASE - t))));
            q = (q - t) / (BASE - t);
          }
          out.append(digitChar((int) q));
          bias = adapt(delta, h + 1, h == b);
          delta = 0;
          h++;
        }
      }
      delta++;
      n++;
    }
    return Optional.of(out.toString());
  }

  private static int adapt(long delta, int points, boolean first) {
    delta = first ? delta / DAMP : delta / 2;
    delta += delta / points;
    int k = 0;
    while (delta > ((BASE - TMIN) * TMAX) / 2) {
      delta /= BASE - TMIN;
      k += BASE;
    }
    return (int) (k + (BASE - TMIN + 1) * delta / (delta + SKEW));
  }

  /** a-z are 0-25, 0-9 are 26-35; anything else (upper case included: labels are lower) is not. */
  private static int digit(char c) {
    if (c >= 'a' && c <= 'z') {
      return c - 'a';
    }
    if (c >= '0' && c <= '9') {
      return c - '0' + 26;
    }
    return -1;
  }

  private static char digitChar(int d) {
    return (char) (d < 26 ? 'a' + d : '0' + d - 26);
  }
}
