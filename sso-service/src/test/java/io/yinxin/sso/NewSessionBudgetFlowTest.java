package io.yinxin.sso;

import static io.yinxin.sso.Browser.location;
import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.sso.account.DemoUser;
import io.yinxin.sso.client.DemoClient;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Budgets per client address. A client that loads the sign-in page without keeping its cookie opens
 * a session row each time; with a budget of five a minute, the sixth such request gets 429 and
 * writes no row, while a person who kept their cookie signs in, and requests that need no session
 * are answered. A client that asks a public device client's codes stores an authorization row each
 * time; with a budget of three a minute, the fourth gets 429 and stores nothing.
 */
@SpringBootTest(
    classes = OpenIdProviderTest.App.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class NewSessionBudgetFlowTest {
  @DynamicPropertySource
  static void props(DynamicPropertyRegistry r) {
    OpenIdProviderTest.h2Node(r, "sso-session-budget");
    r.add("yinxin.sso.new-sessions-per-minute", () -> "5");
    r.add("yinxin.sso.device-authorizations-per-minute", () -> "3");
  }

  @LocalServerPort int port;
  @Autowired DataSource dataSource;
  @Autowired DemoUser user;
  @Autowired DemoClient client;
  @Autowired io.yinxin.sso.http.SsoAdmins admins;

  private String base() {
    return "http://127.0.0.1:" + port;
  }

  private long rows(String table) throws Exception {
    try (var c = dataSource.getConnection();
        var rs = c.createStatement().executeQuery("SELECT COUNT(*) FROM " + table)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private long sessionRows() throws Exception {
    return rows("sso.spring_session");
  }

  @Test
  void aClientBeyondItsBudgetOfNewSessionsGets429AndNoRow() throws Exception {
    long before = sessionRows();
    List<Browser> browsers = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      Browser b = new Browser(base());
      HttpResponse<String> r = b.get("/login");
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(b.sessionId()).isNotNull();
      browsers.add(b);
    }
    assertThat(sessionRows()).isEqualTo(before + 5);

    Browser sixth = new Browser(base());
    HttpResponse<String> refused = sixth.get("/login");
    assertThat(refused.statusCode()).isEqualTo(429);
    long retryAfter = Long.parseLong(refused.headers().firstValue("Retry-After").orElseThrow());
    assertThat(retryAfter).isBetween(1L, 60L);
    assertThat(refused.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/html");
    assertThat(refused.body()).contains("会话过多").contains("Too many new sessions");
    assertThat(sixth.sessionId()).isNull();

    // an authorization request would store itself in a new session: refused the same way
    HttpResponse<String> authorize =
        sixth.get(
            "/oauth2/authorize?response_type=code&client_id="
                + URLEncoder.encode(client.clientId(), StandardCharsets.UTF_8)
                + "&scope=openid&state=s&redirect_uri="
                + URLEncoder.encode("http://127.0.0.1:8000/callback", StandardCharsets.UTF_8)
                + "&code_challenge_method=S256&code_challenge="
                + Browser.challenge(Browser.verifier()));
    assertThat(authorize.statusCode()).isEqualTo(429);
    assertThat(sessionRows()).isEqualTo(before + 5);

    // a person whose browser kept its cookie is not counted: the page loads and they sign in
    Browser kept = browsers.get(0);
    assertThat(kept.get("/login").statusCode()).isEqualTo(200);
    HttpResponse<String> signedIn = kept.signIn(user.username(), user.password().orElseThrow());
    assertThat(signedIn.statusCode()).isEqualTo(302);
    assertThat(location(signedIn)).doesNotContain("/login");
    assertThat(kept.get("/account").statusCode()).isEqualTo(200);

    // what needs no session is answered as before
    assertThat(sixth.get("/.well-known/openid-configuration").statusCode()).isEqualTo(200);
    HttpResponse<String> token =
        sixth.post(
            "/oauth2/token",
            Map.of("grant_type", "client_credentials"),
            Browser.basic(client.clientId(), client.secret().orElseThrow()));
    assertThat(token.statusCode()).isEqualTo(200);
    assertThat(sessionRows()).isEqualTo(before + 5);
  }

  @Test
  void aClientBeyondItsBudgetOfDeviceCodesGets429AndNoRow() throws Exception {
    HttpResponse<String> made =
        Browser.json(
            base(),
            "POST",
            "/sso/v1/clients",
            admins.devToken().orElseThrow(),
            "{\"client_id\": \"tv-budget\", \"client_name\": \"TV\", \"grant_types\":"
                + " [\"urn:ietf:params:oauth:grant-type:device_code\"],"
                + " \"token_endpoint_auth_method\": \"none\", \"scope\": \"profile\"}");
    assertThat(made.statusCode()).as(made.body()).isEqualTo(201);
    long before = rows("sso.oauth2_authorization");
    Browser anyone = new Browser(base());
    for (int i = 0; i < 3; i++) {
      HttpResponse<String> r =
          anyone.post(
              "/oauth2/device_authorization",
              Map.of("client_id", "tv-budget", "scope", "profile"),
              null);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      assertThat(r.body()).contains("device_code");
    }
    assertThat(rows("sso.oauth2_authorization")).isEqualTo(before + 3);
    HttpResponse<String> fourth =
        anyone.post(
            "/oauth2/device_authorization",
            Map.of("client_id", "tv-budget", "scope", "profile"),
            null);
    assertThat(fourth.statusCode()).as(fourth.body()).isEqualTo(429);
    assertThat(Long.parseLong(fourth.headers().firstValue("Retry-After").orElseThrow()))
        .isBetween(1L, 60L);
    assertThat(fourth.headers().firstValue("Content-Type").orElseThrow())
        .startsWith("application/json");
    assertThat(fourth.body()).contains("\"error\":\"temporarily_unavailable\"");
    assertThat(rows("sso.oauth2_authorization")).isEqualTo(before + 3);
    // The token endpoint, where the devices poll, is not counted.
    HttpResponse<String> poll =
        anyone.post(
            "/oauth2/token",
            Map.of(
                "grant_type",
                "urn:ietf:params:oauth:grant-type:device_code",
                "client_id",
                "tv-budget",
                "device_code",
                "unknown"),
            null);
    assertThat(poll.statusCode()).isEqualTo(400);
    assertThat(poll.body()).contains("invalid_grant");
  }
}
