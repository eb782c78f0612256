package io.yinxin.sso.client;

import io.yinxin.sso.certificate.CertificateChain;
import jakarta.servlet.http.HttpServletRequest;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import javax.security.auth.x500.X500Principal;
import org.springframework.security.core.Authentication;
import org.springframework.security.oauth2.core.ClientAuthenticationMethod;
import org.springframework.security.oauth2.core.OAuth2AuthenticationException;
import org.springframework.security.oauth2.core.OAuth2Error;
import org.springframework.security.oauth2.core.OAuth2ErrorCodes;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2ClientAuthenticationContext;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2ClientAuthenticationToken;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClient;
import org.springframework.security.oauth2.server.authorization.web.authentication.X509ClientCertificateAuthenticationConverter;
import org.springframework.security.web.authentication.AuthenticationConverter;

/**
 * PKI mutual-TLS client authentication, {@code tls_client_auth} (RFC 8705 §2.1): the client's
 * certificate chain must pass {@link CertificateChain} against the configured client CA
 * certificates ({@code yinxin.sso.client-ca}: PKIX, client authentication, OCSP status), and its
 * certificate must carry the one name the client registered — subject DN, or a DNS, URI, IP or
 * e-mail subject alternative name (§2.1.2). Names are compared as values, not as text: a DN by its
 * canonical form (so {@code cn=Agency, o=X} is {@code CN=Agency,O=X}), an IP address by its bytes.
 *
 * <p>Spring's provider leaves trust to the TLS handshake and compares the DN's text. Yinxin's
 * mutual-TLS port accepts any certificate at the handshake (so the citizen sign-in page can say why
 * one is refused), so here the chain is validated before any name is believed: a self-made
 * certificate with a registered client's subject DN gets {@code invalid_client}.
 */
public final class TlsClientAuth {
  private TlsClientAuth() {}

  /** The registered name's kinds, by their RFC 8705 metadata names. */
  public static final List<String> NAME_FIELDS =
      List.of(
          "tls_client_auth_subject_dn",
          "tls_client_auth_san_dns",
          "tls_client_auth_san_uri",
          "tls_client_auth_san_ip",
          "tls_client_auth_san_email");

  /** Client settings keys of the registered name: its field and its canonical value. */
  public static final String NAME_FIELD = "yinxin.tls_client_auth_name_field";

  public static final String NAME_VALUE = "yinxin.tls_client_auth_name_value";

  private static final Pattern DNS =
      Pattern.compile(
          "(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*");
  private static final Pattern IP_LITERAL = Pattern.compile("[0-9A-Fa-f:.]{2,45}");
  private static final Pattern EMAIL = Pattern.compile("[^@\\s]{1,64}@[A-Za-z0-9.-]{1,189}");

  /**
   * The canonical form of a registered name, or empty if it is not a valid value of its kind. A DN
   * is re-encoded (RFC 2253); a DNS name and an e-mail domain lower-cased; an IP address written as
   * Java writes it (IPv6 uncompressed), parsed as a literal and never looked up.
   */
  public static Optional<String> canonicalName(String field, String value) {
    if (value == null || value.isEmpty() || value.length() > 2000) {
      return Optional.empty();
    }
    switch (field) {
      case "tls_client_auth_subject_dn":
        try {
          return Optional.of(new X500Principal(value).getName(X500Principal.RFC2253));
        } catch (IllegalArgumentException e) {
          return Optional.empty();
        }
      case "tls_client_auth_san_dns":
        String dns = value.toLowerCase(Locale.ROOT);
        return DNS.matcher(dns).matches() ? Optional.of(dns) : Optional.empty();
      case "tls_client_auth_san_uri":
        try {
          java.net.URI u = new java.net.URI(value);
          return u.isAbsolute() ? Optional.of(value) : Optional.empty();
        } catch (java.net.URISyntaxException e) {
          return Optional.empty();
        }
      case "tls_client_auth_san_ip":
        return ip(value).map(InetAddress::getHostAddress);
      case "tls_client_auth_san_email":
        if (!EMAIL.matcher(value).matches()) {
          return Optional.empty();
        }
        int at = value.lastIndexOf('@');
        return Optional.of(
            value.substring(0, at + 1) + value.substring(at + 1).toLowerCase(Locale.ROOT));
      default:
        return Optional.empty();
    }
  }

  /** An IP address literal (v4 or v6), parsed without any name lookup. */
  private static Optional<InetAddress> ip(String literal) {
    if (!IP_LITERAL.matcher(literal).matches()
        || !(literal.contains(":") || literal.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}"))) {
      return Optional.empty();
    }
    try {
      return Optional.of(InetAddress.getByName(literal));
    } catch (UnknownHostException e) {
      return Optional.empty();
    }
  }

