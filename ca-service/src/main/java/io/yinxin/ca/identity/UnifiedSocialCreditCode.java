package io.yinxin.ca.identity;

import io.yinxin.ca.CaException;

/**
 * A unified social credit code (GB 32100-2015): 18 characters from {@code
 * 0123456789ABCDEFGHJKLMNPQRTUWXY} (no I, O, S, V, Z), with a mod-31 check character; characters
 * 9-17 are the organisation code (GB 11714), which has its own mod-11 check. Enterprise
 * certificates carry it in the subject's {@code organizationIdentifier}. {@link #toString()} masks
 * it.
 *
 * @param value the 18 characters, upper case
 */
public record UnifiedSocialCreditCode(String value) {
  private static final String ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY";
  private static final int[] WEIGHTS = {
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28
  };
  private static final int[] ORG_WEIGHTS = {3, 7, 9, 10, 5, 8, 4, 2};

  public UnifiedSocialCreditCode {
    validate(value, "organizationIdentifier");
  }

  /**
   * Parses and checks a credit code (lower case accepted).
   *
   * @param field the request field, named in the error
   * @throws CaException {@code INVALID_IDENTITY} saying which rule failed
   */
  public static UnifiedSocialCreditCode parse(String text, String field) {
    if (text == null) {
      throw invalid(field, "a credit code is required");
    }
    String v = text.strip().toUpperCase(java.util.Locale.ROOT);
    validate(v, field);
    return new UnifiedSocialCreditCode(v);
  }

  static void validate(String v, String field) {
    if (v == null || v.length() != 18) {
      throw invalid(field, "a credit code has 18 characters");
    }
    int sum = 0;
    for (int i = 0; i < 18; i++) {
      int value = ALPHABET.indexOf(v.charAt(i));
      if (value < 0) {
        throw invalid(
            field, "position " + (i + 1) + " is not one of 0-9 and A-Y without I, O, S, V, Z");
      }
      if (i < 17) {
        sum += value * WEIGHTS[i];
      }
    }
    for (int i = 2; i < 8; i++) {
      if (!Character.isDigit(v.charAt(i))) {
        throw invalid(field, "positions 3-8 are the administrative area code (digits)");
      }
    }
    char org = organisationCheck(v.substring(8, 16));
    if (v.charAt(16) != org) {
      throw invalid(field, "the organisation code check character (position 17) is wrong");
    }
    char expected = ALPHABET.charAt((31 - sum % 31) % 31);
    if (v.charAt(17) != expected) {
      throw invalid(field, "the check character (position 18) is wrong");
    }
  }

  /** GB 11714 check character of the 8-character organisation code body. */
  static char organisationCheck(String body) {
    int sum = 0;
    for (int i = 0; i < 8; i++) {
      char c = body.charAt(i);
      int value = Character.isDigit(c) ? c - '0' : c - 'A' + 10;
      sum += value * ORG_WEIGHTS[i];
    }
    int c = 11 - sum % 11;
    return c == 10 ? 'X' : c == 11 ? '0' : (char) ('0' + c);
  }

  /** The mod-31 check character of the first 17 characters. */
  static char checkCharacter(String first17) {
    int sum = 0;
    for (int i = 0; i < 17; i++) {
      sum += ALPHABET.indexOf(first17.charAt(i)) * WEIGHTS[i];
    }
    return ALPHABET.charAt((31 - sum % 31) % 31);
  }

  private static CaException invalid(String field, String why) {
    return new CaException(CaException.Code.INVALID_IDENTITY, field, why);
  }

  /** Masked for logs: first 4 and last 4 characters. */
  public String masked() {
    return value.substring(0, 4) + "**********" + value.substring(14);
  }

  @Override
  public String toString() {
    return masked();
  }
}
