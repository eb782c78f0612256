package io.yinxin.sso.token;

import io.yinxin.audit.evidence.Json;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Collection;
import org.springframework.security.core.Authentication;
import org.springframework.security.oauth2.core.OAuth2AccessToken;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2AccessTokenAuthenticationToken;
import org.springframework.security.web.authentication.AuthenticationSuccessHandler;

/**
 * The token endpoint's answer when it holds an access token and nothing else (the
 * client-credentials grant's answer, RFC 6749 §4.4.3), written directly: the same JSON members,
 * values and headers as Spring's {@code OAuth2AccessTokenResponseAuthenticationSuccessHandler}
 * ({@code access_token}, {@code scope} space-separated when there are scopes, {@code token_type},
 * {@code expires_in} counted from now, {@code application/json;charset=UTF-8} with its length).
 * Spring's handler builds a response object, a map of it and writes the map through its message
 * converter and Jackson: about 3 % of a client-credentials token request's CPU, for four members. A
 * response with a refresh token or any other parameter (an ID token, for one) goes to Spring's
 * handler unchanged; a DPoP-bound token's {@code token_type} is its token's, as there.
 */
public final class PlainTokenResponse implements AuthenticationSuccessHandler {
  private final AuthenticationSuccessHandler delegate;

  public PlainTokenResponse(AuthenticationSuccessHandler delegate) {
    this.delegate = delegate;
  }

  @Override
  public void onAuthenticationSuccess(
      HttpServletRequest request, HttpServletResponse response, Authentication authentication)
      throws IOException, ServletException {
    if (!(authentication instanceof OAuth2AccessTokenAuthenticationToken t)
        || t.getRefreshToken() != null
        || !t.getAdditionalParameters().isEmpty()) {
      delegate.onAuthenticationSuccess(request, response, authentication);
      return;
    }
    byte[] body = json(t.getAccessToken(), Instant.now()).getBytes(StandardCharsets.UTF_8);
    response.setStatus(HttpServletResponse.SC_OK);
    response.setContentType("application/json;charset=UTF-8");
    response.setContentLength(body.length);
    response.getOutputStream().write(body);
    response.flushBuffer();
  }

  /** The response members, in the order Spring writes them. */
  static String json(OAuth2AccessToken token, Instant now) {
    String value = token.getTokenValue();
    StringBuilder json = new StringBuilder(value.length() + 96);
    json.append("{\"access_token\":");
    Json.string(json, value);
    Collection<String> scopes = token.getScopes();
    if (scopes != null && !scopes.isEmpty()) {
      json.append(",\"scope\":");
      Json.string(json, String.join(" ", scopes));
    }
    json.append(",\"token_type\":");
    Json.string(json, token.getTokenType().getValue());
    long expiresIn =
        token.getExpiresAt() == null ? -1 : ChronoUnit.SECONDS.between(now, token.getExpiresAt());
    return json.append(",\"expires_in\":").append(expiresIn).append('}').toString();
  }
}
