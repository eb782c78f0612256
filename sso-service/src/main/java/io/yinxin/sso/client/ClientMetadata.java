package io.yinxin.sso.client;

import io.yinxin.sso.token.AuthenticationMethods;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.springframework.security.oauth2.core.AuthorizationGrantType;
import org.springframework.security.oauth2.core.ClientAuthenticationMethod;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClient;
import org.springframework.security.oauth2.server.authorization.settings.ClientSettings;
import org.springframework.security.oauth2.server.authorization.settings.OAuth2TokenFormat;
import org.springframework.security.oauth2.server.authorization.settings.TokenSettings;

/**
 * What an operator registers about a client, in RFC 7591's metadata names (plus token lifetimes and
 * consent), checked before anything is stored. Redirect and logout URIs are matched exactly by the
 * provider, so they are checked here to be absolute, canonical (lower-case scheme and host, no
 * default port, no fragment, no user info, no wildcard) and either https, http on a loopback
 * address (RFC 8252 §7.3), or a private-use scheme in reverse-domain form (RFC 8252 §7.1).
 */
public record ClientMetadata(
    String clientName,
    List<String> redirectUris,
    List<String> postLogoutRedirectUris,
    Set<String> grantTypes,
    Set<String> scopes,
    String tokenEndpointAuthMethod,
    Duration accessTokenTtl,
    Duration refreshTokenTtl,
    boolean requireConsent,
    String frontchannelLogoutUri,
    String backchannelLogoutUri,
    String jwksUri,
    String tokenEndpointAuthSigningAlg,
    boolean certificateBoundAccessTokens,
    CertificateName certificateName,
    List<String> requestUris,
    String idTokenSignedResponseAlg,
    List<String> defaultAcrValues,
    String minimumAcr) {

  /**
   * The name a {@code tls_client_auth} client's certificate must carry: one of {@link
   * TlsClientAuth#NAME_FIELDS} and its canonical value.
   */
  public record CertificateName(String field, String value) {}

  /** Refused metadata; {@code error} is RFC 7591's code. */
  public static final class Invalid extends RuntimeException {
    private final String error;

    public Invalid(String error, String description) {
      super(description, null, false, false);
      this.error = error;
    }

    public String error() {
      return error;
    }
  }

  /** RFC 8628 device authorization grant. */
  public static final String DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code";

  /** RFC 8693 token exchange. */
  public static final String TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";

  static final Set<String> GRANTS =
      Set.of(
          "authorization_code", "refresh_token", "client_credentials", DEVICE_CODE, TOKEN_EXCHANGE);
  static final Set<String> AUTH_METHODS =
      Set.of(
          "client_secret_basic",
          "client_secret_post",
          "private_key_jwt",
          "self_signed_tls_client_auth",
          "tls_client_auth",
          "none");

  /**
   * What this provider signs ID tokens with (OpenID Dynamic Client Registration §2, {@code
   * id_token_signed_response_alg}): RS256, the default OpenID Connect gives every client, or ES256.
   */
  static final Set<String> ID_TOKEN_ALGS = Set.of("RS256", "ES256");

  /** Asymmetric only: an assertion can never be checked with a shared or public key as HMAC. */
  static final Set<String> ASSERTION_ALGS = Set.of("RS256", "PS256", "ES256");

  private static final Set<String> FIELDS =
      Set.of(
          "client_name",
          "redirect_uris",
          "post_logout_redirect_uris",
          "grant_types",
          "scope",
          "token_endpoint_auth_method",
          "access_token_ttl",
          "refresh_token_ttl",
          "require_consent",
          "frontchannel_logout_uri",
          "backchannel_logout_uri",
          "jwks_uri",
          "token_endpoint_auth_signing_alg",
          "tls_client_certificate_bound_access_tokens",
          "tls_client_auth_subject_dn",
          "tls_client_auth_san_dns",
          "tls_client_auth_san_uri",
          "tls_client_auth_san_ip",
          "tls_client_auth_san_email",
          "request_uris",
          "id_token_signed_response_alg",
          "default_acr_values",
          "minimum_acr");
  // RFC 6749 §3.3 scope-token.
  private static final Pattern SCOPE = Pattern.compile("[\\x21\\x23-\\x5B\\x5D-\\x7E]{1,64}");
  private static final Pattern PRIVATE_SCHEME =
      Pattern.compile("[a-z][a-z0-9+-]*(\\.[a-z0-9+-]+)+");
  private static final int MAX_URIS = 20;
  private static final int MAX_URI_LENGTH = 2000;
  private static final int MAX_SCOPES = 30;

  /** Parses and checks a JSON object's fields; unknown fields are refused, not ignored. */
  public static ClientMetadata from(Map<String, Object> json) {
    for (String k : json.keySet()) {
      if (!FIELDS.contains(k)) {
        throw invalid("unknown field " + printable(k));
      }
    }
    String name = string(json, "client_name", null);
    if (name == null
        || name.isBlank()
        || name.length() > 100
        || name.codePoints().anyMatch(Character::isISOControl)) {
      throw invalid("client_name: 1-100 characters, no control characters");
    }
    Set<String> grants = new LinkedHashSet<>(strings(json, "grant_types", 5));
    if (grants.isEmpty()) {
      grants.add("authorization_code");
    }
    for (String g : grants) {
      if (!GRANTS.contains(g)) {
        throw invalid("grant_types: each one of " + GRANTS);
      }
    }
    if (grants.contains("refresh_token")
        && !grants.contains("authorization_code")
        && !grants.contains(DEVICE_CODE)) {
      throw invalid("grant_types: refresh_token only with authorization_code or device_code");
    }
    String method = string(json, "token_endpoint_auth_method", "client_secret_basic");
    if (!AUTH_METHODS.contains(method)) {
      throw invalid("token_endpoint_auth_method: one of " + AUTH_METHODS);
    }
    if (method.equals("none")
        && (grants.contains("client_credentials") || grants.contains(TOKEN_EXCHANGE))) {
      throw invalid(
          "a public client (token_endpoint_auth_method none) has no client_credentials or token"
              + " exchange");
    }
    List<String> redirects = uris(json, "redirect_uris", "invalid_redirect_uri");
    if (grants.contains("authorization_code") && redirects.isEmpty()) {
      throw new Invalid("invalid_redirect_uri", "redirect_uris: authorization_code needs one");
    }
    if (!grants.contains("authorization_code") && !redirects.isEmpty()) {
      throw new Invalid("invalid_redirect_uri", "redirect_uris only with authorization_code");
    }
    List<String> logouts = uris(json, "post_logout_redirect_uris", "invalid_client_metadata");
    Set<String> scopes = new LinkedHashSet<>();
    String scope = string(json, "scope", "");
    if (!scope.isEmpty()) {
      for (String s : scope.split(" ", -1)) {
        if (!SCOPE.matcher(s).matches()) {
          throw invalid("scope: space-separated scope tokens (RFC 6749 §3.3), at most 64 each");
        }
        scopes.add(s);
      }
    }
    if (scopes.size() > MAX_SCOPES) {
      throw invalid("scope: at most " + MAX_SCOPES);
    }
    Duration access = seconds(json, "access_token_ttl", 300, 60, 86_400);
    Duration refresh = seconds(json, "refresh_token_ttl", 8 * 3600, 60, 90 * 86_400);
    Object consent = json.getOrDefault("require_consent", Boolean.TRUE);
    if (!(consent instanceof Boolean)) {
      throw invalid("require_consent: true or false");
    }
    if (scopes.contains("id_number") && !(Boolean) consent) {
      // The whole ID number leaves only with the person's consent, every time it is asked for.
      throw invalid("scope id_number needs require_consent true");
    }
    String front = optionalUri(json, "frontchannel_logout_uri");
    String back = optionalUri(json, "backchannel_logout_uri");
    String jwks = optionalUri(json, "jwks_uri");
    String alg = string(json, "token_endpoint_auth_signing_alg", null);
    if (method.equals("private_key_jwt")) {
      if (jwks == null) {
        throw invalid("private_key_jwt needs jwks_uri (where the client's public keys are)");
      }
      if (alg == null) {
        alg = "RS256";
      }
      if (!ASSERTION_ALGS.contains(alg)) {
        throw invalid("token_endpoint_auth_signing_alg: one of " + ASSERTION_ALGS);
      }
    } else if (method.equals("self_signed_tls_client_auth")) {
      // RFC 8705 §2.2: the client's certificate is one of its registered keys (x5c).
      if (jwks == null || alg != null) {
        throw invalid("self_signed_tls_client_auth needs jwks_uri (and no signing alg)");
      }
    } else if (jwks != null || alg != null) {
      throw invalid("jwks_uri and token_endpoint_auth_signing_alg only with private_key_jwt");
    }
    CertificateName certificateName = null;
    List<String> names = TlsClientAuth.NAME_FIELDS.stream().filter(json::containsKey).toList();
    if (method.equals("tls_client_auth")) {
      // RFC 8705 §2.1.2: exactly one of the name parameters.
      if (names.size() != 1) {
        throw invalid("tls_client_auth needs exactly one of " + TlsClientAuth.NAME_FIELDS);
      }
      String field = names.get(0);
      String value = string(json, field, null);
      certificateName =
          new CertificateName(
              field,
              TlsClientAuth.canonicalName(field, value)
                  .orElseThrow(() -> invalid(field + ": not a valid name of its kind")));
    } else if (!names.isEmpty()) {
      throw invalid(names.get(0) + " only with tls_client_auth");
    }
    // Where the client keeps request objects (RFC 9101 §5.2): fetched by this server, so only
    // http(s) URLs, and only for a client whose keys sign them.
    List<String> requestUris = uris(json, "request_uris", "invalid_client_metadata");
    for (String u : requestUris) {
      if (!u.startsWith("https://") && !u.startsWith("http://")) {
        throw invalid("request_uris: " + printable(u) + " is not http(s)");
      }
    }
    if (!requestUris.isEmpty() && jwks == null) {
      throw invalid("request_uris need jwks_uri (the client's keys sign its request objects)");
    }
    Object bound = json.getOrDefault("tls_client_certificate_bound_access_tokens", Boolean.FALSE);
    if (!(bound instanceof Boolean)) {
      throw invalid("tls_client_certificate_bound_access_tokens: true or false");
    }
    if ((Boolean) bound && !method.endsWith("tls_client_auth")) {
      throw invalid(
          "tls_client_certificate_bound_access_tokens needs the client certificate"
              + " (tls_client_auth or self_signed_tls_client_auth)");
    }
    String idTokenAlg = string(json, "id_token_signed_response_alg", "RS256");
    if (!ID_TOKEN_ALGS.contains(idTokenAlg)) {
      throw invalid("id_token_signed_response_alg: RS256 or ES256");
    }
    // OpenID Connect Registration §2: the levels asked for when a request names none.
    List<String> acr = strings(json, "default_acr_values", 2);
    acr.forEach(v -> level("default_acr_values", v));
    // Yinxin's (Keycloak's "minimum ACR value"): the level every sign-in to this client reaches,
    // whatever its request asks.
    String minimumAcr = string(json, "minimum_acr", null);
    if (minimumAcr != null) {
      level("minimum_acr", minimumAcr);
    }
    return new ClientMetadata(
        name,
        redirects,
        logouts,
        Set.copyOf(grants),
        Set.copyOf(scopes),
        method,
        access,
        refresh,
        (Boolean) consent,
        front,
        back,
        jwks,
        alg,
        (Boolean) bound,
        certificateName,
        requestUris,
        idTokenAlg,
        acr,
        minimumAcr);
  }

  /** Refuses anything but the two levels ID tokens state. */
  private static void level(String field, String value) {
    if (!value.equals(AuthenticationMethods.ONE_FACTOR)
        && !value.equals(AuthenticationMethods.TWO_FACTORS)) {
      throw invalid(
          field
              + ": "
              + AuthenticationMethods.ONE_FACTOR
              + " or "
              + AuthenticationMethods.TWO_FACTORS);
    }
  }

  /** Whether the client authenticates with a secret that this server generates and hashes. */
  public boolean hasSecret() {
    return tokenEndpointAuthMethod.startsWith("client_secret_");
  }

  /** The registered client with this metadata, keeping {@code base}'s id, client id and secret. */
  public RegisteredClient apply(RegisteredClient.Builder b) {
    b.clientName(clientName)
        .clientAuthenticationMethods(Set::clear)
        .authorizationGrantTypes(Set::clear)
        .redirectUris(Set::clear)
        .postLogoutRedirectUris(Set::clear)
        .scopes(Set::clear);
    switch (tokenEndpointAuthMethod) {
      case "client_secret_post" ->
          b.clientAuthenticationMethod(ClientAuthenticationMethod.CLIENT_SECRET_POST);
      case "none" -> b.clientAuthenticationMethod(ClientAuthenticationMethod.NONE);
      case "private_key_jwt" ->
          b.clientAuthenticationMethod(ClientAuthenticationMethod.PRIVATE_KEY_JWT);
      case "self_signed_tls_client_auth" ->
          b.clientAuthenticationMethod(ClientAuthenticationMethod.SELF_SIGNED_TLS_CLIENT_AUTH);
      case "tls_client_auth" ->
          b.clientAuthenticationMethod(ClientAuthenticationMethod.TLS_CLIENT_AUTH);
      default -> b.clientAuthenticationMethod(ClientAuthenticationMethod.CLIENT_SECRET_BASIC);
    }
    grantTypes.forEach(g -> b.authorizationGrantType(new AuthorizationGrantType(g)));
    redirectUris.forEach(b::redirectUri);
    postLogoutRedirectUris.forEach(b::postLogoutRedirectUri);
    scopes.forEach(b::scope);
    ClientSettings.Builder settings =
        ClientSettings.builder()
            // PKCE for every client, confidential ones too (OAuth 2.1, RFC 9700 §2.1.1).
            .requireProofKey(true)
            .requireAuthorizationConsent(requireConsent);
    if (frontchannelLogoutUri != null) {
      settings.setting(FRONTCHANNEL, frontchannelLogoutUri);
    }
    if (backchannelLogoutUri != null) {
      settings.setting(BACKCHANNEL, backchannelLogoutUri);
    }
    if (jwksUri != null) {
      settings.jwkSetUrl(jwksUri);
    }
    if (!requestUris.isEmpty()) {
      // One string: the stored settings are JSON read back with an allow-list of types.
      settings.setting(RequestObjects.REQUEST_URIS, String.join(" ", requestUris));
    }
    if (!defaultAcrValues.isEmpty()) {
      settings.setting(DEFAULT_ACR_VALUES, String.join(" ", defaultAcrValues));
    }
    if (minimumAcr != null) {
      settings.setting(MINIMUM_ACR, minimumAcr);
    }
    if (certificateName != null) {
      settings
          .setting(TlsClientAuth.NAME_FIELD, certificateName.field())
          .setting(TlsClientAuth.NAME_VALUE, certificateName.value());
      if (certificateName.field().equals("tls_client_auth_subject_dn")) {
        settings.x509CertificateSubjectDN(certificateName.value());
      }
    }
    if (tokenEndpointAuthSigningAlg != null) {
      settings.tokenEndpointAuthenticationSigningAlgorithm(
          org.springframework.security.oauth2.jose.jws.SignatureAlgorithm.from(
              tokenEndpointAuthSigningAlg));
    }
    b.clientSettings(settings.build());
    b.tokenSettings(
        TokenSettings.builder()
            .accessTokenFormat(OAuth2TokenFormat.SELF_CONTAINED)
            .accessTokenTimeToLive(accessTokenTtl)
            .refreshTokenTimeToLive(refreshTokenTtl)
            .reuseRefreshTokens(false)
            .x509CertificateBoundAccessTokens(certificateBoundAccessTokens)
            .idTokenSignatureAlgorithm(
                org.springframework.security.oauth2.jose.jws.SignatureAlgorithm.from(
                    idTokenSignedResponseAlg))
            .build());
    return b.build();
  }

  /** Client settings keys of the logout URIs (OpenID Front- and Back-Channel Logout). */
  public static final String FRONTCHANNEL = "yinxin.frontchannel_logout_uri";

  public static final String BACKCHANNEL = "yinxin.backchannel_logout_uri";

  /** Client settings key of {@code default_acr_values}, space-separated. */
  public static final String DEFAULT_ACR_VALUES = "yinxin.default_acr_values";

  /** Client settings key of {@code minimum_acr}. */
  public static final String MINIMUM_ACR = "yinxin.minimum_acr";

  /** Whether every sign-in to {@code c} must reach two factors, whatever its request asks. */
  public static boolean requiresTwoFactors(RegisteredClient c) {
    return AuthenticationMethods.TWO_FACTORS.equals(c.getClientSettings().getSetting(MINIMUM_ACR));
  }

  /** The levels {@code c} asks for when its authorization request names none (space-separated). */
  public static java.util.Optional<String> defaultAcrValues(RegisteredClient c) {
    return c.getClientSettings().getSetting(DEFAULT_ACR_VALUES) instanceof String v
        ? java.util.Optional.of(v)
        : java.util.Optional.empty();
  }

  /**
   * What {@code c}'s ID tokens (and logout tokens) are signed with: RS256 unless it registered
   * ES256.
   */
  public static org.springframework.security.oauth2.jose.jws.SignatureAlgorithm idTokenAlgorithm(
      RegisteredClient c) {
    var alg = c.getTokenSettings().getIdTokenSignatureAlgorithm();
    return alg == null
        ? org.springframework.security.oauth2.jose.jws.SignatureAlgorithm.RS256
        : alg;
  }

  /** A registered client as RFC 7591 metadata (no secret). */
  public static Map<String, Object> describe(RegisteredClient c) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("client_id", c.getClientId());
    m.put("client_name", c.getClientName());
    m.put(
        "client_id_issued_at",
        c.getClientIdIssuedAt() == null ? null : c.getClientIdIssuedAt().getEpochSecond());
    m.put("redirect_uris", List.copyOf(c.getRedirectUris()));
    m.put("post_logout_redirect_uris", List.copyOf(c.getPostLogoutRedirectUris()));
    m.put(
        "grant_types",
        c.getAuthorizationGrantTypes().stream()
            .map(AuthorizationGrantType::getValue)
            .sorted()
            .toList());
    m.put("scope", String.join(" ", c.getScopes().stream().sorted().toList()));
    m.put(
        "token_endpoint_auth_method",
        c.getClientAuthenticationMethods().iterator().next().getValue());
    m.put("access_token_ttl", c.getTokenSettings().getAccessTokenTimeToLive().toSeconds());
    m.put("refresh_token_ttl", c.getTokenSettings().getRefreshTokenTimeToLive().toSeconds());
    m.put("require_consent", c.getClientSettings().isRequireAuthorizationConsent());
    Object front = c.getClientSettings().getSetting(FRONTCHANNEL);
    Object back = c.getClientSettings().getSetting(BACKCHANNEL);
    if (front != null) {
      m.put("frontchannel_logout_uri", front);
    }
    if (back != null) {
      m.put("backchannel_logout_uri", back);
    }
    if (c.getClientSettings().getJwkSetUrl() != null) {
      m.put("jwks_uri", c.getClientSettings().getJwkSetUrl());
    }
    if (c.getClientSettings().getTokenEndpointAuthenticationSigningAlgorithm() != null) {
      m.put(
          "token_endpoint_auth_signing_alg",
          c.getClientSettings().getTokenEndpointAuthenticationSigningAlgorithm().getName());
    }
    if (c.getTokenSettings().isX509CertificateBoundAccessTokens()) {
      m.put("tls_client_certificate_bound_access_tokens", true);
    }
    m.put("id_token_signed_response_alg", idTokenAlgorithm(c).getName());
    if (c.getClientSettings().getSetting(RequestObjects.REQUEST_URIS) instanceof String uris) {
      m.put("request_uris", List.of(uris.split(" ")));
    }
    if (c.getClientSettings().getSetting(TlsClientAuth.NAME_FIELD) instanceof String field) {
      m.put(field, c.getClientSettings().getSetting(TlsClientAuth.NAME_VALUE));
    }
    defaultAcrValues(c).ifPresent(v -> m.put("default_acr_values", List.of(v.split(" "))));
    if (c.getClientSettings().getSetting(MINIMUM_ACR) instanceof String min) {
      m.put("minimum_acr", min);
    }
    return m;
  }

  private static Invalid invalid(String description) {
    return new Invalid("invalid_client_metadata", description);
  }

  private static String printable(String s) {
    String t = s.length() > 40 ? s.substring(0, 40) + "…" : s;
    return "'" + t.replaceAll("[^\\x20-\\x7E]", "?") + "'";
  }

  private static String string(Map<String, Object> json, String field, String dflt) {
    Object v = json.get(field);
    if (v == null) {
      return dflt;
    }
    if (!(v instanceof String s)) {
      throw invalid(field + ": a string");
    }
    return s;
  }

  private static List<String> strings(Map<String, Object> json, String field, int max) {
    Object v = json.get(field);
    if (v == null) {
      return List.of();
    }
    if (!(v instanceof List<?> list) || list.size() > max) {
      throw invalid(field + ": an array of at most " + max + " strings");
    }
    List<String> out = new ArrayList<>();
    for (Object o : list) {
      if (!(o instanceof String s)) {
        throw invalid(field + ": an array of strings");
      }
      if (out.contains(s)) {
        throw invalid(field + ": " + printable(s) + " twice");
      }
      out.add(s);
    }
    return out;
  }

  private static List<String> uris(Map<String, Object> json, String field, String error) {
    List<String> uris = strings(json, field, MAX_URIS);
    for (String u : uris) {
      String why = uriProblem(u);
      if (why != null) {
        throw new Invalid(error, field + ": " + printable(u) + " " + why);
      }
    }
    return List.copyOf(uris);
  }

  private static String optionalUri(Map<String, Object> json, String field) {
    String u = string(json, field, null);
    if (u == null) {
      return null;
    }
    String why = uriProblem(u);
    if (why != null || !(u.startsWith("https://") || u.startsWith("http://"))) {
      throw invalid(field + ": " + printable(u) + " " + (why == null ? "is not http(s)" : why));
    }
    return u;
  }

  /**
   * Why a URI a browser is sent to (a redirect URI, a logout URI, a CAS service URL) is refused, or
   * null when it is acceptable: absolute, canonical, no wildcard, fragment or user info, https
   * (http only on the loopback address) or a private-use scheme.
   */
  public static String uriProblem(String u) {
    if (u.isEmpty() || u.length() > MAX_URI_LENGTH) {
      return "is empty or longer than " + MAX_URI_LENGTH;
    }
    if (u.contains("*")) {
      return "has a wildcard (URIs are matched exactly)";
    }
    URI uri;
    try {
      uri = new URI(u);
    } catch (URISyntaxException e) {
      return "is not a URI";
    }
    if (!uri.isAbsolute() || uri.isOpaque()) {
      return "is not an absolute hierarchical URI";
    }
    if (uri.getRawFragment() != null) {
      return "has a fragment";
    }
    if (uri.getRawUserInfo() != null) {
      return "has user information";
    }
    String scheme = uri.getScheme();
    if (!scheme.equals(scheme.toLowerCase(Locale.ROOT))) {
      return "is not canonical (scheme in upper case)";
    }
    String path = uri.getRawPath() == null ? "" : uri.getRawPath();
    if (!uri.normalize().getRawPath().equals(path)
        || path.toLowerCase(Locale.ROOT).contains("%2e")) {
      // A browser sent to /a/../cb asks for /cb: one URI, two spellings, matched exactly.
      return "is not canonical (dot segments in the path)";
    }
    if (scheme.equals("https") || scheme.equals("http")) {
      String host = uri.getHost();
      if (host == null || host.isEmpty()) {
        return "has no host";
      }
      if (!host.equals(host.toLowerCase(Locale.ROOT))) {
        return "is not canonical (host in upper case)";
      }
      int port = uri.getPort();
      String authority = uri.getRawAuthority();
      if (port != -1 && (port < 1 || port > 65535)) {
        return "has a port outside 1-65535";
      }
      if (!authority.equals(uri.getHost() + (port == -1 ? "" : ":" + port))) {
        return "is not canonical (port written with leading zeros or empty)";
      }
      if ((scheme.equals("https") && port == 443) || (scheme.equals("http") && port == 80)) {
        return "is not canonical (default port written out)";
      }
      if (scheme.equals("http") && !(host.equals("127.0.0.1") || host.equals("[::1]"))) {
        return "is http on a host other than the loopback address (use https)";
      }
      return null;
    }
    if (!PRIVATE_SCHEME.matcher(scheme).matches()) {
      return "has a scheme that is neither https nor a reverse-domain private-use scheme";
    }
    return null;
  }

  private static Duration seconds(
      Map<String, Object> json, String field, long dflt, long min, long max) {
    Object v = json.get(field);
    if (v == null) {
      return Duration.ofSeconds(dflt);
    }
    if (!(v instanceof Integer || v instanceof Long)) {
      throw invalid(field + ": whole seconds, " + min + " to " + max);
    }
    long s = ((Number) v).longValue();
    if (s < min || s > max) {
      throw invalid(field + ": whole seconds, " + min + " to " + max);
    }
    return Duration.ofSeconds(s);
  }
}
