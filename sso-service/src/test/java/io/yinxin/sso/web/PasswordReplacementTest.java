package io.yinxin.sso.web;

import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.sso.account.SecondFactorLogin;
import io.yinxin.sso.certificate.CertificateLogin;
import io.yinxin.sso.federation.FederatedUsers;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.core.authority.FactorGrantedAuthority;
import org.springframework.security.core.authority.SimpleGrantedAuthority;

/**
 * Which sign-ins may set a new password without the current one: a citizen certificate or a
 * passkey, within the window, by that factor's own time; not a password, with or without its second
 * step, nor an upstream provider's sign-in.
 */
class PasswordReplacementTest {
  private static final Instant NOW = Instant.parse("2026-12-07T12:00:00Z");
  private static final Duration WITHIN = Duration.ofMinutes(15);

  private static Authentication signedIn(Object... factorAndAge) {
    List<GrantedAuthority> a = new ArrayList<>(List.of(new SimpleGrantedAuthority("ROLE_USER")));
    for (int i = 0; i < factorAndAge.length; i += 2) {
      a.add(
          FactorGrantedAuthority.withAuthority((String) factorAndAge[i])
              .issuedAt(NOW.minus((Duration) factorAndAge[i + 1]))
              .build());
    }
    return UsernamePasswordAuthenticationToken.authenticated("qianba", null, a);
  }

  private static boolean may(Authentication signedIn) {
    return AccountPages.mayReplacePassword(signedIn, WITHIN, NOW);
  }

  @Test
  void aRecentCertificateOrPasskeySignInMay() {
    assertThat(may(signedIn(CertificateLogin.X509_AUTHORITY, Duration.ofMinutes(1)))).isTrue();
    assertThat(may(signedIn(FactorGrantedAuthority.WEBAUTHN_AUTHORITY, Duration.ofMinutes(14))))
        .isTrue();
    assertThat(may(signedIn(CertificateLogin.X509_AUTHORITY, WITHIN)))
        .as("at the window's end")
        .isTrue();
  }

  @Test
  void anOldOneOrAPasswordOrAnUpstreamSignInMayNot() {
    assertThat(may(signedIn(CertificateLogin.X509_AUTHORITY, WITHIN.plusSeconds(1)))).isFalse();
    // A fresh second step does not make an old passkey sign-in recent.
    assertThat(
            may(
                signedIn(
                    FactorGrantedAuthority.WEBAUTHN_AUTHORITY,
                    Duration.ofHours(1),
                    SecondFactorLogin.TOTP_AUTHORITY,
                    Duration.ZERO)))
        .isFalse();
    assertThat(
            may(
                signedIn(
                    FactorGrantedAuthority.PASSWORD_AUTHORITY,
                    Duration.ZERO,
                    SecondFactorLogin.TOTP_AUTHORITY,
                    Duration.ZERO)))
        .isFalse();
    assertThat(may(signedIn(FederatedUsers.FEDERATED_AUTHORITY, Duration.ZERO))).isFalse();
    // A time in the future (another node's clock far ahead) is not taken as recent.
    assertThat(may(signedIn(CertificateLogin.X509_AUTHORITY, Duration.ofHours(-1)))).isFalse();
    assertThat(may(null)).isFalse();
  }
}
