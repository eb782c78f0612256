package io.yinxin.ca.profile;

import io.yinxin.hsm.KeySpec;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The CA hierarchy, service certificates and profiles, as read from YAML ({@code
 * io/yinxin/ca/hierarchy.yml} is the embedded default). Every mistake is reported at start-up with
 * where it is.
 *
 * @param cas the CAs, parents before children
 * @param services service certificates issued at init (e.g. the TSA)
 * @param profiles profiles by name
 */
public record HierarchyConfig(
    List<CaConfig> cas, List<ServiceCert> services, Map<String, Profile> profiles) {

  /** Key usage names as RFC 5280 §4.2.1.3 spells them. */
  public static final Set<String> KEY_USAGES =
      Set.of(
          "digitalSignature",
          "nonRepudiation",
          "keyEncipherment",
          "dataEncipherment",
          "keyAgreement");

  /** EKU names and their OIDs (RFC 5280 §4.2.1.12, RFC 9336 documentSigning). */
  public static final Map<String, String> EKUS =
      Map.of(
          "serverAuth", "1.3.6.1.5.5.7.3.1",
          "clientAuth", "1.3.6.1.5.5.7.3.2",
          "codeSigning", "1.3.6.1.5.5.7.3.3",
          "emailProtection", "1.3.6.1.5.5.7.3.4",
          "timeStamping", "1.3.6.1.5.5.7.3.8",
          "OCSPSigning", "1.3.6.1.5.5.7.3.9",
          "documentSigning", "1.3.6.1.5.5.7.3.36");

  /**
   * A certificate the system needs for itself.
   *
   * @param name short name ({@code tsa}); also the CN's {name} field
   * @param profile the profile it is issued under
   * @param subject distinguished name, RFC 4514 text
   * @param key key type
   */
  public record ServiceCert(String name, String profile, String subject, KeySpec key) {}

  public HierarchyConfig {
    cas = List.copyOf(cas);
    services = List.copyOf(services);
    profiles = Map.copyOf(profiles);
  }

  public Optional<CaConfig> ca(String name) {
    return cas.stream().filter(c -> c.name().equals(name)).findFirst();
  }

  /** The embedded default. */
  public static HierarchyConfig defaults() {
    try (InputStream in =
        HierarchyConfig.class.getResourceAsStream("/io/yinxin/ca/hierarchy.yml")) {
      return parse(in, "hierarchy.yml (built in)");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Reads a hierarchy file. */
  public static HierarchyConfig load(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      return parse(in, file.toString());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  /** Parses YAML (safe constructor only: no custom types). */
  public static HierarchyConfig parse(InputStream in, String where) {
    LoaderOptions opts = new LoaderOptions();
    opts.setAllowDuplicateKeys(false);
    Object root = new Yaml(new SafeConstructor(opts)).load(in);
    Map<String, Object> doc = map(root, where);
    List<CaConfig> cas = new ArrayList<>();
    Map<String, CaConfig> byName = new HashMap<>();
    for (Object o : list(doc.get("cas"), where + ": cas")) {
      Map<String, Object> m = map(o, where + ": cas[" + cas.size() + "]");
      String name = name(m.get("name"), where + ": cas[" + cas.size() + "].name");
      String at = where + ": ca " + name;
      Optional<String> parent = Optional.ofNullable((String) m.get("parent"));
      if (parent.isPresent() && !byName.containsKey(parent.get())) {
        throw new IllegalArgumentException(at + ": parent '" + parent.get() + "' must come first");
      }
      if (byName.containsKey(name)) {
        throw new IllegalArgumentException(at + ": defined twice");
      }
      CaConfig c =
          new CaConfig(
              name,
              parent,
              string(m.get("subject"), at + ".subject"),
              keySpec(m.get("key"), at + ".key"),
              integer(m.getOrDefault("validity-days", 3650), at + ".validity-days"),
              integer(m.getOrDefault("path-length", 0), at + ".path-length"),
              oids(m.getOrDefault("policies", List.of()), at + ".policies"),
              ekus(m.getOrDefault("extended-key-usage", List.of()), at));
      cas.add(c);
      byName.put(name, c);
    }
    if (cas.isEmpty()) {
      throw new IllegalArgumentException(where + ": no CAs");
    }
    Map<String, Profile> profiles = new LinkedHashMap<>();
    Map<String, Object> ps = map(doc.get("profiles"), where + ": profiles");
    for (var e : ps.entrySet()) {
      String at = where + ": profile " + e.getKey();
      Profile p = profile(name(e.getKey(), at), map(e.getValue(), at), at);
      if (!p.issuer().equals("*") && !byName.containsKey(p.issuer())) {
        throw new IllegalArgumentException(at + ": issuer '" + p.issuer() + "' is not a CA");
      }
      profiles.put(p.name(), p);
    }
    List<ServiceCert> services = new ArrayList<>();
    for (Object o : list(doc.getOrDefault("services", List.of()), where + ": services")) {
      Map<String, Object> m = map(o, where + ": services[" + services.size() + "]");
      String name = name(m.get("name"), where + ": services[].name");
      String at = where + ": service " + name;
      String profile = string(m.get("profile"), at + ".profile");
      if (!profiles.containsKey(profile) || profiles.get(profile).issuer().equals("*")) {
        throw new IllegalArgumentException(at + ": profile '" + profile + "' is not defined");
      }
      KeySpec key = keySpec(m.get("key"), at);
      certifiable(profiles.get(profile), key, at + ".key");
      services.add(new ServiceCert(name, profile, string(m.get("subject"), at + ".subject"), key));
    }
    if (!profiles.containsKey("ocsp-signer")) {
      throw new IllegalArgumentException(where + ": profile ocsp-signer is required");
    }
    for (CaConfig ca : cas) {
      certifiable(
          profiles.get("ocsp-signer"),
          ca.key() == KeySpec.SM2 ? KeySpec.SM2 : KeySpec.EC_P256,
          where + ": ca " + ca.name() + " (its OCSP signer's key)");
    }
    return new HierarchyConfig(cas, services, profiles);
  }

  private static Profile profile(String name, Map<String, Object> m, String at) {
    Set<KeyType> keyTypes = EnumSet.noneOf(KeyType.class);
    for (Object k : list(m.get("key-types"), at + ".key-types")) {
      try {
        keyTypes.add(KeyType.valueOf(String.valueOf(k)));
      } catch (IllegalArgumentException ex) {
        throw new IllegalArgumentException(
            at + ".key-types: '" + k + "' is not one of " + EnumSet.allOf(KeyType.class), ex);
      }
    }
    List<String> ku = strings(m.getOrDefault("key-usage", List.of()), at + ".key-usage");
    for (String k : ku) {
      if (!KEY_USAGES.contains(k)) {
        throw new IllegalArgumentException(
            at + ".key-usage: '" + k + "' is not one of " + KEY_USAGES);
      }
    }
    List<String> ekus = ekus(m.getOrDefault("extended-key-usage", List.of()), at);
    List<String> policies = oids(m.getOrDefault("policies", List.of()), at + ".policies");
    String issuer = string(m.get("issuer"), at + ".issuer");
    Set<Profile.Channel> channels = EnumSet.noneOf(Profile.Channel.class);
    Object declared = m.get("channels");
    if (declared == null) {
      // Per-CA service profiles (issuer "*") are for the hierarchy; the rest for REST clients.
      channels.add(issuer.equals("*") ? Profile.Channel.HIERARCHY : Profile.Channel.REST);
    } else {
      for (String c : strings(declared, at + ".channels")) {
        try {
          channels.add(Profile.Channel.valueOf(c.toUpperCase(java.util.Locale.ROOT)));
        } catch (IllegalArgumentException ex) {
          throw new IllegalArgumentException(
              at + ".channels: '" + c + "' is not one of rest, acme, hierarchy", ex);
        }
      }
    }
    Map<String, Object> san = map(m.getOrDefault("san", Map.of()), at + ".san");
    SanRule sanRule =
        new SanRule(
            presence(san.get("dns"), at + ".san.dns"),
            presence(san.get("email"), at + ".san.email"),
            integer(san.getOrDefault("max-names", 10), at + ".san.max-names"),
            strings(san.getOrDefault("allowed-domains", List.of()), at + ".san.allowed-domains"));
    int validity = integer(m.get("validity-days"), at + ".validity-days");
    if (validity < 1) {
      throw new IllegalArgumentException(at + ".validity-days must be at least 1");
    }
    int rsaMin = integer(m.getOrDefault("rsa-min-bits", 2048), at + ".rsa-min-bits");
    if (rsaMin < 2048) {
      throw new IllegalArgumentException(at + ".rsa-min-bits: at least 2048");
    }
    return new Profile(
        name,
        issuer,
        keyTypes,
        rsaMin,
        validity,
        Set.copyOf(ku),
        ekus,
        bool(m.getOrDefault("extended-key-usage-critical", false), at),
        policies,
        SubjectTemplate.parse(strings(m.get("subject"), at + ".subject"), at),
        sanRule,
        bool(m.getOrDefault("ocsp-no-check", false), at),
        bool(m.getOrDefault("refuse-revoked-keys", true), at),
        channels);
  }

  private static List<String> ekus(Object o, String at) {
    List<String> out = new ArrayList<>();
    for (String k : strings(o, at + ".extended-key-usage")) {
      String oid = EKUS.getOrDefault(k, k);
      if (!oid.matches("[0-2](\\.[0-9]+)+")) {
        throw new IllegalArgumentException(at + ".extended-key-usage: unknown '" + k + "'");
      }
      out.add(oid);
    }
    return out;
  }

  private static List<String> oids(Object o, String at) {
    List<String> out = strings(o, at);
    for (String p : out) {
      if (!p.matches("[0-2](\\.[0-9]+)+")) {
        throw new IllegalArgumentException(at + ": '" + p + "' is not an OID");
      }
    }
    return out;
  }

  private static SanRule.Presence presence(Object o, String at) {
    if (o == null) {
      return SanRule.Presence.FORBIDDEN;
    }
    try {
      return SanRule.Presence.valueOf(String.valueOf(o).toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(at + ": required, optional or forbidden", e);
    }
  }

  /**
   * Refuses a service key its profile would not certify, when the file is read: found only when the
   * certificate was made, each attempt left a new key in the backend (at every start of a node
   * whose configuration had it, one more key in the HSM).
   */
  private static void certifiable(Profile profile, KeySpec key, String at) {
    KeyType type =
        switch (key) {
          case EC_P256 -> KeyType.EC_P256;
          case EC_P384 -> KeyType.EC_P384;
          case SM2 -> KeyType.SM2;
          case RSA_3072 -> KeyType.RSA;
          case ED25519 -> null;
        };
    if (type == null || !profile.keyTypes().contains(type)) {
      throw new IllegalArgumentException(
          at + ": profile " + profile.name() + " accepts " + profile.keyTypes() + ", not " + key);
    }
    if (type == KeyType.RSA && profile.rsaMinBits() > 3072) {
      throw new IllegalArgumentException(
          at
              + ": profile "
              + profile.name()
              + " accepts RSA keys of at least "
              + profile.rsaMinBits()
              + " bits, not "
              + key);
    }
  }

  private static KeySpec keySpec(Object o, String at) {
    try {
      return KeySpec.valueOf(string(o, at));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(at + ": one of EC_P256, EC_P384, RSA_3072, SM2", e);
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object o, String at) {
    if (!(o instanceof Map)) {
      throw new IllegalArgumentException(at + ": expected a mapping");
    }
    return (Map<String, Object>) o;
  }

  private static List<?> list(Object o, String at) {
    if (!(o instanceof List)) {
      throw new IllegalArgumentException(at + ": expected a list");
    }
    return (List<?>) o;
  }

  private static List<String> strings(Object o, String at) {
    List<String> out = new ArrayList<>();
    for (Object x : list(o, at)) {
      out.add(string(x, at));
    }
    return out;
  }

  private static String string(Object o, String at) {
    if (!(o instanceof String) || ((String) o).isBlank()) {
      throw new IllegalArgumentException(at + ": expected a non-empty string");
    }
    return (String) o;
  }

  private static String name(Object o, String at) {
    String s = string(o, at);
    if (!s.matches("[a-z0-9][a-z0-9-]{0,62}")) {
      throw new IllegalArgumentException(at + ": names are 1-63 of a-z 0-9 -");
    }
    return s;
  }

  private static int integer(Object o, String at) {
    if (!(o instanceof Integer)) {
      throw new IllegalArgumentException(at + ": expected a whole number");
    }
    return (Integer) o;
  }

  private static boolean bool(Object o, String at) {
    if (!(o instanceof Boolean)) {
      throw new IllegalArgumentException(at + ": expected true or false");
    }
    return (Boolean) o;
  }
}
