package io.yinxin.ca.issue;

import io.yinxin.ca.CaException;
import io.yinxin.ca.identity.CitizenIdNumber;
import io.yinxin.ca.identity.UnifiedSocialCreditCode;
import io.yinxin.ca.profile.Profile;
import io.yinxin.ca.profile.SanRule;
import io.yinxin.ca.profile.SubjectTemplate;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.DERPrintableString;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;

/**
 * Builds a certificate's subject and alternative names from a profile and checked request fields.
 * Values go into the name as typed ASN.1 strings, never through string parsing, so a value such as
 * {@code "x,CN=evil"} stays one literal value.
 */
public final class Names {
  private static final Pattern LABEL = Pattern.compile("[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?");
  private static final Pattern EMAIL_LOCAL =
      Pattern.compile("[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}");

  private Names() {}

  /** The checked subject and alternative names of one request. */
  public record Checked(X500Name subject, Optional<GeneralNames> san, String summary) {}

  /**
   * Checks the request fields and names against the profile and builds the names.
   *
   * @param fields subject fields ({@code name}, {@code idNumber}, ...)
   * @param dns requested DNS names
   * @param emails requested e-mail addresses
   * @throws CaException naming the field and what is wrong
   */
  public static Checked build(
      Profile profile, Map<String, String> fields, List<String> dns, List<String> emails) {
    SubjectTemplate t = profile.subject();
    t.checkNoExtraFields(fields.keySet());
    List<String> dnsNames = dnsNames(profile.san(), dns);
    List<String> mails = emails(profile.san(), emails);
    if (dnsNames.size() + mails.size() > Math.max(1, profile.san().maxNames())) {
      throw new CaException(
          CaException.Code.INVALID_REQUEST,
          "san",
          "at most " + profile.san().maxNames() + " alternative names");
    }
    X500NameBuilder b = new X500NameBuilder(BCStyle.INSTANCE);
    StringBuilder summary = new StringBuilder();
    for (SubjectTemplate.Attribute a : t.attributes()) {
      ASN1Encodable value;
      String shown;
      if (!a.isField()) {
        value = encode(a, a.literal());
        shown = a.literal();
      } else if (a.field().equals("dns")) {
        if (dnsNames.isEmpty()) {
          throw new CaException(
              CaException.Code.INVALID_REQUEST, "san.dns", "at least one DNS name is required");
        }
        if (dnsNames.get(0).length() > UB_COMMON_NAME) {
          // RFC 5280 ub-common-name is 64: the name stays in the SAN, the CN is left out.
          continue;
        }
        value = new DERUTF8String(dnsNames.get(0));
        shown = dnsNames.get(0);
      } else {
        String raw = fields.get(a.field());
        if (raw == null) {
          throw new CaException(
              CaException.Code.INVALID_REQUEST, "subject." + a.field(), "is required");
        }
        switch (a.field()) {
          case "idNumber" -> {
            CitizenIdNumber id = CitizenIdNumber.parse(raw, "subject.idNumber");
            value = new DERPrintableString(id.value());
            shown = id.masked();
          }
          case "creditCode" -> {
            UnifiedSocialCreditCode c = UnifiedSocialCreditCode.parse(raw, "subject.creditCode");
            value = encode(a, c.value());
            shown = c.masked();
          }
          default -> {
            int max = a.field().equals("locality") || a.field().equals("province") ? 128 : 64;
            String text = text(raw, "subject." + a.field(), max);
            value = encode(a, text);
            shown = text;
          }
        }
      }
      b.addRDN(a.oid(), value);
      if (summary.length() > 0) {
        summary.append(',');
      }
      summary.append(a.name()).append('=').append(shown);
    }
    List<GeneralName> gn = new ArrayList<>();
    for (String d : dnsNames) {
      gn.add(new GeneralName(GeneralName.dNSName, d));
    }
    for (String m : mails) {
      gn.add(new GeneralName(GeneralName.rfc822Name, m));
    }
    Optional<GeneralNames> san =
        gn.isEmpty()
            ? Optional.empty()
            : Optional.of(new GeneralNames(gn.toArray(GeneralName[]::new)));
    return new Checked(b.build(), san, summary.toString());
  }

