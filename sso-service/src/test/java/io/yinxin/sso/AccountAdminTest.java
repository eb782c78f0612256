package io.yinxin.sso;

import static io.yinxin.sso.Browser.location;
import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.audit.store.LogStore;
import io.yinxin.sso.account.Accounts;
import io.yinxin.sso.account.SecondFactors;
import io.yinxin.sso.account.Totp;
import io.yinxin.sso.client.DemoClient;
import io.yinxin.sso.http.SsoAdmins;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * What an operator does with a person's account through the admin API: read its state, reset a
 * forgotten password, disable and enable it, remove a lost phone's authenticators. Each ends the
 * account's sessions and tokens where it must, and each change is one audit event.
 */
@SpringBootTest(
    classes = OpenIdProviderTest.App.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class AccountAdminTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final String REDIRECT = "http://127.0.0.1:8000/callback";
  private static final String PASSWORD = "a person's own password 9";

  @DynamicPropertySource
  static void props(DynamicPropertyRegistry r) {
    OpenIdProviderTest.h2Node(r, "sso-account-admin");
  }

  @LocalServerPort int port;
  @Autowired SsoAdmins admins;
  @Autowired Accounts accounts;
  @Autowired SecondFactors factors;
  @Autowired DemoClient demo;
  @Autowired DataSource dataSource;
  @Autowired LogStore auditStore;

  private String base() {
    return "http://127.0.0.1:" + port;
  }

  private HttpResponse<String> admin(String method, String path, String body) throws Exception {
    return Browser.json(base(), method, path, admins.devToken().orElseThrow(), body);
  }

  private long changes(String username, String change) throws Exception {
    return AuditEvents.countFor(
        dataSource, auditStore, "CONFIG_CHANGED", "account/" + username, change);
  }

  /** A signed-in browser's refresh token for the demo portal (openid only: no consent asked). */
  private String refreshToken(Browser b) throws Exception {
    String verifier = Browser.verifier();
    String code = b.authorizationCode(demo.clientId(), "openid", REDIRECT, verifier);
    HttpResponse<String> tokens =
        b.tokensFor(
            code, REDIRECT, verifier, Browser.basic(demo.clientId(), demo.secret().orElseThrow()));
    assertThat(tokens.statusCode()).as(tokens.body()).isEqualTo(200);
    return JSON.readTree(tokens.body()).path("refresh_token").asString();
  }

  private HttpResponse<String> refresh(Browser b, String token) throws Exception {
    return b.post(
        "/oauth2/token",
        Map.of("grant_type", "refresh_token", "refresh_token", token),
        Browser.basic(demo.clientId(), demo.secret().orElseThrow()));
  }

  @Test
  void accountsAreListedAPageAtATimeByPrefix() throws Exception {
    // Usernames with '_' and '.', which a LIKE pattern would take as wildcards if not escaped.
    for (String u : new String[] {"list_a1", "list_a2", "list_a3", "list.b", "listxa9", "lisz"}) {
      accounts.create(u, "a long enough password 1", u);
    }
    assertThat(
            admin("PUT", "/sso/v1/accounts/list_a2/enabled", "{\"enabled\": false}").statusCode())
        .isEqualTo(200);
    List<String> seen = new java.util.ArrayList<>();
    String after = null;
    for (int page = 0; page < 5; page++) {
      JsonNode r =
          JSON.readTree(
              admin(
                      "GET",
                      "/sso/v1/accounts?prefix=list_&limit=2"
                          + (after == null ? "" : "&after=" + after),
                      null)
                  .body());
      for (JsonNode a : r.path("accounts")) {
        seen.add(a.path("username").asString());
        assertThat(a.path("enabled").asBoolean())
            .isEqualTo(!a.path("username").asString().equals("list_a2"));
        assertThat(a.has("created_at")).isTrue();
      }
      if (r.path("next").isNull()) {
        break;
      }
      after = r.path("next").asString();
    }
    // list_ is a prefix, not a pattern: neither list.b nor listxa9 is in it.
    assertThat(seen).containsExactly("list_a1", "list_a2", "list_a3");
    JsonNode all = JSON.readTree(admin("GET", "/sso/v1/accounts?prefix=lis", null).body());
    assertThat(all.path("accounts").size()).isEqualTo(6);
    assertThat(all.path("next").isNull()).isTrue();

    // One spelling per parameter; no token, no list.
    for (String bad :
        new String[] {
          "limit=0",
          "limit=101",
          "limit=050",
          "limit=+5",
          "limit=4294967301",
          "limit=1e2",
          "limit=5&limit=6",
          "prefix=",
          "prefix=LIST",
          "prefix=list%25",
          "after=List_a1",
          "after=%20list_a1"
        }) {
      HttpResponse<String> r = admin("GET", "/sso/v1/accounts?" + bad, null);
      assertThat(r.statusCode()).as(bad).isEqualTo(400);
    }
    assertThat(Browser.json(base(), "GET", "/sso/v1/accounts", null, null).statusCode())
        .isEqualTo(401);
  }

  @Test
  void anOperatorLiftsTheBlocksAPersonsOwnFailuresPutOnTheirAccount() throws Exception {
    accounts.create("locked.out", PASSWORD, "Locked out");
    JsonNode before = JSON.readTree(admin("GET", "/sso/v1/accounts/locked.out", null).body());
    assertThat(before.path("password_blocked_until").isNull()).isTrue();
    assertThat(before.path("second_step_blocked_until").isNull()).isTrue();
    Browser guesser = new Browser(base());
    for (int i = 0; i < 5; i++) {
      guesser.signIn("locked.out", "not the password " + i);
    }
    assertThat(location(guesser.signIn("locked.out", PASSWORD))).endsWith("/login?error");
    JsonNode blocked = JSON.readTree(admin("GET", "/sso/v1/accounts/locked.out", null).body());
    assertThat(java.time.Instant.parse(blocked.path("password_blocked_until").asString()))
        .isAfter(java.time.Instant.now());

    HttpResponse<String> lift = admin("DELETE", "/sso/v1/accounts/Locked.Out/sign-in-blocks", null);
    assertThat(lift.statusCode()).as(lift.body()).isEqualTo(200);
    assertThat(JSON.readTree(lift.body()).path("lifted").asBoolean()).isTrue();
    assertThat(changes("locked.out", "sign-in blocks lifted")).isEqualTo(1);
    assertThat(
            JSON.readTree(admin("GET", "/sso/v1/accounts/locked.out", null).body())
                .path("password_blocked_until")
                .isNull())
        .isTrue();
    assertThat(location(guesser.signIn("locked.out", PASSWORD))).doesNotContain("/login");

    // Nothing left to lift: nothing changes, nothing is recorded. No account, no token: refused.
    assertThat(
            JSON.readTree(
                    admin("DELETE", "/sso/v1/accounts/locked.out/sign-in-blocks", null).body())
                .path("lifted")
                .asBoolean())
        .isFalse();
    assertThat(changes("locked.out", "sign-in blocks lifted")).isEqualTo(1);
    assertThat(admin("DELETE", "/sso/v1/accounts/nobody.here/sign-in-blocks", null).statusCode())
        .isEqualTo(404);
    assertThat(
            Browser.json(base(), "DELETE", "/sso/v1/accounts/locked.out/sign-in-blocks", null, null)
                .statusCode())
        .isEqualTo(401);
  }

  @Test
  void aForgottenPasswordIsResetToAOneTimePasswordAndEverySessionAndTokenEnds() throws Exception {
    accounts.create("forgetful", PASSWORD, "Forgetful");
    Browser b = new Browser(base());
    assertThat(location(b.signIn("forgetful", PASSWORD))).doesNotContain("/login");
    String refresh = refreshToken(b);
    // Five wrong guesses (the person's own, perhaps) block the account's password sign-in.
    Browser guesser = new Browser(base());
    for (int i = 0; i < 5; i++) {
      guesser.signIn("forgetful", "not the password " + i);
    }
    guesser.signIn("forgetful", PASSWORD);
    assertThat(guesser.get("/login?error").body()).contains("登录失败次数过多");

    HttpResponse<String> reset = admin("POST", "/sso/v1/accounts/FORGETFUL/password-reset", null);
    assertThat(reset.statusCode()).as(reset.body()).isEqualTo(200);
    assertThat(reset.headers().firstValue("Cache-Control")).hasValue("no-store");
    JsonNode r = JSON.readTree(reset.body());
    assertThat(r.path("username").asString()).isEqualTo("forgetful");
    String oneTime = r.path("one_time_password").asString();
    assertThat(oneTime).matches("[A-Za-z0-9_-]{20}");

    // The session and the portal's tokens are gone; the old password signs nobody in.
    assertThat(location(b.get("/account"))).endsWith("/login");
    assertThat(refresh(b, refresh).body()).contains("invalid_grant");
    assertThat(location(new Browser(base()).signIn("forgetful", PASSWORD))).endsWith("error");
    // The one-time password leads only to setting a new one, at once: the block is lifted.
    assertThat(location(new Browser(base()).signIn("forgetful", oneTime)))
        .endsWith("/login/password");
    assertThat(changes("forgetful", "password reset")).isEqualTo(1);

    assertThat(admin("POST", "/sso/v1/accounts/nobody.here/password-reset", null).statusCode())
        .isEqualTo(404);
    assertThat(admin("POST", "/sso/v1/accounts/..%2Fx/password-reset", null).statusCode())
        .isIn(400, 404);
    assertThat(
            Browser.json(base(), "POST", "/sso/v1/accounts/forgetful/password-reset", null, null)
                .statusCode())
        .isEqualTo(401);
    assertThat(changes("forgetful", "password reset")).isEqualTo(1);
  }

  @Test
  void aDisabledAccountSignsInByNoMethodAndItsSessionsAndTokensEnd() throws Exception {
    accounts.create("leaver", PASSWORD, "Leaver");
    Browser b = new Browser(base());
    b.signIn("leaver", PASSWORD);
    String refresh = refreshToken(b);
    JsonNode state = JSON.readTree(admin("GET", "/sso/v1/accounts/leaver", null).body());
    assertThat(state.path("enabled").asBoolean()).isTrue();
    assertThat(state.path("display_name").asString()).isEqualTo("Leaver");
    assertThat(state.path("totp").asBoolean()).isFalse();
    assertThat(state.has("password_hash")).isFalse();

    for (String bad :
        new String[] {
          "{\"enabled\": \"false\"}", "{}", "{\"enabled\": false, \"why\": \"x\"}", "[false]", "0"
        }) {
      assertThat(admin("PUT", "/sso/v1/accounts/leaver/enabled", bad).statusCode())
          .as(bad)
          .isEqualTo(400);
    }
    assertThat(
            JSON.readTree(admin("GET", "/sso/v1/accounts/leaver", null).body())
                .path("enabled")
                .asBoolean())
        .isTrue();

    HttpResponse<String> off =
        admin("PUT", "/sso/v1/accounts/leaver/enabled", "{\"enabled\": false}");
    assertThat(off.statusCode()).as(off.body()).isEqualTo(200);
    assertThat(JSON.readTree(off.body()).path("changed").asBoolean()).isTrue();
    assertThat(location(b.get("/account"))).endsWith("/login");
    assertThat(refresh(b, refresh).body()).contains("invalid_grant");
    assertThat(location(new Browser(base()).signIn("leaver", PASSWORD))).endsWith("error");
    // Again: nothing changes, nothing is recorded.
    HttpResponse<String> again =
        admin("PUT", "/sso/v1/accounts/leaver/enabled", "{\"enabled\": false}");
    assertThat(JSON.readTree(again.body()).path("changed").asBoolean()).isFalse();
    assertThat(changes("leaver", "account disabled")).isEqualTo(1);
    assertThat(
            admin("PUT", "/sso/v1/accounts/nobody.here/enabled", "{\"enabled\": false}")
                .statusCode())
        .isEqualTo(404);

    admin("PUT", "/sso/v1/accounts/leaver/enabled", "{\"enabled\": true}");
    assertThat(location(new Browser(base()).signIn("leaver", PASSWORD))).doesNotContain("/login");
    assertThat(changes("leaver", "account enabled")).isEqualTo(1);
  }

  @Test
  void aLostPhonesAuthenticatorsAreRemovedAndThePasswordAloneSignsInAgain() throws Exception {
    accounts.create("lostphone", PASSWORD, "Lost phone");
    byte[] secret = SecondFactors.newSecret();
    String code = SecondFactorTest.oathtool(Totp.base32(secret), 0);
    assertThat(factors.enrol("lostphone", secret, code)).hasSize(SecondFactors.RECOVERY_CODES);
    assertThat(location(new Browser(base()).signIn("lostphone", PASSWORD))).endsWith("/login/otp");
    assertThat(
            JSON.readTree(admin("GET", "/sso/v1/accounts/lostphone", null).body())
                .path("totp")
                .asBoolean())
        .isTrue();

    HttpResponse<String> removed =
        admin("DELETE", "/sso/v1/accounts/lostphone/second-factors", null);
    assertThat(removed.statusCode()).as(removed.body()).isEqualTo(200);
    JsonNode r = JSON.readTree(removed.body());
    assertThat(r.path("totp").asInt()).isEqualTo(1);
    assertThat(r.path("recovery_codes").asInt()).isEqualTo(SecondFactors.RECOVERY_CODES);
    assertThat(r.path("passkeys").asInt()).isZero();
    assertThat(factors.hasTotp("lostphone")).isFalse();
    assertThat(location(new Browser(base()).signIn("lostphone", PASSWORD)))
        .doesNotContain("/login");
    // Nothing left to remove: nothing recorded.
    JsonNode none =
        JSON.readTree(admin("DELETE", "/sso/v1/accounts/lostphone/second-factors", null).body());
    assertThat(none.path("totp").asInt() + none.path("recovery_codes").asInt()).isZero();
    assertThat(changes("lostphone", "second factors removed")).isEqualTo(1);
    assertThat(admin("DELETE", "/sso/v1/accounts/nobody.here/second-factors", null).statusCode())
        .isEqualTo(404);
    assertThat(admin("GET", "/sso/v1/accounts/nobody.here", null).statusCode()).isEqualTo(404);
  }

  @Test
  void anOperatorSignsAPersonOutEverywhere() throws Exception {
    accounts.create("laptop.lost", PASSWORD, "Laptop lost");
    Browser phone = new Browser(base());
    phone.signIn("laptop.lost", PASSWORD);
    Browser laptop = new Browser(base());
    laptop.signIn("laptop.lost", PASSWORD);
    String refresh = refreshToken(laptop);
    HttpResponse<String> out = admin("POST", "/sso/v1/accounts/laptop.lost/sign-out", null);
    assertThat(out.statusCode()).as(out.body()).isEqualTo(200);
    assertThat(location(phone.get("/account"))).endsWith("/login");
    assertThat(location(laptop.get("/account"))).endsWith("/login");
    assertThat(refresh(laptop, refresh).body()).contains("invalid_grant");
    assertThat(AuditEvents.countFor(dataSource, auditStore, "LOGGED_OUT", "laptop.lost"))
        .isEqualTo(1);
    // The password still signs in: nothing else changed.
    assertThat(location(new Browser(base()).signIn("laptop.lost", PASSWORD)))
        .doesNotContain("/login");
    assertThat(admin("POST", "/sso/v1/accounts/nobody.here/sign-out", null).statusCode())
        .isEqualTo(404);
  }
}
