package io.yinxin.sso.token;

import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.AuditLog;
import io.yinxin.audit.EventType;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.security.oauth2.core.OAuth2Token;
import org.springframework.security.oauth2.server.authorization.OAuth2TokenType;
import org.springframework.security.oauth2.server.authorization.token.OAuth2TokenContext;
import org.springframework.security.oauth2.server.authorization.token.OAuth2TokenGenerator;

/**
 * Every access token issued is a {@code TOKEN_ISSUED} audit event (client, grant, scopes, subject,
 * token ID, the signing key), durable before the token is given out. In the token endpoint the
 * event also covers the response's ID token (its key and SHA-256) and is appended by the response
 * handler ({@link TokenIssuance}); elsewhere the generator appends it right after making the token.
 */
public final class AuditedTokenGenerator implements OAuth2TokenGenerator<OAuth2Token> {
  private final OAuth2TokenGenerator<? extends OAuth2Token> delegate;
  private final AuditLog audit;
  private final SigningKeys keys;

  public AuditedTokenGenerator(
      OAuth2TokenGenerator<? extends OAuth2Token> delegate, AuditLog audit, SigningKeys keys) {
    this.delegate = delegate;
    this.audit = audit;
    this.keys = keys;
  }

  @Override
  public OAuth2Token generate(OAuth2TokenContext context) {
    boolean idToken = ID_TOKEN.equals(context.getTokenType().getValue());
    java.util.Optional<TokenIssuance.Issued> response =
        idToken ? TokenIssuance.current() : java.util.Optional.empty();
    OAuth2Token token;
    response.ifPresent(r -> r.signingIdToken(true));
    try {
      token = delegate.generate(context);
    } finally {
      response.ifPresent(r -> r.signingIdToken(false));
    }
    if (token != null) {
      io.yinxin.sso.SsoMetrics.tokenIssued(
          context.getAuthorizationGrantType().getValue(), context.getTokenType().getValue());
    }
    if (token != null && OAuth2TokenType.ACCESS_TOKEN.equals(context.getTokenType())) {
      Map<String, String> attributes = new LinkedHashMap<>();
      attributes.put("client", context.getRegisteredClient().getClientId());
      attributes.put("grant", context.getAuthorizationGrantType().getValue());
      attributes.put(
          "scopes", String.join(" ", new java.util.TreeSet<>(context.getAuthorizedScopes())));
      if (token instanceof org.springframework.security.oauth2.jwt.Jwt jwt) {
        if (jwt.getId() != null) {
          attributes.put("jti", jwt.getId());
        }
        // The key that signed it (its signature made no KEY_USED event: this is the record).
        if (jwt.getHeaders().get("kid") instanceof String kid) {
          keys.byKeyId(kid).ifPresent(k -> attributes.put("signingKey", k.ref().toString()));
          attributes.put("kid", kid);
        }
      }
      String subject = context.getPrincipal() == null ? "-" : context.getPrincipal().getName();
      String client = context.getRegisteredClient().getClientId();
      // In the token endpoint the event is appended with the response's other tokens, before
      // the response is written (TokenIssuance); elsewhere now.
      if (!TokenIssuance.defer(client, subject, attributes)) {
        audit.append(AuditEvent.of(EventType.TOKEN_ISSUED, client, subject, attributes));
      }
    }
    if (response.isPresent()
        && token instanceof org.springframework.security.oauth2.jwt.Jwt jwt
        && jwt.getHeaders().get("kid") instanceof String kid) {
      // Its signature made no KEY_USED event: the response's TOKEN_ISSUED event is its record.
      response
          .get()
          .idToken(
              kid,
              keys.byKeyId(kid).map(k -> k.ref().toString()).orElse(null),
              TokenIndex.sha256(jwt.getTokenValue()));
    }
    return token;
  }

  private static final String ID_TOKEN =
      org.springframework.security.oauth2.core.oidc.endpoint.OidcParameterNames.ID_TOKEN;
}
