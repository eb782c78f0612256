package io.yinxin.sso;

import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.audit.store.PostgresDatabase;
import io.yinxin.sso.account.DemoUser;
import io.yinxin.sso.client.DemoClient;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Two SSO nodes on one PostgreSQL database, as behind a load balancer: a sign-in started on one
 * node (the authorization request saved in its session) takes its CSRF token from the other, signs
 * in there, and the first node then issues the code — the session lives in the database, not in a
 * node's memory.
 */
@SpringBootTest(
    classes = OpenIdProviderTest.App.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class SessionsAcrossNodesTest {
  private static final Path DATA = OpenIdProviderTest.tempDir("yinxin-sso-nodes-");
  private static final String DB = OpenIdProviderTest.postgresDatabase();
  private static final String REDIRECT = "http://127.0.0.1:8000/callback";
  private static ConfigurableApplicationContext second;

  @DynamicPropertySource
  static void props(DynamicPropertyRegistry r) {
    OpenIdProviderTest.nodeProperties(r, DATA.toString(), DB, PostgresDatabase.USER);
  }

  @AfterAll
  static void stopSecond() {
    if (second != null) {
      second.close();
    }
  }

  @LocalServerPort int port;
  @Autowired DemoClient client;
  @Autowired DemoUser user;

  @Test
  void aSignInStartedOnOneNodeFinishesOnTheOther() throws Exception {
    second = OpenIdProviderTest.startNode(DATA.toString(), DB, PostgresDatabase.USER);
    int otherPort = OpenIdProviderTest.port(second);
    String a = "http://127.0.0.1:" + port;
    String b = "http://127.0.0.1:" + otherPort;
    // Cookies belong to the host, not the port: one browser for both nodes.
    Browser browser = new Browser(a);
    String authorize =
        "/oauth2/authorize?response_type=code&client_id="
            + client.clientId()
            + "&scope=openid&state=s-9&code_challenge_method=S256&code_challenge="
            + Browser.challenge(Browser.verifier())
            + "&redirect_uri="
            + URLEncoder.encode(REDIRECT, StandardCharsets.UTF_8);
    assertThat(Browser.location(browser.get(a + authorize))).endsWith("/login");
    String csrf =
        Browser.group("name=\"_csrf\" value=\"([^\"]+)\"", browser.get(b + "/login").body());
    HttpResponse<String> signedIn =
        browser.post(
            b + "/login",
            Map.of(
                "username",
                user.username(),
                "password",
                user.password().orElseThrow(),
                "_csrf",
                csrf),
            null);
    String saved = Browser.location(signedIn);
    assertThat(saved).contains("/oauth2/authorize");
    String path = saved.substring(saved.indexOf("/oauth2/authorize"));
    String callback = Browser.location(browser.get(a + path));
    assertThat(callback).startsWith(REDIRECT + "?");
    assertThat(Browser.query(callback)).containsKey("code").containsEntry("state", "s-9");
  }
}
