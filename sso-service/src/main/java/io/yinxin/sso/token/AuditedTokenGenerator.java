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
 * token ID, the signing key), durable before the token endpoint answers: the generator appends it
 * right after making the token, and the endpoint writes its response only after the generator
 * returned.
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
    OAuth2Token token = delegate.generate(context);
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
      audit.append(
          AuditEvent.of(
              EventType.TOKEN_ISSUED,
              context.getRegisteredClient().getClientId(),
              subject,
              attributes));
    }
    return token;
  }
}
