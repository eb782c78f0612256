package io.yinxin.sso.token;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.oauth2.core.AuthorizationGrantType;
import org.springframework.security.oauth2.core.OAuth2AccessToken;
import org.springframework.security.oauth2.core.OAuth2RefreshToken;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2AccessTokenAuthenticationToken;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClient;
import org.springframework.security.oauth2.server.authorization.web.authentication.OAuth2AccessTokenResponseAuthenticationSuccessHandler;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The directly written access-token response against Spring's own handler, the reference: the same
 * status, content type and JSON members for every kind of token the endpoint can answer with alone,
 * including values a JSON writer must escape; anything with more than an access token is left to
 * Spring's handler.
 */
class PlainTokenResponseTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();

  private final RegisteredClient client =
      RegisteredClient.withId("c1")
          .clientId("portal")
          .clientSecret("unused")
          .authorizationGrantType(AuthorizationGrantType.CLIENT_CREDENTIALS)
          .build();

  private OAuth2AccessTokenAuthenticationToken answer(OAuth2AccessToken token) {
    return new OAuth2AccessTokenAuthenticationToken(
        client, new UsernamePasswordAuthenticationToken("portal", null, List.of()), token);
  }

  private static MockHttpServletResponse written(
      org.springframework.security.web.authentication.AuthenticationSuccessHandler handler,
      org.springframework.security.core.Authentication answer)
      throws Exception {
    MockHttpServletResponse response = new MockHttpServletResponse();
    handler.onAuthenticationSuccess(
        new MockHttpServletRequest("POST", "/oauth2/token"), response, answer);
    return response;
  }

  @Test
  void writesWhatSpringsHandlerWritesForEveryLoneAccessToken() throws Exception {
    Instant now = Instant.now();
    List<OAuth2AccessToken> tokens =
        List.of(
            new OAuth2AccessToken(
                OAuth2AccessToken.TokenType.BEARER,
                "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJwb3J0YWwifQ.c2ln",
                now,
                now.plusSeconds(300),
                Set.of("bench", "other", "ca:issue")),
            new OAuth2AccessToken(
                OAuth2AccessToken.TokenType.BEARER, "no-scopes", now, now.plusSeconds(3600)),
            new OAuth2AccessToken(
                OAuth2AccessToken.TokenType.DPOP, "dpop-bound", now, now.plusSeconds(60), Set.of()),
            new OAuth2AccessToken(OAuth2AccessToken.TokenType.BEARER, "no-expiry", null, null),
            new OAuth2AccessToken(
                OAuth2AccessToken.TokenType.BEARER,
                "quote\" backslash\\ newline\n tab\t nul\u0000 中文 \u2028",
                now,
                now.plusSeconds(300),
                Set.of("印信", "a\"b")));
    for (OAuth2AccessToken token : tokens) {
      MockHttpServletResponse ours = written(new PlainTokenResponse(failing()), answer(token));
      MockHttpServletResponse spring =
          written(new OAuth2AccessTokenResponseAuthenticationSuccessHandler(), answer(token));

      assertThat(ours.getStatus()).isEqualTo(spring.getStatus()).isEqualTo(200);
      assertThat(ours.getContentType()).isEqualTo(spring.getContentType());
      byte[] body = ours.getContentAsByteArray();
      assertThat(ours.getContentLength()).isEqualTo(body.length);
      JsonNode a = JSON.readTree(new String(body, StandardCharsets.UTF_8));
      JsonNode b = JSON.readTree(spring.getContentAsString(StandardCharsets.UTF_8));
      assertThat(names(a)).isEqualTo(names(b));
      for (String name : names(b)) {
        if (name.equals("expires_in")) {
          // Both count from their own "now": they may straddle a second.
          assertThat(Math.abs(a.get(name).asLong() - b.get(name).asLong())).isLessThanOrEqualTo(1);
          assertThat(a.get(name).isIntegralNumber()).isTrue();
        } else if (name.equals("scope")) {
          // Space-separated, in the set's order: compare as sets.
          assertThat(Set.of(a.get(name).asString().split(" ")))
              .isEqualTo(Set.of(b.get(name).asString().split(" ")));
        } else {
          assertThat(a.get(name)).as(name).isEqualTo(b.get(name));
        }
      }
    }
  }

  @Test
  void aResponseWithMoreThanAnAccessTokenGoesToSpringsHandler() throws Exception {
    Instant now = Instant.now();
    OAuth2AccessToken access =
        new OAuth2AccessToken(
            OAuth2AccessToken.TokenType.BEARER, "access", now, now.plusSeconds(300));
    List<String> delegated = new ArrayList<>();
    PlainTokenResponse handler =
        new PlainTokenResponse((request, response, authentication) -> delegated.add("called"));

    var principal = new UsernamePasswordAuthenticationToken("portal", null, List.of());
    written(
        handler,
        new OAuth2AccessTokenAuthenticationToken(
            client, principal, access, new OAuth2RefreshToken("refresh", now)));
    written(
        handler,
        new OAuth2AccessTokenAuthenticationToken(
            client, principal, access, null, Map.of("id_token", "eyJ.eyJ.sig")));
    written(handler, new UsernamePasswordAuthenticationToken("portal", null, List.of()));
    assertThat(delegated).hasSize(3);

    MockHttpServletResponse alone = written(handler, answer(access));
    assertThat(delegated).hasSize(3);
    assertThat(JSON.readTree(alone.getContentAsString()).get("access_token").asString())
        .isEqualTo("access");
  }

  private static org.springframework.security.web.authentication.AuthenticationSuccessHandler
      failing() {
    return (request, response, authentication) -> {
      throw new AssertionError("a lone access token must not reach Spring's handler");
    };
  }

  private static List<String> names(JsonNode node) {
    List<String> names = new ArrayList<>(node.propertyNames());
    names.sort(null);
    return names;
  }
}
