package io.yinxin.sso.client;

import jakarta.servlet.http.HttpServletRequest;
import org.springframework.security.authentication.AuthenticationProvider;
import org.springframework.security.core.Authentication;
import org.springframework.security.oauth2.core.AuthorizationGrantType;
import org.springframework.security.oauth2.core.ClientAuthenticationMethod;
import org.springframework.security.oauth2.core.OAuth2AuthenticationException;
import org.springframework.security.oauth2.core.OAuth2ErrorCodes;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2ClientAuthenticationToken;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClient;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClientRepository;
import org.springframework.security.web.authentication.AuthenticationConverter;

/**
 * Public clients of the device grant (a television app cannot keep a secret, RFC 8628 §3.1): at the
 * device authorization endpoint, and at the token endpoint with {@code grant_type} device_code, a
 * request that names only its {@code client_id} identifies a client registered with {@code
 * token_endpoint_auth_method} none and the device grant — and no other. The upstream server leaves
 * this to each application (its samples carry the same two pieces).
 */
public final class PublicDeviceClients {
  private PublicDeviceClients() {}

  /** Reads such a request's client id. */
  public static AuthenticationConverter converter() {
    return (HttpServletRequest request) -> {
      String path = request.getRequestURI();
      boolean device =
          path.endsWith("/oauth2/device_authorization")
              || (path.endsWith("/oauth2/token")
                  && AuthorizationGrantType.DEVICE_CODE
                      .getValue()
                      .equals(request.getParameter("grant_type")));
      String clientId = request.getParameter("client_id");
      if (!"POST".equals(request.getMethod())
          || !device
          || clientId == null
          || request.getParameterValues("client_id").length != 1
          || request.getParameter("client_secret") != null
          || request.getHeader("Authorization") != null) {
        return null;
      }
      return new OAuth2ClientAuthenticationToken(
          clientId, ClientAuthenticationMethod.NONE, null, null);
    };
  }

  /** Accepts the client id of a public device client. */
  public static AuthenticationProvider provider(RegisteredClientRepository clients) {
    return new AuthenticationProvider() {
      @Override
      public Authentication authenticate(Authentication authentication) {
        OAuth2ClientAuthenticationToken t = (OAuth2ClientAuthenticationToken) authentication;
        // A public client of the code flow proves itself with PKCE: that is Spring's to check.
        if (!ClientAuthenticationMethod.NONE.equals(t.getClientAuthenticationMethod())
            || t.getAdditionalParameters().containsKey("code_verifier")) {
          return null;
        }
        RegisteredClient client = clients.findByClientId(String.valueOf(t.getPrincipal()));
        if (client == null
            || !client.getClientAuthenticationMethods().contains(ClientAuthenticationMethod.NONE)
            || !client.getAuthorizationGrantTypes().contains(AuthorizationGrantType.DEVICE_CODE)) {
          throw new OAuth2AuthenticationException(OAuth2ErrorCodes.INVALID_CLIENT);
        }
        return new OAuth2ClientAuthenticationToken(client, ClientAuthenticationMethod.NONE, null);
      }

      @Override
      public boolean supports(Class<?> authentication) {
        return OAuth2ClientAuthenticationToken.class.isAssignableFrom(authentication);
      }
    };
  }
}
