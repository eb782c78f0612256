package io.yinxin.sso;

import static io.yinxin.sso.Browser.location;
import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.sso.account.Accounts;
import io.yinxin.sso.account.DeviceCookies;
import java.net.HttpCookie;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Anyone who knows a username can block its account with five wrong passwords. The owner, from a
 * browser that signed in to that account before, still signs in: its device cookie's attempts are
 * counted against the cookie. The cookie vouches for its own account only, and a stolen cookie gets
 * five guesses before it is blocked itself.
 */
@SpringBootTest(
    classes = OpenIdProviderTest.App.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class DeviceCookieTest {
  private static final String PASSWORD = "correct horse battery staple";

  @DynamicPropertySource
  static void props(DynamicPropertyRegistry r) {
    OpenIdProviderTest.h2Node(r, "sso-device-cookie");
  }

  @LocalServerPort int port;
  @Autowired Accounts accounts;
  @Autowired javax.sql.DataSource dataSource;

  private String base() {
    return "http://127.0.0.1:" + port;
  }

  /** A browser that has been here before: only the device cookie of an earlier sign-in. */
  private Browser returning(HttpCookie device) {
    Browser b = new Browser(base());
    b.give(device);
    return b;
  }

  private static boolean signedIn(HttpResponse<String> r) {
    return r.statusCode() == 302 && !location(r).contains("/login");
  }

  @Test
  void theOwnersBrowserSignsInWhileStrangersHaveBlockedTheAccount() throws Exception {
    accounts.create("owner", PASSWORD, "Owner");
    accounts.create("neighbour", PASSWORD, "Neighbour");

    Browser first = new Browser(base());
    HttpResponse<String> r = first.signIn("Owner", PASSWORD);
    assertThat(signedIn(r)).isTrue();
    String setCookie =
        r.headers().allValues("Set-Cookie").stream()
            .filter(h -> h.startsWith(DeviceCookies.COOKIE + "="))
            .findFirst()
            .orElseThrow();
    assertThat(setCookie)
        .contains("Path=/login")
        .contains("HttpOnly")
        .contains("SameSite=Strict")
        .contains("Max-Age=" + DeviceCookies.LIFETIME.toSeconds());
    HttpCookie device = first.cookie(DeviceCookies.COOKIE);
    assertThat(device.getValue()).matches("[A-Za-z0-9_-]{75}");
    // The signed-in session does not keep the cookie (its authentication's details are plain).
    SessionAttributes.holdNone(dataSource, device.getValue(), "DeviceCookies");

    Browser neighbourFirst = new Browser(base());
    assertThat(signedIn(neighbourFirst.signIn("neighbour", PASSWORD))).isTrue();
    HttpCookie neighbours = neighbourFirst.cookie(DeviceCookies.COOKIE);

    // A stranger's five wrong passwords block the account for every unknown browser...
    Browser stranger = new Browser(base());
    for (int i = 0; i < 5; i++) {
      assertThat(signedIn(stranger.signIn("owner", "guess " + i))).isFalse();
    }
    assertThat(signedIn(new Browser(base()).signIn("owner", PASSWORD))).isFalse();
    // ...but not for the owner's, which signed in here before.
    assertThat(signedIn(returning(device).signIn("owner", PASSWORD))).isTrue();

    // The cookie vouches for the account it was issued for, not for the one typed in.
    for (int i = 0; i < 5; i++) {
      assertThat(signedIn(stranger.signIn("neighbour", "guess " + i))).isFalse();
    }
    assertThat(signedIn(returning(device).signIn("neighbour", PASSWORD))).isFalse();

    // An altered cookie vouches for nothing.
    char last = device.getValue().charAt(74);
    HttpCookie altered =
        new HttpCookie(
            DeviceCookies.COOKIE, device.getValue().substring(0, 74) + (last == 'A' ? 'Q' : 'A'));
    altered.setPath("/login");
    assertThat(signedIn(returning(altered).signIn("owner", PASSWORD))).isFalse();

    // A stolen cookie gets five guesses; then it is blocked too, and its browser is a stranger's.
    Browser thief = returning(neighbours);
    for (int i = 0; i < 5; i++) {
      assertThat(signedIn(thief.signIn("neighbour", "stolen cookie guess " + i))).isFalse();
    }
    Browser neighbour = returning(neighbours);
    assertThat(signedIn(neighbour.signIn("neighbour", PASSWORD))).isFalse();
    assertThat(neighbour.get("/login?error").body()).contains("try again after");

    // A new password forgets every browser: the owner's cookie, issued under the old one, no longer
    // gets past the account's block.
    accounts.setPassword("owner", "a new password after a compromise");
    assertThat(signedIn(returning(device).signIn("owner", "a new password after a compromise")))
        .isFalse();
  }
}
