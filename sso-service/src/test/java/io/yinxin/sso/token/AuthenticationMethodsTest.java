package io.yinxin.sso.token;

import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.sso.account.SecondFactorLogin;
import io.yinxin.sso.certificate.CertificateLogin;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.security.core.authority.FactorGrantedAuthority;
import org.springframework.security.core.authority.SimpleGrantedAuthority;

/** The RFC 8176 methods and the level of assurance each kind of sign-in gets. */
class AuthenticationMethodsTest {
  private static FactorGrantedAuthority factor(String a) {
    return FactorGrantedAuthority.withAuthority(a).issuedAt(Instant.now()).build();
  }

  @Test
  void eachSignInNamesItsMethodsAndLevel() {
    var role = new SimpleGrantedAuthority("ROLE_USER");
    List<String> pwd =
        AuthenticationMethods.amr(List.of(role, factor(FactorGrantedAuthority.PASSWORD_AUTHORITY)));
    assertThat(pwd).containsExactly("pwd");
    assertThat(AuthenticationMethods.acr(pwd)).isEqualTo(AuthenticationMethods.ONE_FACTOR);
    List<String> twoStep =
        AuthenticationMethods.amr(
            List.of(
                factor(FactorGrantedAuthority.PASSWORD_AUTHORITY),
                factor(SecondFactorLogin.TOTP_AUTHORITY)));
    assertThat(twoStep).containsExactly("pwd", "otp", "mfa");
    assertThat(AuthenticationMethods.acr(twoStep)).isEqualTo(AuthenticationMethods.TWO_FACTORS);
    List<String> certificate =
        AuthenticationMethods.amr(List.of(role, factor(CertificateLogin.X509_AUTHORITY)));
    assertThat(certificate).containsExactly("x509");
    assertThat(AuthenticationMethods.acr(certificate)).isEqualTo(AuthenticationMethods.TWO_FACTORS);
  }
}
