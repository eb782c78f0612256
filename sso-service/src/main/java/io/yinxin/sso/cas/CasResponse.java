package io.yinxin.sso.cas;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The bodies of CAS 3.0 validation answers (protocol §2.5.2, §2.5.3 and appendix A/B): the {@code
 * cas:serviceResponse} XML, or its JSON form when the service asked {@code format=JSON}. Pure
 * functions: every value is escaped here, so a display name or a service URL cannot add XML.
 */
public final class CasResponse {
  static final String NAMESPACE = "http://www.yale.edu/tp/cas";

  private CasResponse() {}

  /** A success naming {@code user}, with {@code attributes} (none for the CAS 2.0 paths). */
  public static String successXml(String user, Map<String, List<String>> attributes) {
    StringBuilder x = new StringBuilder(512);
    x.append("<cas:serviceResponse xmlns:cas=\"")
        .append(NAMESPACE)
        .append("\">\n  <cas:authenticationSuccess>\n    <cas:user>")
        .append(xml(user))
        .append("</cas:user>\n");
    if (!attributes.isEmpty()) {
      x.append("    <cas:attributes>\n");
      attributes.forEach(
          (name, values) -> {
            for (String v : values) {
              x.append("      <cas:")
                  .append(name)
                  .append('>')
                  .append(xml(v))
                  .append("</cas:")
                  .append(name)
                  .append(">\n");
            }
          });
      x.append("    </cas:attributes>\n");
    }
    return x.append("  </cas:authenticationSuccess>\n</cas:serviceResponse>\n").toString();
  }

  /** A failure with its code (INVALID_REQUEST, INVALID_TICKET_SPEC, INVALID_TICKET, ...). */
  public static String failureXml(String code, String description) {
    return "<cas:serviceResponse xmlns:cas=\""
        + NAMESPACE
        + "\">\n  <cas:authenticationFailure code=\""
        + xml(code)
        + "\">"
        + xml(description)
        + "</cas:authenticationFailure>\n</cas:serviceResponse>\n";
  }

  /** The JSON form of a success (appendix B). */
  public static Map<String, Object> successJson(String user, Map<String, List<String>> attributes) {
    Map<String, Object> success = new LinkedHashMap<>();
    success.put("user", user);
    if (!attributes.isEmpty()) {
      success.put("attributes", attributes);
    }
    return Map.of("serviceResponse", Map.of("authenticationSuccess", success));
  }

  /** The JSON form of a failure (appendix B). */
  public static Map<String, Object> failureJson(String code, String description) {
    return Map.of(
        "serviceResponse",
        Map.of("authenticationFailure", Map.of("code", code, "description", description)));
  }

  /** XML character data or attribute value: the five markup characters escaped. */
  static String xml(String s) {
    StringBuilder b = new StringBuilder(s.length() + 16);
    for (int i = 0; i < s.length(); i++) {
      char ch = s.charAt(i);
      switch (ch) {
        case '&' -> b.append("&amp;");
        case '<' -> b.append("&lt;");
        case '>' -> b.append("&gt;");
        case '"' -> b.append("&quot;");
        case '\'' -> b.append("&apos;");
        default -> {
          // Characters XML 1.0 cannot carry at all are dropped, not passed through.
          if (ch >= 0x20 || ch == '\t' || ch == '\n' || ch == '\r') {
            b.append(ch);
          }
        }
      }
    }
    return b.toString();
  }
}
