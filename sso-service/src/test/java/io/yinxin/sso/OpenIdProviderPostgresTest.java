package io.yinxin.sso;

import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.audit.store.PostgresDatabase;
import io.yinxin.sso.client.DemoClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Base64;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The provider's JDBC stores on PostgreSQL (schema {@code sso}, text and timestamptz columns): a
 * client registered at start is found, and the authorization a token grant writes is stored there
 * and read back by token value (the introspection endpoint finds it active).
 */
@SpringBootTest(
    classes = OpenIdProviderTest.App.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class OpenIdProviderPostgresTest {

  @DynamicPropertySource
  static void props(DynamicPropertyRegistry r) throws Exception {
    OpenIdProviderTest.nodeProperties(
        r,
        Files.createTempDirectory("yinxin-sso-pg-").toString(),
        new PostgresDatabase().url(),
        PostgresDatabase.USER);
  }

  @LocalServerPort int port;
  @Autowired DemoClient demo;
  @Autowired DataSource dataSource;

  @Test
  void aTokenGrantIsStoredInPostgresqlAndIntrospectedActive() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    String basic =
        "Basic "
            + Base64.getEncoder()
                .encodeToString(
                    (demo.clientId() + ":" + demo.secret().orElseThrow())
                        .getBytes(StandardCharsets.UTF_8));
    HttpResponse<String> token =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/oauth2/token"))
                .header("Authorization", basic)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(token.statusCode()).as(token.body()).isEqualTo(200);
    String accessToken = token.body().replaceAll(".*\"access_token\":\"([^\"]+)\".*", "$1");
    try (var c = dataSource.getConnection();
        var rs =
            c.createStatement()
                .executeQuery(
                    "SELECT count(*) FROM sso.oauth2_authorization WHERE"
                        + " authorization_grant_type = 'client_credentials'")) {
      rs.next();
      assertThat(rs.getLong(1)).isPositive();
    }
    HttpResponse<String> introspection = introspect(http, basic, accessToken);
    assertThat(introspection.statusCode()).as(introspection.body()).isEqualTo(200);
    assertThat(introspection.body()).contains("\"active\":true");

    // A day after its tokens expired the authorization is deleted, and not before.
    var cleanup =
        new io.yinxin.sso.token.ExpiredAuthorizations(
            dataSource, java.time.Duration.ofDays(1), java.time.Clock.systemUTC());
    assertThat(cleanup.deleteExpired(java.time.Instant.now())).isZero();
    assertThat(cleanup.deleteExpired(java.time.Instant.now().plus(java.time.Duration.ofDays(2))))
        .isPositive();
    HttpResponse<String> after = introspect(http, basic, accessToken);
    assertThat(after.body()).contains("\"active\":false");
  }

  private HttpResponse<String> introspect(HttpClient http, String basic, String token)
      throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/oauth2/introspect"))
            .header("Authorization", basic)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .POST(HttpRequest.BodyPublishers.ofString("token=" + token))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