  private static ASN1Encodable encode(SubjectTemplate.Attribute a, String v) {
    if (a.name().equals("C") || a.name().equals("serialNumber")) {
      if (!DERPrintableString.isPrintableString(v)) {
        throw new CaException(
            CaException.Code.INVALID_REQUEST, "subject." + a.name(), "must be printable ASCII");
      }
      return new DERPrintableString(v);
    }
    return new DERUTF8String(v);
  }

  /** RFC 5280 upper bound of a commonName (ub-common-name). */
  static final int UB_COMMON_NAME = 64;

  /**
   * Code points that render as nothing although Unicode calls them letters or marks: Hangul
   * fillers, the braille blank, the combining grapheme joiner, the Mongolian vowel separator.
   */
  private static boolean isFiller(int cp) {
    return cp == 0x115F
        || cp == 0x1160
        || cp == 0x3164
        || cp == 0xFFA0
        || cp == 0x2800
        || cp == 0x034F
        || cp == 0x180E;
  }

  private static boolean isVariationSelector(int cp) {
    return (cp >= 0xFE00 && cp <= 0xFE0F) || (cp >= 0xE0100 && cp <= 0xE01EF);
  }

  /** Something a reader sees: a letter, digit, symbol or punctuation that is not a filler. */
  private static boolean isVisible(int cp) {
    if (isFiller(cp)) {
      return false;
    }
    return switch (Character.getType(cp)) {
      case Character.UPPERCASE_LETTER,
          Character.LOWERCASE_LETTER,
          Character.TITLECASE_LETTER,
          Character.MODIFIER_LETTER,
          Character.OTHER_LETTER,
          Character.DECIMAL_DIGIT_NUMBER,
          Character.LETTER_NUMBER,
          Character.OTHER_NUMBER,
          Character.MATH_SYMBOL,
          Character.CURRENCY_SYMBOL,
          Character.MODIFIER_SYMBOL,
          Character.OTHER_SYMBOL,
          Character.CONNECTOR_PUNCTUATION,
          Character.DASH_PUNCTUATION,
          Character.START_PUNCTUATION,
          Character.END_PUNCTUATION,
          Character.INITIAL_QUOTE_PUNCTUATION,
          Character.FINAL_QUOTE_PUNCTUATION,
          Character.OTHER_PUNCTUATION ->
          true;
      default -> false;
    };
  }

  /**
   * A free-text value: 1..max characters in Unicode NFC (one spelling per name: a name sent
   * decomposed is another byte string for the same text), no control, format, private-use, filler
   * or variation-selector characters, no surrounding spaces, starting with something visible (not a
   * combining mark). Chinese and other scripts are welcome.
   */
  static String text(String raw, String field, int max) {
    if (!java.text.Normalizer.isNormalized(raw, java.text.Normalizer.Form.NFC)) {
      throw new CaException(
          CaException.Code.INVALID_REQUEST, field, "must be in Unicode normalization form NFC");
    }
    if (raw.isEmpty() || raw.codePointCount(0, raw.length()) > max) {
      throw new CaException(
          CaException.Code.INVALID_REQUEST, field, "must be 1-" + max + " characters");
    }
    if (!raw.equals(raw.strip())) {
      throw new CaException(
          CaException.Code.INVALID_REQUEST, field, "must not start or end with spaces");
    }
    for (int i = 0; i < raw.length(); ) {
      int cp = raw.codePointAt(i);
      int type = Character.getType(cp);
      if (Character.isISOControl(cp)
          || type == Character.FORMAT
          || type == Character.PRIVATE_USE
          || type == Character.SURROGATE
          || type == Character.UNASSIGNED
          || type == Character.LINE_SEPARATOR
          || type == Character.PARAGRAPH_SEPARATOR
          || isFiller(cp)
          || isVariationSelector(cp)) {
        throw new CaException(
            CaException.Code.INVALID_REQUEST,
            field,
            "contains a control or invisible character (U+"
                + String.format(java.util.Locale.ROOT, "%04X", cp)
                + ")");
      }
      i += Character.charCount(cp);
    }
    if (!isVisible(raw.codePointAt(0))) {
      throw new CaException(
          CaException.Code.INVALID_REQUEST,
          field,
          "must start with a visible character (not a space, mark or filler)");
    }
    return raw;
  }

