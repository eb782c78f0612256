package io.yinxin.sso.client;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.http.HttpStatus;
import org.springframework.http.server.ServletServerHttpResponse;
import org.springframework.security.core.Authentication;
import org.springframework.security.oauth2.server.authorization.oidc.OidcClientMetadataClaimNames;
import org.springframework.security.oauth2.server.authorization.oidc.OidcClientRegistration;
import org.springframework.security.oauth2.server.authorization.oidc.authentication.OidcClientRegistrationAuthenticationToken;
import org.springframework.security.oauth2.server.authorization.oidc.http.converter.OidcClientRegistrationHttpMessageConverter;
import org.springframework.security.web.authentication.AuthenticationSuccessHandler;

/**
 * Answers of the registration endpoint, as Spring writes them (201 with the new client, 200 when a
 * client reads its registration with its registration access token), except that a read carries no
 * {@code client_secret}: Spring put the stored form there, {@code {hmac-sha256}…}, which is not the
 * secret (only the registration's answer ever shows that) and would break a client that took it for
 * one. RFC 7592 §3 lets a read leave the secret out; {@code client_secret_expires_at}, which
 * belongs with it (RFC 7591 §3.2.1), goes too.
 */
public final class RegistrationResponses implements AuthenticationSuccessHandler {
  private final OidcClientRegistrationHttpMessageConverter json =
      new OidcClientRegistrationHttpMessageConverter();

  @Override
  public void onAuthenticationSuccess(
      HttpServletRequest request, HttpServletResponse response, Authentication authentication)
      throws IOException {
    OidcClientRegistration registration =
        ((OidcClientRegistrationAuthenticationToken) authentication).getClientRegistration();
    ServletServerHttpResponse out = new ServletServerHttpResponse(response);
    if ("POST".equals(request.getMethod())) {
      out.setStatusCode(HttpStatus.CREATED);
    } else {
      out.setStatusCode(HttpStatus.OK);
      registration = withoutSecret(registration);
    }
    json.write(registration, null, out);
  }

  static OidcClientRegistration withoutSecret(OidcClientRegistration registration) {
    Map<String, Object> claims = new LinkedHashMap<>(registration.getClaims());
    claims.remove(OidcClientMetadataClaimNames.CLIENT_SECRET);
    claims.remove(OidcClientMetadataClaimNames.CLIENT_SECRET_EXPIRES_AT);
    return OidcClientRegistration.withClaims(claims).build();
  }
}
