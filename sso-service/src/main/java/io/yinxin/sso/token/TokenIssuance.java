package io.yinxin.sso.token;

import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.AuditLog;
import io.yinxin.audit.EventType;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.springframework.security.core.Authentication;
import org.springframework.security.oauth2.server.authorization.OAuth2Authorization;
import org.springframework.security.oauth2.server.authorization.OAuth2AuthorizationService;
import org.springframework.security.oauth2.server.authorization.OAuth2TokenType;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2AccessTokenAuthenticationToken;
import org.springframework.security.oauth2.server.authorization.context.AuthorizationServerContext;
import org.springframework.security.oauth2.server.authorization.context.AuthorizationServerContextHolder;
import org.springframework.security.web.authentication.AuthenticationSuccessHandler;
import org.springframework.web.context.request.RequestContextHolder;
import org.springframework.web.context.request.ServletRequestAttributes;

/**
 * One {@code TOKEN_ISSUED} event per token response. In a request to the token endpoint the tokens
 * are noted as they are made ({@link AuditedTokenGenerator}: the access token's client, grant,
 * scopes, ID and key; the ID token's key and SHA-256) and this response handler appends them as one
 * event, durable before the response is written. A sign-in's code exchange so costs one durable
 * append where it cost two (the ID token's signature had a {@code KEY_USED} event of its own); the
 * event still names every key that signed, and ties the ID token itself to the record by its hash.
 *
 * <p>If the event cannot be appended the tokens are not given out: the authorization that holds
 * them is removed and the request fails. Tokens made outside the token endpoint (the registration
 * access token of dynamic client registration) are appended as they are made, as before.
 */
public final class TokenIssuance implements AuthenticationSuccessHandler {
  static final String ATTRIBUTE = TokenIssuance.class.getName();

  /** What one token request has issued so far. */
  static final class Issued {
    private final String client;
    private final String subject;
    private final Map<String, String> attributes;

    /** Set while the ID token is being signed: that signature is recorded here. */
    private boolean signingIdToken;

    Issued(String client, String subject, Map<String, String> attributes) {
      this.client = client;
      this.subject = subject;
      this.attributes = new LinkedHashMap<>(attributes);
    }

    void idToken(String kid, String signingKey, String sha256) {
      attributes.put("idTokenKid", kid);
      if (signingKey != null) {
        attributes.put("idTokenSigningKey", signingKey);
      }
      attributes.put("idTokenSha256", sha256);
    }

    void signingIdToken(boolean now) {
      signingIdToken = now;
    }
  }

  private final AuditLog audit;
  private final OAuth2AuthorizationService authorizations;
  private final AuthenticationSuccessHandler delegate;

  public TokenIssuance(
      AuditLog audit,
      OAuth2AuthorizationService authorizations,
      AuthenticationSuccessHandler delegate) {
    this.audit = audit;
    this.authorizations = authorizations;
    this.delegate = delegate;
  }

  /**
   * Notes an access token for this request's response, if this is a token-endpoint request; false
   * elsewhere (the caller then appends the event itself).
   */
  static boolean defer(String client, String subject, Map<String, String> attributes) {
    HttpServletRequest request = tokenEndpointRequest();
    if (request == null) {
      return false;
    }
    request.setAttribute(ATTRIBUTE, new Issued(client, subject, attributes));
    return true;
  }

  /** What this token-endpoint request has issued, once it has an access token. */
  static Optional<Issued> current() {
    HttpServletRequest request = request();
    return request != null && request.getAttribute(ATTRIBUTE) instanceof Issued i
        ? Optional.of(i)
        : Optional.empty();
  }

  /** Whether the signature being made now is this response's ID token, recorded in its event. */
  static boolean signingIdToken() {
    return current().map(i -> i.signingIdToken).orElse(false);
  }

  @Override
  public void onAuthenticationSuccess(
      HttpServletRequest request, HttpServletResponse response, Authentication authentication)
      throws IOException, ServletException {
    if (request.getAttribute(ATTRIBUTE) instanceof Issued issued) {
      request.removeAttribute(ATTRIBUTE);
      try {
        audit.append(
            AuditEvent.of(
                EventType.TOKEN_ISSUED, issued.client, issued.subject, issued.attributes));
      } catch (RuntimeException e) {
        // Not recorded, not given out: nor left usable in the database.
        if (authentication instanceof OAuth2AccessTokenAuthenticationToken t) {
          OAuth2Authorization held =
              authorizations.findByToken(
                  t.getAccessToken().getTokenValue(), OAuth2TokenType.ACCESS_TOKEN);
          if (held != null) {
            authorizations.remove(held);
          }
        }
        throw e;
      }
    }
    delegate.onAuthenticationSuccess(request, response, authentication);
  }

  private static HttpServletRequest request() {
    return RequestContextHolder.getRequestAttributes() instanceof ServletRequestAttributes a
        ? a.getRequest()
        : null;
  }

  /** The current request if it is one to the token endpoint, whose response handler is this. */
  private static HttpServletRequest tokenEndpointRequest() {
    HttpServletRequest request = request();
    AuthorizationServerContext context = AuthorizationServerContextHolder.getContext();
    if (request == null || context == null || !"POST".equals(request.getMethod())) {
      return null;
    }
    String endpoint = context.getAuthorizationServerSettings().getTokenEndpoint();
    String path = request.getRequestURI().substring(request.getContextPath().length());
    return path.equals(endpoint) ? request : null;
  }
}
