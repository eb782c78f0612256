package io.yinxin.ca.profile;

import io.yinxin.ca.CaException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.x500.style.BCStyle;

/**
 * A subject as the CA builds it: an ordered list of attributes, each a literal or a request field
 * ({@code "CN={name}"}). The CSR's own subject is ignored, so a requester can only fill in the
 * fields a profile names, each checked by its own rule.
 *
 * @param attributes the relative distinguished names, outermost first
 */
public record SubjectTemplate(List<Attribute> attributes) {

  /** Attribute names a template may use, and their X.520 OIDs. */
  static final Map<String, ASN1ObjectIdentifier> ATTRIBUTES =
      Map.of(
          "C", BCStyle.C,
          "ST", BCStyle.ST,
          "L", BCStyle.L,
          "O", BCStyle.O,
          "OU", BCStyle.OU,
          "CN", BCStyle.CN,
          "serialNumber", BCStyle.SERIALNUMBER,
          "organizationIdentifier", BCStyle.ORGANIZATION_IDENTIFIER);

  /** Request fields a template may reference; each has its own check in {@code SubjectBuilder}. */
  public static final Set<String> FIELDS =
      Set.of(
          "name",
          "idNumber",
          "organization",
          "creditCode",
          "organizationalUnit",
          "locality",
          "province",
          "dns");

  private static final Pattern ITEM = Pattern.compile("([A-Za-z]+)=(?:\\{([A-Za-z]+)\\}|([^{}]+))");

  /**
   * One attribute: a literal value or a field.
   *
   * @param name the attribute name, e.g. {@code CN}
   * @param oid its OID
   * @param literal the fixed value, or empty
   * @param field the request field, or empty
   */
  public record Attribute(String name, ASN1ObjectIdentifier oid, String literal, String field) {
    public boolean isField() {
      return !field.isEmpty();
    }
  }

  public SubjectTemplate {
    attributes = List.copyOf(attributes);
  }

  /** Parses items such as {@code "C=CN"} and {@code "serialNumber={idNumber}"}. */
  public static SubjectTemplate parse(List<String> items, String where) {
    List<Attribute> out = new ArrayList<>();
    for (String item : items) {
      Matcher m = ITEM.matcher(item);
      if (!m.matches()) {
        throw new IllegalArgumentException(
            where + ": subject item '" + item + "' is not NAME=value");
      }
      ASN1ObjectIdentifier oid = ATTRIBUTES.get(m.group(1));
      if (oid == null) {
        throw new IllegalArgumentException(
            where
                + ": subject attribute '"
                + m.group(1)
                + "' is not one of "
                + ATTRIBUTES.keySet());
      }
      String field = m.group(2) == null ? "" : m.group(2);
      if (!field.isEmpty() && !FIELDS.contains(field)) {
        throw new IllegalArgumentException(
            where + ": subject field '{" + field + "}' is not one of " + FIELDS);
      }
      out.add(new Attribute(m.group(1), oid, m.group(3) == null ? "" : m.group(3), field));
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException(where + ": a subject needs at least one attribute");
    }
    return new SubjectTemplate(out);
  }

  /** The request fields this template needs. */
  public Set<String> fields() {
    java.util.TreeSet<String> s = new java.util.TreeSet<>();
    for (Attribute a : attributes) {
      if (a.isField() && !a.field().equals("dns")) {
        s.add(a.field());
      }
    }
    return s;
  }

  /** Refuses request fields the template does not use. */
  public void checkNoExtraFields(Set<String> given) {
    for (String f : given) {
      if (!fields().contains(f)) {
        String shown = f.matches("[A-Za-z]{1,32}") ? f : "?";
        throw new CaException(
            CaException.Code.INVALID_REQUEST,
            "subject." + shown,
            "this profile does not take this field; it takes " + fields());
      }
    }
  }
}
