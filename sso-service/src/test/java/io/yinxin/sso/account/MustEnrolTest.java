package io.yinxin.sso.account;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.core.authority.FactorGrantedAuthority;
import org.springframework.security.core.context.SecurityContextHolder;

/**
 * Who a second-factor policy holds at the enrolment page: the person the password sign-in noted,
 * while the session has nothing stronger than that password. Signed in as someone else, or since
 * with a passkey, the session goes where it likes.
 */
class MustEnrolTest {
  private final SecondFactorLogin login =
      new SecondFactorLogin(
          null, null, null, null, null, null, SecondFactorLogin.Policy.EVERYONE, Clock.systemUTC());

  @AfterEach
  void clear() {
    SecurityContextHolder.clearContext();
  }

  private static void signedIn(String name, String... factors) {
    List<GrantedAuthority> a = new java.util.ArrayList<>();
    for (String f : factors) {
      a.add(FactorGrantedAuthority.withAuthority(f).issuedAt(Instant.now()).build());
    }
    SecurityContextHolder.getContext()
        .setAuthentication(UsernamePasswordAuthenticationToken.authenticated(name, null, a));
  }

  @Test
  void onlyAPasswordSignInOfTheNotedPersonIsHeld() {
    MockHttpServletRequest request = new MockHttpServletRequest();
    assertThat(login.mustEnrol(request)).isFalse(); // no session
    request.getSession().setAttribute(SecondFactorLogin.MUST_ENROL, "wang");
    assertThat(login.mustEnrol(request)).isFalse(); // nobody signed in
    signedIn("wang", FactorGrantedAuthority.PASSWORD_AUTHORITY);
    assertThat(login.mustEnrol(request)).isTrue();
    signedIn("li", FactorGrantedAuthority.PASSWORD_AUTHORITY);
    assertThat(login.mustEnrol(request)).isFalse();
    signedIn(
        "wang",
        FactorGrantedAuthority.PASSWORD_AUTHORITY,
        FactorGrantedAuthority.WEBAUTHN_AUTHORITY);
    assertThat(login.mustEnrol(request)).isFalse();
    signedIn("wang", SecondFactorLogin.TOTP_AUTHORITY);
    assertThat(login.mustEnrol(request)).isFalse();
  }
}
