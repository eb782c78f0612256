package io.yinxin.sso;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.lettuce.core.RedisClient;
import io.yinxin.sso.account.DemoUser;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Sessions in Redis (the real server on 127.0.0.1:6379 that ops/bin/test starts): two SSO nodes
 * sharing a Redis act as one — the CSRF token of one node's sign-in page works at the other, which
 * signs the session in, and the first node then knows the person — and nothing is written to the
 * database's session table. Signing out there ends it for both.
 */
@SpringBootTest(
    classes = OpenIdProviderTest.App.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class RedisSessionsTest {
  private static final Path DATA = tempDir();
  private static final String DB =
      "jdbc:h2:mem:sso-redis-"
          + UUID.randomUUID()
          + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DB_CLOSE_DELAY=-1";
  private static final String REDIS = "redis://127.0.0.1:6379/0";
  private static ConfigurableApplicationContext second;

  private static Path tempDir() {
    try {
      return Files.createTempDirectory("yinxin-sso-redis-");
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @DynamicPropertySource
  static void props(DynamicPropertyRegistry r) {
    OpenIdProviderTest.nodeProperties(r, DATA.toString(), DB, "sa");
    r.add("yinxin.sso.sessions-redis-url", () -> REDIS);
  }

  @AfterAll
  static void stopSecond() {
    if (second != null) {
      second.close();
    }
  }

  @LocalServerPort int port;
  @Autowired DemoUser user;
  @Autowired DataSource dataSource;
  @Autowired org.springframework.context.ApplicationContext context;

  @Test
  void twoNodesOnOneRedisShareTheSignIn() throws Exception {
    boolean redisUp;
    try (Socket s = new Socket("127.0.0.1", 6379)) {
      redisUp = true;
    } catch (java.io.IOException e) {
      redisUp = false;
    }
    assumeTrue(redisUp, "Redis on 127.0.0.1:6379 (ops/bin/test starts it)");
    second =
        OpenIdProviderTest.startNode(
            DATA.toString(), DB, "sa", "yinxin.sso.sessions-redis-url=" + REDIS);
    int otherPort = OpenIdProviderTest.port(second);
    String a = "http://127.0.0.1:" + port;
    String b = "http://127.0.0.1:" + otherPort;
    Browser browser = new Browser(a);
    // The sign-in page (and its CSRF token in the session) from node A, the sign-in at node B.
    String csrf =
        Browser.group("name=\"_csrf\" value=\"([^\"]+)\"", browser.get(a + "/login").body());
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
    assertThat(Browser.location(signedIn)).doesNotContain("/login");
    String session = browser.sessionId();
    // Node A knows the person now.
    HttpResponse<String> account = browser.get(a + "/account");
    assertThat(account.statusCode()).as(account.body()).isEqualTo(200);
    assertThat(account.body()).contains(user.username());
    // The yinxin_sso_sessions_active gauge counts it there.
    io.yinxin.sso.spring.SsoSessions sessions =
        context.getBean(io.yinxin.sso.spring.SsoSessions.class);
    long signedInNow = sessions.signedInInRedis().orElseThrow();
    assertThat(signedInNow).isPositive();
    // The session is in Redis, not in the database.
    RedisClient client = RedisClient.create(REDIS);
    try (var c = client.connect()) {
      assertThat(c.sync().keys("yinxin:sso:sessions:sessions:*")).isNotEmpty();
    } finally {
      client.shutdown();
    }
    try (var c = dataSource.getConnection();
        var rs = c.createStatement().executeQuery("SELECT count(*) FROM sso.spring_session")) {
      rs.next();
      assertThat(rs.getLong(1)).isZero();
    }
    // Signing out at node B ends it at node A.
    String csrf2 =
        Browser.group("name=\"_csrf\"[^>]*value=\"([^\"]+)\"", browser.get(b + "/account").body());
    browser.post(b + "/logout", Map.of("_csrf", csrf2), null);
    assertThat(Browser.location(browser.get(a + "/account"))).endsWith("/login");
    assertThat(sessions.signedInInRedis().orElseThrow()).isEqualTo(signedInNow - 1);
    assertThat(session).isNotNull();
  }
}
