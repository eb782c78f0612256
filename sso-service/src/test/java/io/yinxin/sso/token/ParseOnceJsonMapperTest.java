package io.yinxin.sso.token;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.core.io.ClassPathResource;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.SqlParameterValue;
import org.springframework.jdbc.datasource.DriverManagerDataSource;
import org.springframework.jdbc.datasource.init.ResourceDatabasePopulator;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.core.authority.SimpleGrantedAuthority;
import org.springframework.security.core.userdetails.User;
import org.springframework.security.oauth2.core.AuthorizationGrantType;
import org.springframework.security.oauth2.core.ClientAuthenticationMethod;
import org.springframework.security.oauth2.core.OAuth2AccessToken;
import org.springframework.security.oauth2.core.OAuth2RefreshToken;
import org.springframework.security.oauth2.core.endpoint.OAuth2AuthorizationRequest;
import org.springframework.security.oauth2.core.oidc.OidcIdToken;
import org.springframework.security.oauth2.server.authorization.JdbcOAuth2AuthorizationService;
import org.springframework.security.oauth2.server.authorization.OAuth2Authorization;
import org.springframework.security.oauth2.server.authorization.OAuth2AuthorizationCode;
import org.springframework.security.oauth2.server.authorization.OAuth2TokenType;
import org.springframework.security.oauth2.server.authorization.client.InMemoryRegisteredClientRepository;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClient;
import tools.jackson.databind.JavaType;

/**
 * The parse-once mapper against upstream's own JDBC authorization service as the reference: both
 * read the same rows (written by upstream), and what ours returns, written back by upstream's
 * parameters mapper, is column for column what upstream's reading gives — for a fresh
 * authorization, after its code is used, and after another writer changed the row.
 */
class ParseOnceJsonMapperTest {
  private JdbcTemplate jdbc;
  private InMemoryRegisteredClientRepository clients;
  private RegisteredClient client;

  @BeforeEach
  void database() {
    var ds =
        new DriverManagerDataSource(
            "jdbc:h2:mem:parse-once-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1", "sa", "");
    new ResourceDatabasePopulator(
            new ClassPathResource(
                "org/springframework/security/oauth2/server/authorization/oauth2-authorization-schema.sql"))
        .execute(ds);
    jdbc = new JdbcTemplate(ds);
    client =
        RegisteredClient.withId("rc-1")
            .clientId("portal")
            .clientAuthenticationMethod(ClientAuthenticationMethod.CLIENT_SECRET_BASIC)
            .authorizationGrantType(AuthorizationGrantType.AUTHORIZATION_CODE)
            .redirectUri("https://portal.example/cb")
            .scope("openid")
            .build();
    clients = new InMemoryRegisteredClientRepository(client);
  }

  private OAuth2Authorization signedIn() {
    Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    var principal =
        UsernamePasswordAuthenticationToken.authenticated(
            User.withUsername("zhang.san").password("").authorities("ROLE_USER").build(),
            null,
            List.of(new SimpleGrantedAuthority("ROLE_USER")));
    var request =
        OAuth2AuthorizationRequest.authorizationCode()
            .authorizationUri("https://sso.example/oauth2/authorize")
            .clientId("portal")
            .redirectUri("https://portal.example/cb")
            .scopes(Set.of("openid"))
            .state("st-1")
            .additionalParameters(Map.of("nonce", "n-1", "code_challenge", "abc"))
            .build();
    return OAuth2Authorization.withRegisteredClient(client)
        .id(UUID.randomUUID().toString())
        .principalName("zhang.san")
        .authorizationGrantType(AuthorizationGrantType.AUTHORIZATION_CODE)
        .authorizedScopes(Set.of("openid"))
        .attribute(java.security.Principal.class.getName(), principal)
        .attribute(OAuth2AuthorizationRequest.class.getName(), request)
        .token(new OAuth2AuthorizationCode("code-1", now, now.plusSeconds(300)))
        .build();
  }

  private static OAuth2Authorization withTokens(OAuth2Authorization a) {
    Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    // Types on upstream's allow-list, as the token generators produce (no Map.of, List.of).
    Map<String, Object> claims = new java.util.LinkedHashMap<>();
    claims.put("sub", "zhang.san");
    claims.put("aud", new java.util.ArrayList<>(List.of("portal")));
    claims.put("nonce", "n-1");
    claims.put("amr", new java.util.ArrayList<>(List.of("pwd")));
    return OAuth2Authorization.from(a)
        .invalidate(a.getToken(OAuth2AuthorizationCode.class).getToken())
        .token(
            new OAuth2AccessToken(
                OAuth2AccessToken.TokenType.BEARER,
                "access-1",
                now,
                now.plusSeconds(300),
                Set.of("openid")),
            m -> m.put(OAuth2Authorization.Token.CLAIMS_METADATA_NAME, claims))
        .token(
            new OidcIdToken("id-1", now, now.plusSeconds(300), claims),
            m -> m.put(OAuth2Authorization.Token.CLAIMS_METADATA_NAME, claims))
        .refreshToken(new OAuth2RefreshToken("refresh-1", now, now.plusSeconds(3600)))
        .build();
  }

