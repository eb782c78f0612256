package io.yinxin.hsm;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.regex.Pattern;

/**
 * The name of a key, as a URI:
 *
 * <ul>
 *   <li>{@code pkcs11:token=yinxin;object=citizen-ca-2026} (RFC 7512 attributes {@code token},
 *       {@code object}, optional {@code id} and {@code type=private}; values percent-encoded)
 *   <li>{@code vault-transit:ca-root} or {@code vault-transit:ca-root?version=2}
 *   <li>{@code soft:citizen-ca-2026} (PKCS#12 file, development only)
 * </ul>
 *
 * @param scheme the backend
 * @param token the PKCS#11 token label; empty for other schemes
 * @param label the key's name (PKCS#11 {@code object}, Vault key name, keystore alias)
 * @param version a Vault key version, if pinned
 */
public record KeyRef(Scheme scheme, String token, String label, OptionalInt version) {

  /** Names for soft and Vault keys: path-safe, so a label can never walk out of a directory. */
  private static final Pattern SIMPLE_LABEL = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

  private static final int MAX_URI = 512;

  /** Key backends, by URI scheme. */
  public enum Scheme {
    PKCS11("pkcs11"),
    VAULT_TRANSIT("vault-transit"),
    SOFT("soft");

    private final String uriScheme;

    Scheme(String uriScheme) {
      this.uriScheme = uriScheme;
    }

    public String uriScheme() {
      return uriScheme;
    }
  }

  public KeyRef {
    if (scheme == null || token == null || label == null || version == null) {
      throw new KeyException(KeyException.Code.INVALID_REQUEST, "key reference is incomplete");
    }
    if (scheme == Scheme.PKCS11) {
      if (token.isEmpty() || label.isEmpty() || label.length() > 128 || token.length() > 32) {
        throw new KeyException(
            KeyException.Code.INVALID_REQUEST,
            "a pkcs11 key needs token (at most 32 characters) and object (at most 128)");
      }
    } else if (!SIMPLE_LABEL.matcher(label).matches()) {
      throw new KeyException(
          KeyException.Code.INVALID_REQUEST,
          "key label must be 1-128 characters of A-Z a-z 0-9 . _ - and start with a letter or"
              + " digit");
    }
    if (version.isPresent() && (scheme != Scheme.VAULT_TRANSIT || version.getAsInt() < 1)) {
      throw new KeyException(
          KeyException.Code.INVALID_REQUEST, "only vault-transit keys have versions (1 or more)");
    }
  }

  /** A soft (PKCS#12) key. */
  public static KeyRef soft(String label) {
    return new KeyRef(Scheme.SOFT, "", label, OptionalInt.empty());
  }

  /** A key on a PKCS#11 token. */
  public static KeyRef pkcs11(String token, String object) {
    return new KeyRef(Scheme.PKCS11, token, object, OptionalInt.empty());
  }

  /** The latest version of a Vault Transit key. */
  public static KeyRef vault(String name) {
    return new KeyRef(Scheme.VAULT_TRANSIT, "", name, OptionalInt.empty());
  }

  /** This key at a given Vault version. */
  public KeyRef withVersion(int v) {
    return new KeyRef(scheme, token, label, OptionalInt.of(v));
  }

  /**
   * Parses a key URI.
   *
   * @throws KeyException {@code INVALID_REQUEST} naming what is wrong
   */
  public static KeyRef parse(String uri) {
    if (uri == null || uri.isEmpty() || uri.length() > MAX_URI) {
      throw invalid("key URI is empty or longer than " + MAX_URI + " characters");
    }
    int colon = uri.indexOf(':');
    if (colon < 0) {
      throw invalid("key URI has no scheme (pkcs11:, vault-transit:, soft:)");
    }
    String scheme = uri.substring(0, colon);
    String rest = uri.substring(colon + 1);
    switch (scheme) {
      case "soft":
        return soft(stripSlashes(rest));
      case "vault-transit":
        {
          String body = stripSlashes(rest);
          int q = body.indexOf('?');
          if (q < 0) {
            return vault(body);
          }
          String query = body.substring(q + 1);
          if (!query.matches("version=[1-9][0-9]{0,8}")) {
            throw invalid("vault-transit URI accepts only ?version=N");
          }
          return vault(body.substring(0, q))
              .withVersion(Integer.parseInt(query.substring("version=".length())));
        }
      case "pkcs11":
        return parsePkcs11(rest);
      default:
        throw invalid("unknown key URI scheme '" + scheme + "'");
    }
  }

  private static KeyRef parsePkcs11(String path) {
    if (path.indexOf('?') >= 0) {
      throw invalid("pkcs11 URI query attributes (pin-value, module-path) are not accepted");
    }
    Map<String, String> attrs = new LinkedHashMap<>();
    for (String part : path.split(";", -1)) {
      int eq = part.indexOf('=');
      if (eq <= 0) {
        throw invalid("pkcs11 URI attribute without name=value");
      }
      String name = part.substring(0, eq);
      if (!name.equals("token") && !name.equals("object") && !name.equals("type")) {
        throw invalid("pkcs11 URI attribute '" + name + "' is not supported (token, object, type)");
      }
      if (attrs.put(name, percentDecode(part.substring(eq + 1))) != null) {
        throw invalid("pkcs11 URI repeats attribute '" + name + "'");
      }
    }
    String type = attrs.getOrDefault("type", "private");
    if (!type.equals("private")) {
      throw invalid("pkcs11 URI type must be private");
    }
    if (!attrs.containsKey("token") || !attrs.containsKey("object")) {
      throw invalid("pkcs11 URI needs token= and object=");
    }
    return pkcs11(attrs.get("token"), attrs.get("object"));
  }

  private static String stripSlashes(String s) {
    return s.startsWith("//") ? s.substring(2) : s;
  }

  private static String percentDecode(String s) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '%') {
        if (i + 2 >= s.length()) {
          throw invalid("pkcs11 URI has a truncated percent escape");
        }
        int hi = Character.digit(s.charAt(i + 1), 16);
        int lo = Character.digit(s.charAt(i + 2), 16);
        if (hi < 0 || lo < 0) {
          throw invalid("pkcs11 URI has a bad percent escape");
        }
        out.write(hi * 16 + lo);
        i += 2;
      } else {
        byte[] b = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
        out.write(b, 0, b.length);
      }
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  private static String percentEncode(String s) {
    StringBuilder sb = new StringBuilder();
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      if ((c >= 'a' && c <= 'z')
          || (c >= 'A' && c <= 'Z')
          || (c >= '0' && c <= '9')
          || c == '-'
          || c == '.'
          || c == '_'
          || c == '~') {
        sb.append((char) c);
      } else {
        sb.append('%').append(String.format("%02X", c));
      }
    }
    return sb.toString();
  }

  private static KeyException invalid(String message) {
    return new KeyException(KeyException.Code.INVALID_REQUEST, message);
  }

  /** The Vault version, if pinned. */
  public Optional<Integer> pinnedVersion() {
    return version.isPresent() ? Optional.of(version.getAsInt()) : Optional.empty();
  }

  /** The URI form, which {@link #parse} reads back to an equal reference. */
  @Override
  public String toString() {
    switch (scheme) {
      case PKCS11:
        return "pkcs11:token=" + percentEncode(token) + ";object=" + percentEncode(label);
      case VAULT_TRANSIT:
        return "vault-transit:"
            + label
            + (version.isPresent() ? "?version=" + version.getAsInt() : "");
      default:
        return "soft:" + label;
    }
  }
}