  static List<String> dnsNames(SanRule rule, List<String> requested) {
    if (requested.isEmpty()) {
      if (rule.dns() == SanRule.Presence.REQUIRED) {
        throw new CaException(
            CaException.Code.INVALID_REQUEST, "san.dns", "at least one DNS name is required");
      }
      return List.of();
    }
    if (rule.dns() == SanRule.Presence.FORBIDDEN) {
      throw new CaException(
          CaException.Code.INVALID_REQUEST, "san.dns", "this profile takes no DNS names");
    }
    LinkedHashSet<String> out = new LinkedHashSet<>();
    for (String raw : requested) {
      String d = dnsName(raw);
      if (!rule.allowedDomains().isEmpty()
          && rule.allowedDomains().stream().noneMatch(a -> d.equals(a) || d.endsWith("." + a))) {
        throw new CaException(
            CaException.Code.INVALID_REQUEST,
            "san.dns",
            "'" + d + "' is outside the domains this CA may certify");
      }
      out.add(d);
    }
    return List.copyOf(out);
  }

  /**
   * A DNS name in the preferred name syntax (RFC 1034 §3.5, RFC 5280 §4.2.1.6): lower-case LDH
   * labels, IDNs as A-labels, at least two labels, no wildcard, no trailing dot, not an IP address.
   */
  public static String dnsName(String raw) {
    if (raw == null || raw.isEmpty() || raw.length() > 253) {
      throw new CaException(
          CaException.Code.INVALID_REQUEST, "san.dns", "a DNS name is 1-253 characters");
    }
    String d = raw.toLowerCase(Locale.ROOT);
    String[] labels = d.split("\\.", -1);
    boolean ok = labels.length >= 2;
    for (String l : labels) {
      ok &= LABEL.matcher(l).matches();
      // A hyphen in the third and fourth place makes a reserved label (RFC 5890 §2.3.1), which
      // the Baseline Requirements allow only as a real A-label: xn-- and the exact Punycode of a
      // valid U-label, not "xn--zz" or "ab--cd".
      ok &= !(l.length() >= 4 && l.charAt(2) == '-' && l.charAt(3) == '-') || Punycode.isALabel(l);
    }
    if (ok && labels[labels.length - 1].matches("[0-9]+")) {
      ok = false;
    }
    if (!ok) {
      throw new CaException(
          CaException.Code.INVALID_REQUEST,
          "san.dns",
          "not a valid DNS name (lower-case letters, digits and hyphens in dot-separated labels;"
              + " IDNs as valid xn-- A-labels, no other label with -- in the third and fourth"
              + " place; no wildcards or IP addresses)");
    }
    return d;
  }

  static List<String> emails(SanRule rule, List<String> requested) {
    if (requested.isEmpty()) {
      if (rule.email() == SanRule.Presence.REQUIRED) {
        throw new CaException(
            CaException.Code.INVALID_REQUEST, "san.email", "an e-mail address is required");
      }
      return List.of();
    }
    if (rule.email() == SanRule.Presence.FORBIDDEN) {
      throw new CaException(
          CaException.Code.INVALID_REQUEST, "san.email", "this profile takes no e-mail addresses");
    }
    List<String> out = new ArrayList<>();
    for (String m : requested) {
      int at = m == null ? -1 : m.lastIndexOf('@');
      if (at <= 0
          || m.length() > 254
          || !EMAIL_LOCAL.matcher(m.substring(0, at)).matches()
          || m.substring(0, at).contains("..")) {
        throw new CaException(
            CaException.Code.INVALID_REQUEST, "san.email", "not a valid ASCII e-mail address");
      }
      out.add(m.substring(0, at) + "@" + dnsNameFor(m.substring(at + 1)));
    }
    return out;
  }

  private static String dnsNameFor(String domain) {
    try {
      return dnsName(domain);
    } catch (CaException e) {
      throw new CaException(
          CaException.Code.INVALID_REQUEST, "san.email", "the e-mail domain is not valid");
    }
  }
}