  /** The column values upstream would write for {@code a}: the comparison that matters. */
  private static List<Object> columns(OAuth2Authorization a) {
    return new JdbcOAuth2AuthorizationService.JsonMapperOAuth2AuthorizationParametersMapper()
        .apply(a).stream()
            .map(SqlParameterValue::getValue)
            .map(
                v ->
                    v instanceof byte[] b
                        ? new String(b, java.nio.charset.StandardCharsets.UTF_8)
                        : v)
            .toList();
  }

  /** The distinct JSON texts of a row, read from the table itself. */
  private Set<String> jsonColumns(String id) {
    Set<String> out = new java.util.HashSet<>();
    jdbc.query(
        "SELECT attributes, authorization_code_metadata, access_token_metadata,"
            + " oidc_id_token_metadata, refresh_token_metadata FROM oauth2_authorization"
            + " WHERE id = ?",
        rs -> {
          for (int i = 1; i <= 5; i++) {
            byte[] b = rs.getBytes(i);
            if (b != null) {
              out.add(new String(b, java.nio.charset.StandardCharsets.UTF_8));
            }
          }
        },
        id);
    return out;
  }

  @Test
  void readsWhatUpstreamReadsAndParsesEachTextOnce() {
    var upstream = new JdbcOAuth2AuthorizationService(jdbc, clients);
    var mapper = new ParseOnceJsonMapper();
    var ours = new JdbcOAuth2AuthorizationService(jdbc, clients);
    ours.setAuthorizationRowMapper(
        new JdbcOAuth2AuthorizationService.JsonMapperOAuth2AuthorizationRowMapper(clients, mapper));

    OAuth2Authorization a = signedIn();
    upstream.save(a);
    OAuth2Authorization byCode = ours.findByToken("code-1", new OAuth2TokenType("code"));
    assertThat(byCode).isNotNull();
    assertThat(columns(byCode)).isEqualTo(columns(upstream.findById(a.getId())));
    assertThat(
            byCode
                .<UsernamePasswordAuthenticationToken>getAttribute(
                    java.security.Principal.class.getName())
                .getName())
        .isEqualTo("zhang.san");
    long afterFirst = mapper.parses();
    Set<String> before = jsonColumns(a.getId());
    assertThat(afterFirst).isEqualTo(before.size()); // each distinct text once

    // The same row again, as save() and reuse detection read it: nothing parsed again.
    for (int i = 0; i < 3; i++) {
      assertThat(columns(ours.findById(a.getId()))).isEqualTo(columns(byCode));
    }
    assertThat(mapper.parses()).isEqualTo(afterFirst);

    // Another writer (another node) uses the code and adds tokens: the new texts are parsed,
    // the unchanged attributes are not, and the result is upstream's.
    upstream.save(withTokens(upstream.findById(a.getId())));
    OAuth2Authorization after = ours.findByToken("access-1", OAuth2TokenType.ACCESS_TOKEN);
    assertThat(after).isNotNull();
    assertThat(columns(after)).isEqualTo(columns(upstream.findById(a.getId())));
    assertThat(after.getToken(OAuth2AuthorizationCode.class).isInvalidated()).isTrue();
    assertThat(after.getToken(OidcIdToken.class).getToken().getClaims())
        .containsEntry("nonce", "n-1");
    // Only the texts the row did not hold before (the code's metadata, now invalidated, and the
    // new tokens' metadata) were parsed; the attributes were not.
    Set<String> fresh = new java.util.HashSet<>(jsonColumns(a.getId()));
    fresh.removeAll(before);
    assertThat(fresh).isNotEmpty();
    assertThat(mapper.parses()).isEqualTo(afterFirst + fresh.size());
  }

  @Test
  @SuppressWarnings("unchecked")
  void everyCallerGetsItsOwnContainersAndLongTextsAreNotKept() {
    var mapper = new ParseOnceJsonMapper();
    JavaType type =
        mapper
            .getTypeFactory()
            .constructMapType(Map.class, String.class, Object.class); // as the row mapper asks
    // Typed JSON as the authorization columns hold it, written by the same configuration.
    Map<String, Object> inner = new java.util.LinkedHashMap<>(Map.of("k", "v"));
    Map<String, Object> nested = new java.util.LinkedHashMap<>();
    nested.put("x", new java.util.ArrayList<>(List.of("y")));
    Map<String, Object> value = new java.util.LinkedHashMap<>();
    value.put("list", new java.util.ArrayList<>(List.of(1, inner)));
    value.put("map", nested);
    value.put("n", 7);
    String json = mapper.writeValueAsString(value);
    Map<String, Object> first = mapper.readValue(json, type);
    ((List<Object>) first.get("list")).add(99);
    ((Map<String, Object>) ((List<Object>) first.get("list")).get(1)).put("k", "changed");
    ((Map<String, Object>) first.get("map")).clear();
    first.put("n", 8);

    Map<String, Object> second = mapper.readValue(json, type);
    assertThat(second).isEqualTo(value); // what was written, whatever `first`'s holder did
    assertThat(mapper.parses()).isEqualTo(1);

    String longText =
        mapper.writeValueAsString(
            new java.util.LinkedHashMap<>(
                Map.of("s", "x".repeat(ParseOnceJsonMapper.MAX_CACHED_CHARS))));
    for (int i = 0; i < 2; i++) {
      assertThat(((Map<?, ?>) mapper.readValue(longText, type)).get("s").toString())
          .hasSize(ParseOnceJsonMapper.MAX_CACHED_CHARS);
    }
    assertThat(mapper.parses()).isEqualTo(3); // parsed each time, never kept
  }
}
