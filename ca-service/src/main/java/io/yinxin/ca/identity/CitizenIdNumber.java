package io.yinxin.ca.identity;

import io.yinxin.ca.CaException;
import java.time.DateTimeException;
import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.time.format.ResolverStyle;

/**
 * A resident identity number (GB 11643-1999): 6-digit area code, 8-digit birth date, 3-digit
 * sequence (odd for men), and an ISO 7064 MOD 11-2 check character. Citizen certificates carry it
 * in the subject's {@code serialNumber}. {@link #toString()} masks it; {@link #value()} is the full
 * number, for the certificate only.
 *
 * @param value the 18 characters, check character upper case
 */
public record CitizenIdNumber(String value) {
  private static final int[] WEIGHTS = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  private static final String CHECK = "10X98765432";
  private static final DateTimeFormatter BIRTH =
      DateTimeFormatter.ofPattern("uuuuMMdd").withResolverStyle(ResolverStyle.STRICT);
  private static final LocalDate EARLIEST = LocalDate.of(1900, 1, 1);

  public CitizenIdNumber {
    validate(value, LocalDate.now(java.time.ZoneId.of("Asia/Shanghai")), "serialNumber");
  }

  /**
   * Parses and checks an ID number; a lower-case {@code x} check character is accepted.
   *
   * @param field the request field, named in the error
   * @throws CaException {@code INVALID_IDENTITY} saying which rule failed
   */
  public static CitizenIdNumber parse(String text, String field) {
    if (text == null) {
      throw invalid(field, "an ID number is required");
    }
    String v = text.strip();
    if (v.length() == 18 && v.charAt(17) == 'x') {
      v = v.substring(0, 17) + 'X';
    }
    validate(v, LocalDate.now(java.time.ZoneId.of("Asia/Shanghai")), field);
    return new CitizenIdNumber(v);
  }

  static void validate(String v, LocalDate today, String field) {
    if (v == null || v.length() != 18) {
      throw invalid(field, "an ID number has 18 characters");
    }
    for (int i = 0; i < 17; i++) {
      if (v.charAt(i) < '0' || v.charAt(i) > '9') {
        throw invalid(
            field, "characters 1-17 of an ID number are digits (position " + (i + 1) + ")");
      }
    }
    if (v.charAt(0) == '0') {
      throw invalid(field, "the area code does not exist (it starts with 0)");
    }
    LocalDate birth;
    try {
      birth = LocalDate.parse(v.substring(6, 14), BIRTH);
    } catch (DateTimeException e) {
      throw invalid(field, "characters 7-14 are not a valid birth date");
    }
    if (birth.isBefore(EARLIEST) || birth.isAfter(today)) {
      throw invalid(field, "the birth date is before 1900 or in the future");
    }
    char expected = checkCharacter(v.substring(0, 17));
    if (v.charAt(17) != expected) {
      throw invalid(field, "the check character (position 18) is wrong");
    }
  }

  /** The MOD 11-2 check character of the first 17 digits. */
  static char checkCharacter(String first17) {
    int sum = 0;
    for (int i = 0; i < 17; i++) {
      sum += (first17.charAt(i) - '0') * WEIGHTS[i];
    }
    return CHECK.charAt(sum % 11);
  }

  private static CaException invalid(String field, String why) {
    return new CaException(CaException.Code.INVALID_IDENTITY, field, why);
  }

  /** Birth date encoded in the number. */
  public LocalDate birthDate() {
    return LocalDate.parse(value.substring(6, 14), BIRTH);
  }

  /** Masked for logs: first 4 and last 4 characters, e.g. {@code 1101**********002X}. */
  public String masked() {
    return value.substring(0, 4) + "**********" + value.substring(14);
  }

  @Override
  public String toString() {
    return masked();
  }
}
