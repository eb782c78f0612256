package io.yinxin.sso.token;

import io.yinxin.sso.account.SecondFactorLogin;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.core.authority.FactorGrantedAuthority;
import org.springframework.security.oauth2.core.oidc.endpoint.OidcParameterNames;
import org.springframework.security.oauth2.server.authorization.token.JwtEncodingContext;

/**
 * How the person signed in, in the ID token: {@code amr} (RFC 8176 values) from the factors the
 * session passed ({@code pwd} for the password, {@code otp} for a TOTP code, {@code mfa} when more
 * than one; {@code x509} for a citizen certificate), and {@code acr}: {@value #ONE_FACTOR} or
 * {@value #TWO_FACTORS} (two factors, or a certificate); and {@code auth_time}, when the latest
 * factor was passed.
 */
public final class AuthenticationMethods {
  public static final String ONE_FACTOR = "urn:yinxin:loa:1";
  public static final String TWO_FACTORS = "urn:yinxin:loa:2";

  private AuthenticationMethods() {}

  public static void addToIdToken(JwtEncodingContext context) {
    if (!OidcParameterNames.ID_TOKEN.equals(context.getTokenType().getValue())) {
      return;
    }
    Authentication principal = context.getPrincipal();
    List<String> amr = amr(principal.getAuthorities());
    if (amr.isEmpty()) {
      return;
    }
    context.getClaims().claim("amr", amr).claim("acr", acr(amr));
    // When the person signed in (the latest factor), as upstream would from a session registry
    // this node does not keep; a refreshed ID token keeps the one it had.
    authTime(principal)
        .ifPresent(
            at -> {
              java.util.Date authTime = java.util.Date.from(at);
              context.getClaims().claims(c -> c.putIfAbsent("auth_time", authTime));
            });
    // Signed in through an upstream provider: which one.
    if (principal.getPrincipal() instanceof io.yinxin.sso.federation.FederatedUser f) {
      context.getClaims().claim("idp", f.upstream());
    }
  }

  /** When the person signed in: when they passed the latest factor (empty: no factor known). */
  public static java.util.Optional<java.time.Instant> authTime(Authentication a) {
    java.time.Instant latest = null;
    for (GrantedAuthority g : a.getAuthorities()) {
      if (g instanceof FactorGrantedAuthority f
          && f.getIssuedAt() != null
          && (latest == null || f.getIssuedAt().isAfter(latest))) {
        latest = f.getIssuedAt();
      }
    }
    return java.util.Optional.ofNullable(latest);
  }

  /**
   * Which sign-in a session holds: the name and the times of its factors, or "none". Two
   * fingerprints differ when the person signed in again in between.
   */
  public static String signIn(Authentication a) {
    if (a == null) {
      return "none";
    }
    List<String> parts = new ArrayList<>();
    parts.add(a.getName());
    for (GrantedAuthority g : a.getAuthorities()) {
      if (g instanceof FactorGrantedAuthority f) {
        parts.add(f.getAuthority() + "@" + f.getIssuedAt());
      }
    }
    return String.join(" ", parts);
  }

  /** The level of assurance of a sign-in with these methods. */
  public static String acr(List<String> amr) {
    // A certificate is a key the person holds, usually behind a PIN: as strong as two factors.
    return amr.contains("mfa") || amr.contains("x509") || amr.contains("hwk")
        ? TWO_FACTORS
        : ONE_FACTOR;
  }

  /** The RFC 8176 methods a session's authorities show, {@code mfa} last when there are two. */
  public static List<String> amr(Collection<? extends GrantedAuthority> authorities) {
    List<String> amr = new ArrayList<>();
    for (GrantedAuthority a : authorities) {
      String m =
          switch (a.getAuthority()) {
            case FactorGrantedAuthority.PASSWORD_AUTHORITY -> "pwd";
            case SecondFactorLogin.TOTP_AUTHORITY -> "otp";
            case io.yinxin.sso.certificate.CertificateLogin.X509_AUTHORITY -> "x509";
            case io.yinxin.sso.federation.FederatedUsers.FEDERATED_AUTHORITY -> "fed";
            // A passkey: a key held by an authenticator, used after the person's verification.
            case FactorGrantedAuthority.WEBAUTHN_AUTHORITY -> "hwk";
            default -> null;
          };
      if (m != null && !amr.contains(m)) {
        amr.add(m);
      }
    }
    if (amr.size() > 1) {
      amr.add("mfa");
    }
    return amr;
  }
}
