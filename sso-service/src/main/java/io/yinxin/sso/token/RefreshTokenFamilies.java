package io.yinxin.sso.token;

import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.AuditLog;
import io.yinxin.audit.EventType;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;
import org.springframework.security.oauth2.core.OAuth2RefreshToken;
import org.springframework.security.oauth2.server.authorization.OAuth2Authorization;
import org.springframework.security.oauth2.server.authorization.OAuth2AuthorizationService;
import org.springframework.security.oauth2.server.authorization.OAuth2TokenType;

/**
 * Refresh-token rotation with reuse detection (OAuth 2.0 Security BCP §4.14), which the upstream
 * authorization service lacks: when an authorization's refresh token is replaced, the old one is
 * remembered (its SHA-256, with the authorization it belongs to); when a remembered token is
 * presented again, someone holds a copy, so the whole family — the authorization with its current
 * access and refresh tokens — is removed and a {@code TOKEN_REVOKED} audit event says why. The
 * request itself then fails as any unknown token does ({@code invalid_grant}).
 */
public final class RefreshTokenFamilies implements OAuth2AuthorizationService {
  private final OAuth2AuthorizationService delegate;
  private final DataSource dataSource;
  private final AuditLog audit;
  private final Clock clock;

  public RefreshTokenFamilies(
      OAuth2AuthorizationService delegate, DataSource dataSource, AuditLog audit, Clock clock) {
    this.delegate = delegate;
    this.dataSource = dataSource;
    this.audit = audit;
    this.clock = clock;
  }

  @Override
  public void save(OAuth2Authorization authorization) {
    // Only the stored refresh token matters here: one column, not the whole authorization
    // parsed (a third of the reads of a code + PKCE sign-in were this one).
    String old = storedRefreshToken(authorization.getId());
    String now = refreshToken(authorization);
    if (old != null && !old.isEmpty() && !old.equals(now)) {
      remember(old, authorization.getId());
    }
    delegate.save(authorization);
  }

  @Override
  public void remove(OAuth2Authorization authorization) {
    delegate.remove(authorization);
  }

  @Override
  public OAuth2Authorization findById(String id) {
    return delegate.findById(id);
  }

  @Override
  public OAuth2Authorization findByToken(String token, OAuth2TokenType tokenType) {
    OAuth2Authorization found = delegate.findByToken(token, tokenType);
    if (found == null
        && token != null
        && (tokenType == null || OAuth2TokenType.REFRESH_TOKEN.equals(tokenType))) {
      spentIn(token).ifPresent(this::revokeFamily);
    }
    return found;
  }

  private static String refreshToken(OAuth2Authorization a) {
    OAuth2Authorization.Token<OAuth2RefreshToken> t = a.getRefreshToken();
    return t == null ? null : t.getToken().getTokenValue();
  }

  private void remember(String token, String authorizationId) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO sso.spent_refresh_tokens (token_sha256, authorization_id, spent_at)"
                    + " VALUES (?, ?, ?)")) {
      ps.setString(1, sha256(token));
      ps.setString(2, authorizationId);
      ps.setTimestamp(3, Timestamp.from(clock.instant()));
      ps.executeUpdate();
    } catch (SQLException e) {
      if (!"23505".equals(e.getSQLState())) {
        throw new IllegalStateException("cannot remember a spent refresh token", e);
      }
    }
  }

  private String storedRefreshToken(String authorizationId) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT refresh_token_value FROM sso.oauth2_authorization WHERE id = ?")) {
      ps.setString(1, authorizationId);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    } catch (SQLException e) {
      throw new IllegalStateException("cannot read an authorization's refresh token", e);
    }
  }

  private Optional<String> spentIn(String token) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT authorization_id FROM sso.spent_refresh_tokens WHERE token_sha256 = ?")) {
      ps.setString(1, sha256(token));
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
      }
    } catch (SQLException e) {
      throw new IllegalStateException("cannot read spent refresh tokens", e);
    }
  }

  private void revokeFamily(String authorizationId) {
    OAuth2Authorization family = delegate.findById(authorizationId);
    if (family == null) {
      return; // already revoked
    }
    delegate.remove(family);
    audit.append(
        AuditEvent.of(
            EventType.TOKEN_REVOKED,
            family.getRegisteredClientId(),
            family.getPrincipalName(),
            Map.of("reason", "refresh_token_reuse", "authorization", authorizationId)));
  }

  private static String sha256(String token) {
    return TokenIndex.sha256(token);
  }
}
