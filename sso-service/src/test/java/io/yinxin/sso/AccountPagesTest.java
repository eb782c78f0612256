package io.yinxin.sso;

import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.sso.account.Accounts;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.Statement;
import java.util.Map;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The administrator's one-time password signs nobody in: it leads to the page that sets a new one,
 * after which only the new one works. The account page (both languages) lists the person's sessions
 * and recent sign-ins, changes the password only with the current one, and ending the other
 * sessions really ends them.
 */
@SpringBootTest(
    classes = OpenIdProviderTest.App.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class AccountPagesTest {
  @DynamicPropertySource
  static void props(DynamicPropertyRegistry r) throws Exception {
    OpenIdProviderTest.h2Node(r, "sso-account");
    // A breached-password list in Have I Been Pwned's form, hashed by coreutils' sha1sum.
    java.nio.file.Path list = java.nio.file.Files.createTempFile("pwned", ".txt");
    list.toFile().deleteOnExit();
    Process p = new ProcessBuilder("sha1sum").start();
    p.getOutputStream().write(BREACHED.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    p.getOutputStream().close();
    String hash =
        new String(p.getInputStream().readAllBytes())
            .substring(0, 40)
            .toUpperCase(java.util.Locale.ROOT);
    java.nio.file.Files.writeString(
        list, "0".repeat(40) + ":1\r\n" + hash + ":7\r\n" + "F".repeat(40) + ":1\r\n");
    r.add("yinxin.sso.breached-passwords", list::toString);
  }

  /** Strong by zxcvbn's reckoning, and in the breached list. */
  private static final String BREACHED = "violet kettle under 9 bridges";

  @LocalServerPort int port;
  @Autowired Accounts accounts;
  @Autowired DataSource dataSource;
  @Autowired io.yinxin.sso.client.DemoClient demo;
  @Autowired io.yinxin.audit.store.LogStore auditStore;

  private String base() {
    return "http://127.0.0.1:" + port;
  }

  private static HttpResponse<String> signIn(Browser b, String username, String password)
      throws Exception {
    String csrf = Browser.group("name=\"_csrf\"[^>]*value=\"([^\"]+)\"", b.get("/login").body());
    return b.post(
        "/login", Map.of("username", username, "password", password, "_csrf", csrf), null);
  }

  /** ASCII as a Chinese input method types it in full-width mode (U+FF01–FF5E, U+3000). */
  private static String fullWidth(String ascii) {
    StringBuilder b = new StringBuilder();
    for (char c : ascii.toCharArray()) {
      b.append(c == ' ' ? '\u3000' : (char) (c - 0x21 + 0xFF01));
    }
    return b.toString();
  }

  private static String csrf(String html) {
    return Browser.group("name=\"_csrf\"[^>]*value=\"([^\"]+)\"", html);
  }

  /** The password form, sent with the new password typed twice. */
  private static HttpResponse<String> changePassword(
      Browser b, String current, String next, String csrf) throws Exception {
    return b.post(
        "/account/password",
        Map.of("current", current, "password", next, "repeat", next, "_csrf", csrf),
        null);
  }

  @Test
  void theAdministratorsOneTimePasswordOnlyLeadsToSettingANewOne() throws Exception {
    // The node made "admin" at start and printed its password; make it again here to know it.
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      s.executeUpdate("DELETE FROM sso.accounts WHERE administrator");
    }
    String once = accounts.createAdministrator("admin").orElseThrow();
    assertThat(accounts.createAdministrator("admin")).isEmpty(); // one administrator is made once

    Browser b = new Browser(base());
    assertThat(Browser.location(signIn(b, "admin", once))).endsWith("/login/password");
    // Not signed in meanwhile.
    assertThat(Browser.location(b.get("/account"))).endsWith("/login");
    HttpResponse<String> form = b.get("/login/password");
    assertThat(form.body()).contains("一次性密码", "<label for=\"password\"", "<label for=\"repeat\"");
    String token = csrf(form.body());
    assertThat(
            b.post(
                    "/login/password",
                    Map.of(
                        "password",
                        "new office pass 1",
                        "repeat",
                        "new office pass 2",
                        "_csrf",
                        token),
                    null)
                .body())
        .contains("不一致");
    assertThat(
            b.post(
                    "/login/password",
                    Map.of("password", "short", "repeat", "short", "_csrf", token),
                    null)
                .body())
        .contains("12");
    // Not the one-time password again (whoever handed it out knows it), not the username in
    // it, not a run of keys.
    for (String[] refused :
        new String[][] {
          {once, "不能与当前密码相同"},
          {"admin password 2024", "不能包含用户名"},
          {"1qaz2wsx3edc4rfv", "键盘上的一排键"},
          {"abcabcabcabc", "几个字符的重复"}
        }) {
      assertThat(
              b.post(
                      "/login/password",
                      Map.of("password", refused[0], "repeat", refused[0], "_csrf", token),
                      null)
                  .body())
          .as(refused[1])
          .contains(refused[1]);
    }
    assertThat(accounts.isCurrentPassword("admin", once)).isTrue();
    String chosen = "a new head of office passphrase";
    assertThat(
            Browser.location(
                b.post(
                    "/login/password",
                    Map.of("password", chosen, "repeat", chosen, "_csrf", token),
                    null)))
        .endsWith("/login?changed");
    assertThat(b.get("/login?changed").body()).contains("新密码已设置");

    Browser later = new Browser(base());
    assertThat(Browser.location(signIn(later, "admin", once))).endsWith("/login?error");
    // Typed with a Chinese input method in full-width mode, name and password are the same.
    assertThat(Browser.location(signIn(later, fullWidth("admin"), fullWidth(chosen))))
        .doesNotContain("/login");
    assertThat(later.get("/account").body()).contains("管理员 Administrator");
    // Without the one-time password's proof the page to set one is closed.
    assertThat(Browser.location(new Browser(base()).get("/login/password"))).endsWith("/login");
  }

  @Test
  void theAccountPageShowsSessionsAndSignInsAndChangesThePasswordWithTheCurrentOne()
      throws Exception {
    String password = "correct horse battery staple";
    accounts.create("wangwu", password, "王五 Wang Wu");
    Browser phone = new Browser(base());
    assertThat(Browser.location(signIn(phone, "wangwu", "not the password!"))).endsWith("error");
    signIn(phone, "wangwu", password);
    Browser laptop = new Browser(base());
    signIn(laptop, "wangwu", password);

    HttpResponse<String> page = laptop.get("/account");
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.body())
        .contains("<html lang=\"zh-CN\">", "我的账户", "王五 Wang Wu", "尚未实名", "当前会话")
        .contains("<label for=\"current\"", "<caption>", "bad_credentials", "pwd");
    assertThat(page.body().split("<tr><td>").length - 1)
        .as("two sessions and three sign-ins")
        .isGreaterThanOrEqualTo(5);
    assertThat(laptop.get("/account?lang=en").body())
        .contains("<html lang=\"en\">", "My account", "Recent sign-ins", "this session");

    String token = csrf(page.body());
    HttpResponse<String> wrong =
        changePassword(laptop, "not the password!", "another good passphrase", token);
    assertThat(wrong.statusCode()).isEqualTo(400);
    assertThat(wrong.body()).contains("当前密码不正确");
    HttpResponse<String> same = changePassword(laptop, password, password, token);
    assertThat(same.statusCode()).isEqualTo(400);
    assertThat(same.body()).contains("不能与当前密码相同");
    // A common password with a year on it: refused, said why.
    HttpResponse<String> guessable = changePassword(laptop, password, "P@ssw0rd2024!", token);
    assertThat(guessable.statusCode()).isEqualTo(400);
    assertThat(guessable.body()).contains("密码太容易被猜到");
    HttpResponse<String> breached = changePassword(laptop, password, BREACHED, token);
    assertThat(breached.statusCode()).isEqualTo(400);
    assertThat(breached.body()).contains("已泄露的密码库");
    // No CSRF token, no change.
    assertThat(
            laptop
                .post(
                    "/account/password",
                    Map.of(
                        "current", password,
                        "password", "another good passphrase",
                        "repeat", "another good passphrase"),
                    null)
                .statusCode())
        .isEqualTo(403);
    HttpResponse<String> ok = changePassword(laptop, password, "another good passphrase", token);
    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(ok.body()).contains("密码已修改", "其他 1 个会话已退出");
    // The phone's session ended with the change; the old password no longer works.
    assertThat(Browser.location(phone.get("/account"))).endsWith("/login");
    assertThat(Browser.location(signIn(new Browser(base()), "wangwu", password)))
        .endsWith("/login?error");

    // Ending the other sessions by the button.
    Browser tablet = new Browser(base());
    signIn(tablet, "wangwu", "another good passphrase");
    HttpResponse<String> ended =
        laptop.post(
            "/account/sessions", Map.of("_csrf", csrf(laptop.get("/account").body())), null);
    assertThat(ended.body()).contains("其他 1 个会话已退出");
    assertThat(Browser.location(tablet.get("/account"))).endsWith("/login");
    assertThat(laptop.get("/account").statusCode()).isEqualTo(200);
  }

  @Test
  void thePersonSeesTheAppsWithAccessAndTakesOneAppsAccessAway() throws Exception {
    String password = "correct horse battery staple";
    accounts.create("zhaoliu", password, "赵六");
    Browser b = new Browser(base());
    signIn(b, "zhaoliu", password);
    assertThat(b.get("/account").body()).contains("已授权的应用", "没有应用可以访问您的账户。");

    // Consent to the demo portal for openid and profile; it gets tokens, a refresh token among
    // them.
    String redirect = "http://127.0.0.1:8000/callback";
    String authorize =
        "/oauth2/authorize?response_type=code&client_id="
            + demo.clientId()
            + "&scope=openid%20profile&state=a&code_challenge_method=S256&redirect_uri="
            + java.net.URLEncoder.encode(redirect, java.nio.charset.StandardCharsets.UTF_8)
            + "&code_challenge=";
    String verifier = Browser.verifier();
    String consent = Browser.location(b.get(authorize + Browser.challenge(verifier)));
    assertThat(consent).contains("/oauth2/consent?");
    HttpResponse<String> consentPage = b.get(consent);
    String state = Browser.group("name=\"state\"[^>]*value=\"([^\"]+)\"", consentPage.body());
    String code =
        Browser.query(
                Browser.location(
                    b.post(
                        "/oauth2/authorize",
                        Map.of(
                            "client_id",
                            demo.clientId(),
                            "state",
                            state,
                            "scope",
                            "profile",
                            "_csrf",
                            csrf(consentPage.body())),
                        null)))
            .get("code");
    String basic = Browser.basic(demo.clientId(), demo.secret().orElseThrow());
    HttpResponse<String> tokens = b.tokensFor(code, redirect, verifier, basic);
    assertThat(tokens.statusCode()).as(tokens.body()).isEqualTo(200);
    var json = tools.jackson.databind.json.JsonMapper.builder().build().readTree(tokens.body());
    String refresh = json.path("refresh_token").asString();
    String access = json.path("access_token").asString();
    assertThat(refresh).isNotEmpty();

    // The account page lists the portal with what was consented to, and a button per portal.
    HttpResponse<String> page = b.get("/account?lang=en");
    assertThat(page.body())
        .contains("Apps with access", "Yinxin demo client", "<td>openid profile</td>")
        .contains("name=\"client_id\" value=\"" + demo.clientId() + "\"", "Remove access");

    HttpResponse<String> removed =
        b.post(
            "/account/apps",
            Map.of("client_id", demo.clientId(), "_csrf", csrf(page.body())),
            null);
    assertThat(removed.statusCode()).isEqualTo(200);
    assertThat(removed.body()).contains("已撤销该应用的访问权限", "没有应用可以访问您的账户。");
    // Its refresh token no longer works, its access token is inactive, and it must ask again.
    HttpResponse<String> refreshed =
        b.post(
            "/oauth2/token",
            Map.of("grant_type", "refresh_token", "refresh_token", refresh),
            basic);
    assertThat(refreshed.statusCode()).isEqualTo(400);
    assertThat(refreshed.body()).contains("invalid_grant");
    HttpResponse<String> introspected =
        b.post("/oauth2/introspect", Map.of("token", access), basic);
    assertThat(introspected.body()).contains("\"active\":false");
    assertThat(Browser.location(b.get(authorize + Browser.challenge(Browser.verifier()))))
        .contains("/oauth2/consent?");
    // One audit event; taking away access that is gone, or a portal that does not exist: 400, no
    // event.
    assertThat(
            AuditEvents.countFor(
                dataSource, auditStore, "TOKEN_REVOKED", "zhaoliu", demo.clientId(), "person"))
        .isEqualTo(1);
    String csrf = csrf(b.get("/account").body());
    for (String client : new String[] {demo.clientId(), "no-such-portal", ""}) {
      HttpResponse<String> again =
          b.post("/account/apps", Map.of("client_id", client, "_csrf", csrf), null);
      assertThat(again.statusCode()).as(client).isEqualTo(400);
      assertThat(again.body()).contains("该应用没有访问您账户的权限。");
    }
    assertThat(AuditEvents.countFor(dataSource, auditStore, "TOKEN_REVOKED", "zhaoliu"))
        .isEqualTo(1);
  }

  /**
   * The sign-in form with a field twice ({@code username=victim&username=decoy}: Spring signed in
   * the first while a proxy or a firewall counting guesses reads the last) is a 400 page naming the
   * field, and signs no one in; the same form with each field once signs in.
   */
  @Test
  void aSignInFormWithAFieldTwiceIsRefusedAndSignsNoOneIn() throws Exception {
    String password = "amber lantern across 7 rivers";
    accounts.create("twice", password, "两次");
    String pw = java.net.URLEncoder.encode(password, java.nio.charset.StandardCharsets.UTF_8);
    for (String field : java.util.List.of("username", "password", "_csrf")) {
      Browser b = new Browser(base());
      String token =
          java.net.URLEncoder.encode(
              csrf(b.get("/login").body()), java.nio.charset.StandardCharsets.UTF_8);
      String body = "username=twice&password=" + pw + "&_csrf=" + token;
      body +=
          switch (field) {
            case "username" -> "&username=decoy";
            case "password" -> "&password=wrong";
            default -> "&_csrf=" + token;
          };
      HttpResponse<String> r = b.postForm("/login", body);
      assertThat(r.statusCode()).as(field + ": " + r.body()).isEqualTo(400);
      assertThat(r.body()).contains("<code>" + field + "</code>");
      assertThat(Browser.location(b.get("/account"))).as(field).contains("/login");
    }
    Browser once = new Browser(base());
    HttpResponse<String> signedIn = signIn(once, "twice", password);
    assertThat(Browser.location(signedIn)).doesNotContain("error");
    assertThat(once.get("/account").statusCode()).isEqualTo(200);
  }
}