  /** Whether the certificate carries the registered name (field and canonical value). */
  static boolean carries(X509Certificate cert, String field, String value) {
    if (field.equals("tls_client_auth_subject_dn")) {
      try {
        return cert.getSubjectX500Principal().equals(new X500Principal(value));
      } catch (IllegalArgumentException e) {
        return false;
      }
    }
    int type =
        switch (field) {
          case "tls_client_auth_san_email" -> 1;
          case "tls_client_auth_san_dns" -> 2;
          case "tls_client_auth_san_uri" -> 6;
          case "tls_client_auth_san_ip" -> 7;
          default -> -1;
        };
    Collection<List<?>> names;
    try {
      names = cert.getSubjectAlternativeNames();
    } catch (CertificateParsingException e) {
      return false;
    }
    if (names == null || type < 0) {
      return false;
    }
    for (List<?> n : names) {
      if (!(n.get(0) instanceof Integer t) || t != type || !(n.get(1) instanceof String v)) {
        continue;
      }
      Optional<String> canonical = canonicalName(field, v);
      if (canonical.isPresent() && canonical.get().equals(value)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Spring's converter, except that a single certificate is {@code self_signed_tls_client_auth}
   * only when it is self-issued: a CA-issued certificate presented without its chain (curl's
   * default) is {@code tls_client_auth}, and its chain is completed from the client CA.
   */
  public static AuthenticationConverter converter() {
    X509ClientCertificateAuthenticationConverter spring =
        new X509ClientCertificateAuthenticationConverter();
    return (HttpServletRequest request) -> {
      Authentication a = spring.convert(request);
      if (a instanceof OAuth2ClientAuthenticationToken t
          && ClientAuthenticationMethod.SELF_SIGNED_TLS_CLIENT_AUTH.equals(
              t.getClientAuthenticationMethod())
          && t.getCredentials() instanceof X509Certificate[] chain
          && !chain[0].getIssuerX500Principal().equals(chain[0].getSubjectX500Principal())) {
        return new OAuth2ClientAuthenticationToken(
            t.getPrincipal().toString(),
            ClientAuthenticationMethod.TLS_CLIENT_AUTH,
            chain,
            t.getAdditionalParameters());
      }
      return a;
    };
  }

  /**
   * The certificate check of Spring's {@code X509ClientCertificateAuthenticationProvider}: {@code
   * tls_client_auth} as above (refused when no client CA is configured), {@code
   * self_signed_tls_client_auth} by {@code selfSigned} (Spring's own check against the client's JWK
   * set).
   */
  public static Consumer<OAuth2ClientAuthenticationContext> verifier(
      Optional<CertificateChain> clientCa, Consumer<OAuth2ClientAuthenticationContext> selfSigned) {
    return context -> {
      OAuth2ClientAuthenticationToken auth = context.getAuthentication();
      if (!ClientAuthenticationMethod.TLS_CLIENT_AUTH.equals(
          auth.getClientAuthenticationMethod())) {
        selfSigned.accept(context);
        return;
      }
      if (clientCa.isEmpty()) {
        throw invalidClient("no client CA is configured for tls_client_auth");
      }
      X509Certificate[] chain = (X509Certificate[]) auth.getCredentials();
      Optional<String> refused = clientCa.get().refusal(chain);
      if (refused.isPresent()) {
        throw invalidClient("client certificate " + refused.get());
      }
      RegisteredClient client = context.getRegisteredClient();
      Object field = client.getClientSettings().getSetting(NAME_FIELD);
      Object value = client.getClientSettings().getSetting(NAME_VALUE);
      if (!(field instanceof String f)
          || !(value instanceof String v)
          || !carries(chain[0], f, v)) {
        throw invalidClient("the client certificate does not carry the registered name");
      }
    };
  }

  /**
   * Spring's check for self-signed certificates ({@code X509SelfSignedCertificateVerifier}, not
   * public): the certificate's key must be one of the client's registered JWK set's {@code x5c}.
   * Made by name so that replacing the provider's verifier (for {@code tls_client_auth}) keeps it.
   */
  @SuppressWarnings("unchecked")
  public static Consumer<OAuth2ClientAuthenticationContext> springSelfSignedVerifier() {
    try {
      var c =
          Class.forName(
                  "org.springframework.security.oauth2.server.authorization.authentication"
                      + ".X509SelfSignedCertificateVerifier")
              .getDeclaredConstructor();
      c.setAccessible(true);
      return (Consumer<OAuth2ClientAuthenticationContext>) c.newInstance();
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("Spring's self-signed certificate check is not there", e);
    }
  }

  private static OAuth2AuthenticationException invalidClient(String description) {
    OAuth2Error error =
        new OAuth2Error(
            OAuth2ErrorCodes.INVALID_CLIENT,
            "Client authentication failed: " + description,
            "https://datatracker.ietf.org/doc/html/rfc8705#section-2.1");
    return new OAuth2AuthenticationException(error, error.toString());
  }
}
