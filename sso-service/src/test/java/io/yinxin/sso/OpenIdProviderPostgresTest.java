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
import java.time.Instant;
import java.util.Base64;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.security.oauth2.core.AuthorizationGrantType;
import org.springframework.security.oauth2.core.endpoint.OAuth2ParameterNames;
import org.springframework.security.oauth2.server.authorization.OAuth2Authorization;
import org.springframework.security.oauth2.server.authorization.OAuth2AuthorizationCode;
import org.springframework.security.oauth2.server.authorization.OAuth2AuthorizationService;
import org.springframework.security.oauth2.server.authorization.OAuth2TokenType;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClient;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClientRepository;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The provider's JDBC stores on PostgreSQL (schema {@code sso}, text and timestamptz columns): a
 * client registered at start is found; a stored authorization is written there, found by its token
 * and deleted after it expired; client-credentials tokens, not stored, are introspected and revoked
 * through the revocation records there.
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
  @Autowired OAuth2AuthorizationService authorizations;
  @Autowired RegisteredClientRepository clients;

  /**
   * A client-credentials token is not stored, yet introspection answers for it on PostgreSQL from
   * the token itself, and a revocation recorded there ends it; a forged copy is not active.
   */
  @Test
  void aClientCredentialsTokenIsNotStoredYetIntrospectsAndRevokes() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    String basic = basic();
    HttpResponse<String> token =
        post(http, "/oauth2/token", basic, "grant_type=client_credentials");
    assertThat(token.statusCode()).as(token.body()).isEqualTo(200);
    String accessToken = token.body().replaceAll(".*\"access_token\":\"([^\"]+)\".*", "$1");
    assertThat(storedClientCredentialsAuthorizations()).isZero();

    HttpResponse<String> introspection = introspect(http, basic, accessToken);
    assertThat(introspection.statusCode()).as(introspection.body()).isEqualTo(200);
    assertThat(introspection.body())
        .contains("\"active\":true")
        .contains("\"client_id\":\"" + demo.clientId() + "\"")
        .contains("\"token_type\":\"Bearer\"")
        .contains("\"sub\":\"" + demo.clientId() + "\"");

    // The same header and signature over a payload with another jti: not this provider's token.
    String[] parts = accessToken.split("\\.");
    String payload =
        new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8)
            .replace("\"jti\":\"cc-", "\"jti\":\"cc-x");
    String forged =
        parts[0]
            + "."
            + Base64.getUrlEncoder()
                .withoutPadding()
                .encodeToString(payload.getBytes(StandardCharsets.UTF_8))
            + "."
            + parts[2];
    assertThat(introspect(http, basic, forged).body()).contains("\"active\":false");

    HttpResponse<String> revoked = post(http, "/oauth2/revoke", basic, "token=" + accessToken);
    assertThat(revoked.statusCode()).as(revoked.body()).isEqualTo(200);
    assertThat(introspect(http, basic, accessToken).body()).contains("\"active\":false");
    assertThat(storedClientCredentialsAuthorizations()).isZero();
  }

  /**
   * An authorization that is stored (here one the authorization-code grant makes) is written to
   * PostgreSQL, found by its token, and deleted a day after its tokens expired, not before.
   */
  @Test
  void aStoredAuthorizationIsFoundByTokenAndDeletedADayAfterItExpired() {
    RegisteredClient client = clients.findByClientId(demo.clientId());
    Instant now = Instant.now();
    String code = "code-" + java.util.UUID.randomUUID();
    authorizations.save(
        OAuth2Authorization.withRegisteredClient(client)
            .principalName("demo")
            .authorizationGrantType(AuthorizationGrantType.AUTHORIZATION_CODE)
            .token(new OAuth2AuthorizationCode(code, now, now.plusSeconds(300)))
            .build());
    assertThat(authorizations.findByToken(code, new OAuth2TokenType(OAuth2ParameterNames.CODE)))
        .isNotNull();

    var cleanup =
        new io.yinxin.sso.token.ExpiredAuthorizations(
            dataSource, java.time.Duration.ofDays(1), java.time.Clock.systemUTC());
    assertThat(cleanup.deleteExpired(now)).isZero();
    assertThat(cleanup.deleteExpired(now.plus(java.time.Duration.ofDays(2)))).isPositive();
    assertThat(authorizations.findByToken(code, new OAuth2TokenType(OAuth2ParameterNames.CODE)))
        .isNull();
  }

  private long storedClientCredentialsAuthorizations() throws Exception {
    try (var c = dataSource.getConnection();
        var rs =
            c.createStatement()
                .executeQuery(
                    "SELECT count(*) FROM sso.oauth2_authorization WHERE"
                        + " authorization_grant_type = 'client_credentials'")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private String basic() {
    return "Basic "
        + Base64.getEncoder()
            .encodeToString(
                (demo.clientId() + ":" + demo.secret().orElseThrow())
                    .getBytes(StandardCharsets.UTF_8));
  }

  private HttpResponse<String> introspect(HttpClient http, String basic, String token)
      throws Exception {
    return post(http, "/oauth2/introspect", basic, "token=" + token);
  }

  private HttpResponse<String> post(HttpClient http, String path, String basic, String form)
      throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .header("Authorization", basic)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .POST(HttpRequest.BodyPublishers.ofString(form))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /**
   * Sign-out and the account page's apps look up a person's authorizations and consents by name:
   * PostgreSQL answers both from an index (with sequential scans switched off, a table without one
   * can only be scanned).
   */
  @Test
  void authorizationsAndConsentsAreFoundByPersonThroughAnIndex() throws Exception {
    try (var c = dataSource.getConnection();
        var s = c.createStatement()) {
      c.setAutoCommit(false);
      s.execute("SET LOCAL enable_seqscan = off");
      for (String query :
          new String[] {
            "SELECT DISTINCT registered_client_id FROM sso.oauth2_authorization"
                + " WHERE principal_name = 'someone'",
            "DELETE FROM sso.oauth2_authorization WHERE registered_client_id = 'x'"
                + " AND principal_name = 'someone'",
            "SELECT registered_client_id, authorities FROM sso.oauth2_authorization_consent"
                + " WHERE principal_name = 'someone'"
          }) {
        StringBuilder plan = new StringBuilder();
        try (var rs = s.executeQuery("EXPLAIN " + query)) {
          while (rs.next()) {
            plan.append(rs.getString(1)).append('\n');
          }
        }
        assertThat(plan.toString()).as(query).contains("Index").doesNotContain("Seq Scan");
      }
      c.rollback();
    }
  }
}
