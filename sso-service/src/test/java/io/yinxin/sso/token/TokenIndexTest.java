package io.yinxin.sso.token;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.springframework.security.oauth2.core.AuthorizationGrantType;
import org.springframework.security.oauth2.core.OAuth2AccessToken;
import org.springframework.security.oauth2.core.OAuth2RefreshToken;
import org.springframework.security.oauth2.core.endpoint.OAuth2ParameterNames;
import org.springframework.security.oauth2.server.authorization.OAuth2Authorization;
import org.springframework.security.oauth2.server.authorization.OAuth2TokenType;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClient;

/**
 * A hash hit is only an answer when the authorization really holds the token as the type asked for:
 * an access token is not a refresh token, a state is only a state.
 */
class TokenIndexTest {
  private static OAuth2Authorization authorization() {
    RegisteredClient client =
        RegisteredClient.withId("rc-1")
            .clientId("c")
            .authorizationGrantType(AuthorizationGrantType.CLIENT_CREDENTIALS)
            .build();
    Instant now = Instant.now();
    return OAuth2Authorization.withRegisteredClient(client)
        .principalName("u")
        .authorizationGrantType(AuthorizationGrantType.AUTHORIZATION_CODE)
        .attribute(OAuth2ParameterNames.STATE, "state-1")
        .accessToken(
            new OAuth2AccessToken(
                OAuth2AccessToken.TokenType.BEARER, "access-1", now, now.plusSeconds(60)))
        .refreshToken(new OAuth2RefreshToken("refresh-1", now, now.plusSeconds(600)))
        .build();
  }

  @Test
  void aTokenIsFoundAsItsOwnTypeOrWithoutATypeAndNeverAsAnother() {
    OAuth2Authorization a = authorization();
    assertThat(TokenIndex.holds(a, "access-1", OAuth2TokenType.ACCESS_TOKEN)).isTrue();
    assertThat(TokenIndex.holds(a, "access-1", null)).isTrue();
    assertThat(TokenIndex.holds(a, "access-1", OAuth2TokenType.REFRESH_TOKEN)).isFalse();
    assertThat(TokenIndex.holds(a, "refresh-1", OAuth2TokenType.REFRESH_TOKEN)).isTrue();
    assertThat(TokenIndex.holds(a, "refresh-1", OAuth2TokenType.ACCESS_TOKEN)).isFalse();
    assertThat(TokenIndex.holds(a, "state-1", new OAuth2TokenType(OAuth2ParameterNames.STATE)))
        .isTrue();
    assertThat(TokenIndex.holds(a, "state-1", OAuth2TokenType.ACCESS_TOKEN)).isFalse();
    assertThat(TokenIndex.holds(a, "access-1", new OAuth2TokenType(OAuth2ParameterNames.STATE)))
        .isFalse();
    assertThat(TokenIndex.holds(a, "access-2", null)).isFalse();
    assertThat(TokenIndex.holds(a, "access-1", new OAuth2TokenType("made_up"))).isFalse();
  }

  @Test
  void theHashIsSha256OfTheUtf8Token() {
    // FIPS 180-2 example: SHA-256("abc").
    assertThat(TokenIndex.sha256("abc"))
        .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  }
}
