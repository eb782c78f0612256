package io.yinxin.sso.token;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.AuditException;
import io.yinxin.audit.AuditLog;
import io.yinxin.audit.EventType;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.oauth2.core.AuthorizationGrantType;
import org.springframework.security.oauth2.core.OAuth2AccessToken;
import org.springframework.security.oauth2.server.authorization.InMemoryOAuth2AuthorizationService;
import org.springframework.security.oauth2.server.authorization.OAuth2Authorization;
import org.springframework.security.oauth2.server.authorization.OAuth2TokenType;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2AccessTokenAuthenticationToken;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClient;

/**
 * The token response handler: the response's one TOKEN_ISSUED event is appended before the response
 * is written, and tokens whose event cannot be appended are neither written nor left usable. (The
 * whole flow, with the event read back from the log, is in AuthorizationCodeFlowTest.)
 */
class TokenIssuanceTest {
  private final RegisteredClient client =
      RegisteredClient.withId("c1")
          .clientId("portal")
          .clientSecret("unused")
          .authorizationGrantType(AuthorizationGrantType.CLIENT_CREDENTIALS)
          .build();
  private final OAuth2AccessToken token =
      new OAuth2AccessToken(
          OAuth2AccessToken.TokenType.BEARER,
          "access-token-value",
          Instant.now(),
          Instant.now().plusSeconds(300));
  private final InMemoryOAuth2AuthorizationService authorizations =
      new InMemoryOAuth2AuthorizationService(
          OAuth2Authorization.withRegisteredClient(client)
              .principalName("portal")
              .authorizationGrantType(AuthorizationGrantType.CLIENT_CREDENTIALS)
              .accessToken(token)
              .build());
  private final OAuth2AccessTokenAuthenticationToken authentication =
      new OAuth2AccessTokenAuthenticationToken(
          client, new UsernamePasswordAuthenticationToken("portal", null, List.of()), token);

  private MockHttpServletRequest requestWithIssuedTokens() {
    MockHttpServletRequest request = new MockHttpServletRequest("POST", "/oauth2/token");
    TokenIssuance.Issued issued =
        new TokenIssuance.Issued("portal", "alice", Map.of("grant", "authorization_code"));
    issued.idToken("kid-1", "soft:sso-rs256", "ab".repeat(32));
    request.setAttribute(TokenIssuance.ATTRIBUTE, issued);
    return request;
  }

  @Test
  void theResponsesEventIsAppendedBeforeTheResponseIsWritten() throws Exception {
    List<String> order = new ArrayList<>();
    List<AuditEvent> events = new ArrayList<>();
    AuditLog log =
        e -> {
          order.add("appended");
          events.add(e);
          return null;
        };
    TokenIssuance handler =
        new TokenIssuance(log, authorizations, (req, res, auth) -> order.add("written"));
    MockHttpServletRequest request = requestWithIssuedTokens();
    handler.onAuthenticationSuccess(request, new MockHttpServletResponse(), authentication);
    assertThat(order).containsExactly("appended", "written");
    assertThat(events).hasSize(1);
    assertThat(events.get(0).type()).isEqualTo(EventType.TOKEN_ISSUED);
    assertThat(events.get(0).actor()).isEqualTo("portal");
    assertThat(events.get(0).subject()).isEqualTo("alice");
    assertThat(events.get(0).canonical())
        .contains("\"idTokenKid\":\"kid-1\"", "\"idTokenSigningKey\":\"soft:sso-rs256\"");
    // Recorded once: the request no longer carries it.
    assertThat(request.getAttribute(TokenIssuance.ATTRIBUTE)).isNull();
  }

  @Test
  void tokensWhoseEventCannotBeAppendedAreNeitherWrittenNorLeftUsable() {
    List<String> written = new ArrayList<>();
    AuditLog down =
        e -> {
          throw new AuditException(AuditException.Code.UNAVAILABLE, "audit log unavailable");
        };
    TokenIssuance handler =
        new TokenIssuance(down, authorizations, (req, res, auth) -> written.add("written"));
    assertThat(authorizations.findByToken("access-token-value", OAuth2TokenType.ACCESS_TOKEN))
        .isNotNull();
    assertThatThrownBy(
            () ->
                handler.onAuthenticationSuccess(
                    requestWithIssuedTokens(), new MockHttpServletResponse(), authentication))
        .isInstanceOf(AuditException.class);
    assertThat(written).isEmpty();
    assertThat(authorizations.findByToken("access-token-value", OAuth2TokenType.ACCESS_TOKEN))
        .isNull();
  }

  @Test
  void aRequestThatIssuedNothingHereIsAnsweredAsItWas() throws Exception {
    List<String> order = new ArrayList<>();
    TokenIssuance handler =
        new TokenIssuance(
            e -> {
              throw new AssertionError("nothing to append");
            },
            authorizations,
            (req, res, auth) -> order.add("written"));
    handler.onAuthenticationSuccess(
        new MockHttpServletRequest("POST", "/oauth2/token"),
        new MockHttpServletResponse(),
        authentication);
    assertThat(order).containsExactly("written");
  }
}
