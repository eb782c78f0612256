package io.yinxin.sso.realname;

import java.time.DateTimeException;
import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.time.format.ResolverStyle;
import java.util.Optional;

/**
 * A resident identity number (GB 11643-1999): 6-digit area code, 8-digit birth date, 3-digit
 * sequence, and the ISO 7064 MOD 11-2 check character. One spelling only: a lower-case {@code x} is
 * written upper case, so two spellings of one number cannot be two people. {@link #toString()}
 * masks it ({@code 1101**********002X}); only {@link #value()} is the whole number.
 *
 * <p>ca-service checks the same rule for certificate subjects; services share no code, so the rule
 * is here too (a plain function, tested against the standard's example and its formula).
 */
public final class IdNumber {
  private static final int[] WEIGHTS = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  private static final String CHECK = "10X98765432";
  private static final DateTimeFormatter BIRTH =
      DateTimeFormatter.ofPattern("uuuuMMdd").withResolverStyle(ResolverStyle.STRICT);

  private final String value;

  private IdNumber(String value) {
    this.value = value;
  }

  /**
   * The number, or why it is not one.
   *
   * @param today the date that birth dates may not be after
   * @return the number; or empty with {@code why[0]} set
   */
  public static Optional<IdNumber> parse(String text, LocalDate today, String[] why) {
    String v = text == null ? "" : text.strip();
    if (v.length() == 18 && v.charAt(17) == 'x') {
      v = v.substring(0, 17) + 'X';
    }
    String problem = problem(v, today);
    if (problem != null) {
      why[0] = problem;
      return Optional.empty();
    }
    return Optional.of(new IdNumber(v));
  }

  static String problem(String v, LocalDate today) {
    if (v.length() != 18) {
      return "an ID number has 18 characters";
    }
    for (int i = 0; i < 17; i++) {
      if (v.charAt(i) < '0' || v.charAt(i) > '9') {
        return "characters 1-17 of an ID number are digits";
      }
    }
    if (v.charAt(0) == '0') {
      return "the area code does not exist";
    }
    LocalDate birth;
    try {
      birth = LocalDate.parse(v.substring(6, 14), BIRTH);
    } catch (DateTimeException e) {
      return "characters 7-14 are not a valid birth date";
    }
    if (birth.isBefore(LocalDate.of(1900, 1, 1)) || birth.isAfter(today)) {
      return "the birth date is before 1900 or in the future";
    }
    if (v.charAt(17) != checkCharacter(v)) {
      return "the check character is wrong";
    }
    return null;
  }

  /** The MOD 11-2 check character of the first 17 digits. */
  static char checkCharacter(String digits) {
    int sum = 0;
    for (int i = 0; i < 17; i++) {
      sum += (digits.charAt(i) - '0') * WEIGHTS[i];
    }
    return CHECK.charAt(sum % 11);
  }

  /** The whole number. */
  public String value() {
    return value;
  }

  /** First four and last four characters, the rest as {@code *}: {@code 1101**********002X}. */
  public String masked() {
    return mask(value);
  }

  /** Masks an ID number already known to be one. */
  public static String mask(String value) {
    return value.substring(0, 4) + "**********" + value.substring(14);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof IdNumber other && other.value.equals(value);
  }

  @Override
  public int hashCode() {
    return value.hashCode();
  }

  @Override
  public String toString() {
    return masked();
  }
}
