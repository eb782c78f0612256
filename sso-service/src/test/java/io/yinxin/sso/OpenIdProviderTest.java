package io.yinxin.sso;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.SignedJWT;
import io.yinxin.audit.store.LogStore;
import io.yinxin.sso.client.DemoClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The OpenID Provider as a client sees it over HTTP: discovery, the JWK set, client credentials.
 * Tokens are checked with Nimbus against the published JWK set only (not with the code that made
 * them): signature, algorithm, key ID, issuer, expiry, scope, the RFC 9068 type.
 */
@SpringBootTest(
    classes = OpenIdProviderTest.App.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class OpenIdProviderTest {
  private static final Path DATA = tempDir();
  private static final JsonMapper JSON = JsonMapper.builder().build();

  @SpringBootConfiguration
  @EnableAutoConfiguration
  static class App {}

  static Path tempDir() {
    return tempDir("yinxin-sso-");
  }

  /** A new temporary folder named from {@code prefix}. */
  static Path tempDir(String prefix) {
    try {
      return Files.createTempDirectory(prefix);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** A new database of its own on the local PostgreSQL, for nodes that share one. */
  static String postgresDatabase() {
    try {
      return new io.yinxin.audit.store.PostgresDatabase().url();
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  @DynamicPropertySource
  static void props(DynamicPropertyRegistry r) {
    nodeProperties(
        r,
        DATA.toString(),
        "jdbc:h2:mem:sso;MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DB_CLOSE_DELAY=-1",
        "sa");
  }

  /** {@link #nodeProperties} with a fresh data folder and an in-memory H2 database {@code name}. */
  static void h2Node(DynamicPropertyRegistry r, String name) {
    nodeProperties(
        r,
        tempDir().toString(),
        "jdbc:h2:mem:" + name + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DB_CLOSE_DELAY=-1",
        "sa");
  }

  /**
   * Starts another node in this JVM (as {@link #nodeProperties} configures one), with {@code extra}
   * properties ({@code key=value}); close it when done.
   */
  static org.springframework.context.ConfigurableApplicationContext startNode(
      String dataDir, String jdbcUrl, String user, String... extra) {
    List<String> props =
        new java.util.ArrayList<>(
            List.of(
                "server.port=0",
                "server.address=127.0.0.1",
                "yinxin.data-dir=" + dataDir,
                "spring.datasource.url=" + jdbcUrl,
                "spring.datasource.username=" + user,
                "yinxin.sso.generate-demo-client=true",
                "yinxin.audit.generate-dev-tokens=true",
                "spring.autoconfigure.exclude="
                    + "org.springframework.boot.security.autoconfigure"
                    + ".UserDetailsServiceAutoConfiguration,"
                    + "org.springframework.boot.security.autoconfigure.web.servlet"
                    + ".SecurityFilterAutoConfiguration"));
    props.addAll(List.of(extra));
    return new org.springframework.boot.builder.SpringApplicationBuilder(App.class)
        .properties(props.toArray(String[]::new))
        .run();
  }

  /** The HTTP port of a node {@link #startNode} started. */
  static int port(org.springframework.context.ConfigurableApplicationContext node) {
    return ((org.springframework.boot.web.server.context.WebServerApplicationContext) node)
        .getWebServer()
        .getPort();
  }

  /** A node with the provider alone and its demo client, as ops configures the embedded one. */
  static void nodeProperties(
      DynamicPropertyRegistry r, String dataDir, String jdbcUrl, String user) {
    r.add("yinxin.data-dir", () -> dataDir);
    r.add("spring.datasource.url", () -> jdbcUrl);
    r.add("spring.datasource.username", () -> user);
    r.add("server.address", () -> "127.0.0.1");
    r.add("yinxin.sso.generate-demo-client", () -> "true");
    r.add("yinxin.audit.generate-dev-tokens", () -> "true");
    r.add(
        "spring.autoconfigure.exclude",
        () ->
            "org.springframework.boot.security.autoconfigure.UserDetailsServiceAutoConfiguration,"
                + "org.springframework.boot.security.autoconfigure.web.servlet"
                + ".SecurityFilterAutoConfiguration");
  }

  @LocalServerPort int port;
  @Autowired DemoClient demo;
  @Autowired DataSource dataSource;
  @Autowired io.yinxin.audit.store.LogStore auditStore;

  private final HttpClient http = HttpClient.newHttpClient();

  private String base() {
    return "http://127.0.0.1:" + port;
  }

  private JsonNode getJson(String path) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create(base() + path)).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
    return JSON.readTree(r.body());
  }

  private HttpResponse<String> token(String clientId, String secret, Map<String, String> form)
      throws Exception {
    return new Browser(base()).post("/oauth2/token", form, Browser.basic(clientId, secret));
  }

  @Test
  void discoveryNamesTheIssuerItsEndpointsAndRs256AmongIdTokenAlgorithms() throws Exception {
    JsonNode d = getJson("/.well-known/openid-configuration");
    assertThat(d.path("issuer").asString()).isEqualTo(base());
    assertThat(d.path("token_endpoint").asString()).isEqualTo(base() + "/oauth2/token");
    assertThat(d.path("jwks_uri").asString()).isEqualTo(base() + "/oauth2/jwks");
    assertThat(d.path("id_token_signing_alg_values_supported").toString()).contains("RS256");
    assertThat(d.path("grant_types_supported").toString()).contains("client_credentials");
    assertThat(d.path("ui_locales_supported").toString()).isEqualTo("[\"zh-CN\",\"en\"]");
    assertThat(d.path("acr_values_supported").toString())
        .isEqualTo("[\"urn:yinxin:loa:1\",\"urn:yinxin:loa:2\"]");
    assertThat(d.path("prompt_values_supported").toString()).contains("\"login\"");
    assertThat(d.path("claims_parameter_supported").asBoolean(true)).isFalse();
  }

  @Test
  void theJwkSetHoldsAnEs256AndAnRs256PublicKeyAndNoPrivatePart() throws Exception {
    JWKSet set = JWKSet.parse(getJson("/oauth2/jwks").toString());
    assertThat(set.getKeys()).hasSize(2);
    for (JWK k : set.getKeys()) {
      assertThat(k.isPrivate()).isFalse();
      assertThat(k.getKeyID()).isEqualTo(k.computeThumbprint().toString());
    }
    assertThat(set.getKeys().stream().map(JWK::getAlgorithm).map(Object::toString))
        .containsExactlyInAnyOrder("ES256", "RS256");
  }

  @Test
  void clientCredentialsGiveAnEs256AccessTokenThatVerifiesAgainstThePublishedKeys()
      throws Exception {
    long before = LogStore.open(dataSource).size();
    long keyUsesBefore = count("SELECT count(*) FROM audit.events WHERE type = 'KEY_USED'");
    HttpResponse<String> r =
        token(
            demo.clientId(),
            demo.secret().orElseThrow(),
            Map.of("grant_type", "client_credentials", "scope", "realname"));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode body = JSON.readTree(r.body());
    assertThat(body.path("token_type").asString()).isEqualTo("Bearer");
    SignedJWT jwt = SignedJWT.parse(body.path("access_token").asString());
    JWKSet set = JWKSet.parse(getJson("/oauth2/jwks").toString());
    JWK key = set.getKeyByKeyId(jwt.getHeader().getKeyID());
    assertThat(jwt.getHeader().getAlgorithm()).isEqualTo(JWSAlgorithm.ES256);
    assertThat(jwt.getHeader().getType().toString()).isEqualTo("at+jwt");
    assertThat(jwt.verify(new ECDSAVerifier((ECKey) key))).isTrue();
    assertThat(jwt.getJWTClaimsSet().getIssuer()).isEqualTo(base());
    assertThat(jwt.getJWTClaimsSet().getSubject()).isEqualTo(demo.clientId());
    assertThat(jwt.getJWTClaimsSet().getStringClaim("client_id")).isEqualTo(demo.clientId());
    assertThat(jwt.getJWTClaimsSet().getExpirationTime()).isAfter(new Date());
    assertThat(jwt.getJWTClaimsSet().getJWTID()).isNotBlank();
    // RFC 9068 §2.2.3: one space-separated string, as resource servers read it.
    assertThat(jwt.getJWTClaimsSet().getStringClaim("scope")).isEqualTo("realname");
    // Another payload under the same signature does not verify: the check can fail.
    String[] parts = jwt.serialize().split("\\.");
    String otherPayload =
        Base64.getUrlEncoder()
            .withoutPadding()
            .encodeToString(
                jwt.getPayload()
                    .toString()
                    .replace(demo.clientId(), "intruder")
                    .getBytes(StandardCharsets.UTF_8));
    SignedJWT forged = SignedJWT.parse(parts[0] + "." + otherPayload + "." + parts[2]);
    assertThat(forged.verify(new ECDSAVerifier((ECKey) key))).isFalse();
    // TOKEN_ISSUED is in the evidence log before the answer, naming the key that signed; that
    // signature made no KEY_USED event of its own.
    assertThat(LogStore.open(dataSource).size()).isGreaterThan(before);
    assertThat(
            AuditEvents.count(
                dataSource,
                auditStore,
                "TOKEN_ISSUED",
                jwt.getJWTClaimsSet().getJWTID(),
                "\"signingKey\":\"soft:sso-es256\"",
                jwt.getHeader().getKeyID()))
        .isEqualTo(1);
    assertThat(count("SELECT count(*) FROM audit.events WHERE type = 'KEY_USED'"))
        .isEqualTo(keyUsesBefore);
  }

  private long count(String sql) throws Exception {
    try (var c = dataSource.getConnection();
        var rs = c.createStatement().executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @Test
  void noClientCredentialsAtTheTokenOrIntrospectionEndpointIs401NotARedirect() throws Exception {
    for (String path : new String[] {"/oauth2/token", "/oauth2/introspect"}) {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create(base() + path))
                  .header("Accept", "*/*")
                  .header("Content-Type", "application/x-www-form-urlencoded")
                  .POST(
                      HttpRequest.BodyPublishers.ofString(
                          "grant_type=client_credentials&token=abc"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(401);
      assertThat(r.headers().firstValue("Location")).as(path).isEmpty();
    }
  }

  @Test
  void aWrongOrMissingClientSecretIsInvalidClientWith401() throws Exception {
    HttpResponse<String> wrong =
        token(demo.clientId(), "not-the-secret", Map.of("grant_type", "client_credentials"));
    assertThat(wrong.statusCode()).isEqualTo(401);
    assertThat(JSON.readTree(wrong.body()).path("error").asString()).isEqualTo("invalid_client");
    HttpResponse<String> unknown = token("nobody", "x", Map.of("grant_type", "client_credentials"));
    assertThat(unknown.statusCode()).isEqualTo(401);
    assertThat(JSON.readTree(unknown.body()).path("error").asString()).isEqualTo("invalid_client");
  }

  @Test
  void theClientSecretIsStoredOnlyAsAKeyedHash() throws Exception {
    try (var c = dataSource.getConnection();
        var rs =
            c.createStatement()
                .executeQuery(
                    "SELECT client_secret FROM sso.oauth2_registered_client WHERE client_id ="
                        + " 'yinxin-demo'")) {
      assertThat(rs.next()).isTrue();
      String stored = rs.getString(1);
      assertThat(stored).startsWith("{hmac-sha256}").doesNotContain(demo.secret().orElseThrow());
    }
  }
}
