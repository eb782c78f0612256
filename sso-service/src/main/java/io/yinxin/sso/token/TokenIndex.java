package io.yinxin.sso.token;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import javax.sql.DataSource;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.security.oauth2.core.OAuth2AccessToken;
import org.springframework.security.oauth2.core.OAuth2DeviceCode;
import org.springframework.security.oauth2.core.OAuth2RefreshToken;
import org.springframework.security.oauth2.core.OAuth2Token;
import org.springframework.security.oauth2.core.OAuth2UserCode;
import org.springframework.security.oauth2.core.endpoint.OAuth2ParameterNames;
import org.springframework.security.oauth2.core.oidc.OidcIdToken;
import org.springframework.security.oauth2.core.oidc.endpoint.OidcParameterNames;
import org.springframework.security.oauth2.server.authorization.OAuth2Authorization;
import org.springframework.security.oauth2.server.authorization.OAuth2AuthorizationCode;
import org.springframework.security.oauth2.server.authorization.OAuth2AuthorizationService;
import org.springframework.security.oauth2.server.authorization.OAuth2TokenType;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Finds authorizations by token through an index of token hashes ({@code sso.token_index}), written
 * in the same transaction as the authorization. The upstream JDBC service compares a token with
 * seven unindexed TEXT columns of every row: with a few thousand live authorizations every
 * introspection, refresh or userinfo call scanned them all, and under load the connection pool ran
 * dry. A token not in the index is unknown — there is no fallback scan an attacker could trigger
 * with made-up tokens. A found authorization is returned only if it really holds the token, of the
 * type asked for.
 *
 * <p>Reads run in a transaction too: the upstream row mapper looks up the registered client while
 * it holds the result set's connection, and outside a transaction that lookup takes a second
 * connection from the pool. With as many concurrent requests as pooled connections, every request
 * held one and waited for another: the pool deadlocked until its 30-second timeout (seen at 64
 * concurrent introspections). Inside a transaction the lookup reuses the bound connection.
 */
public final class TokenIndex implements OAuth2AuthorizationService {
  private final OAuth2AuthorizationService delegate;
  private final JdbcTemplate jdbc;
  private final TransactionTemplate tx;

  /**
   * @param delegate the JDBC authorization service, whose JdbcTemplate uses {@code inSchema}
   * @param inSchema the same data source object, so both write in one transaction
   */
  public TokenIndex(OAuth2AuthorizationService delegate, DataSource inSchema) {
    this.delegate = delegate;
    this.jdbc = new JdbcTemplate(inSchema);
    this.tx = new TransactionTemplate(new DataSourceTransactionManager(inSchema));
  }

  @Override
  public void save(OAuth2Authorization authorization) {
    tx.executeWithoutResult(
        status -> {
          delegate.save(withoutPersonalClaims(authorization));
          jdbc.update(
              "DELETE FROM sso.token_index WHERE authorization_id = ?", authorization.getId());
          for (String value : values(authorization)) {
            jdbc.update(
                "INSERT INTO sso.token_index (token_sha256, authorization_id) VALUES (?, ?)",
                hashOf(value),
                authorization.getId());
          }
        });
  }

  @Override
  public void remove(OAuth2Authorization authorization) {
    delegate.remove(authorization); // index rows go with it (ON DELETE CASCADE)
  }

  @Override
  public OAuth2Authorization findById(String id) {
    return tx.execute(status -> delegate.findById(id));
  }

  @Override
  public OAuth2Authorization findByToken(String token, OAuth2TokenType tokenType) {
    if (token == null || token.isEmpty()) {
      return null;
    }
    return tx.execute(status -> find(token, tokenType));
  }

  private OAuth2Authorization find(String token, OAuth2TokenType tokenType) {
    List<String> ids =
        jdbc.queryForList(
            "SELECT authorization_id FROM sso.token_index WHERE token_sha256 = ?",
            String.class,
            sha256(token));
    if (ids.isEmpty()) {
      return null;
    }
    OAuth2Authorization a = delegate.findById(ids.get(0));
    return a != null && holds(a, token, tokenType) ? a : null;
  }

  /** How a stored ID token's value begins: its SHA-256 stands in for the token itself. */
  static final String KEPT_AS_HASH = "sha256:";

  /** The claims of an ID token the stored authorization keeps (logout checks aud, sub, sid). */
  private static final java.util.Set<String> PROTOCOL_CLAIMS =
      java.util.Set.of(
          "iss",
          "sub",
          "aud",
          "exp",
          "iat",
          "auth_time",
          "nonce",
          "acr",
          "amr",
          "azp",
          "sid",
          "at_hash",
          "c_hash",
          "idp");

  /**
   * The authorization as it is stored: its ID token without the claims about the person (the legal
   * name, the ID number whole or masked, the phone number: what the realname, id_number and phone
   * scopes release) and without its signed text, which holds the same, kept as its SHA-256 so that
   * an {@code id_token_hint} still finds it. The client has the token; the row is kept until it
   * expires and lies in every backup, unsealed, as the sealed {@code sso.real_names} does not.
   */
  static OAuth2Authorization withoutPersonalClaims(OAuth2Authorization a) {
    OAuth2Authorization.Token<OidcIdToken> t = a.getToken(OidcIdToken.class);
    if (t == null || t.getToken().getTokenValue().startsWith(KEPT_AS_HASH)) {
      return a;
    }
    OidcIdToken id = t.getToken();
    java.util.Map<String, Object> kept = new java.util.LinkedHashMap<>();
    id.getClaims()
        .forEach(
            (k, v) -> {
              if (PROTOCOL_CLAIMS.contains(k)) {
                kept.put(k, v);
              }
            });
    OidcIdToken stored =
        new OidcIdToken(
            KEPT_AS_HASH + sha256(id.getTokenValue()), id.getIssuedAt(), id.getExpiresAt(), kept);
    return OAuth2Authorization.from(a)
        .token(
            stored,
            metadata -> {
              metadata.putAll(t.getMetadata());
              metadata.put(OAuth2Authorization.Token.CLAIMS_METADATA_NAME, kept);
            })
        .build();
  }

  /** The index's hash of a token value (a stored ID token's value is its hash already). */
  private static String hashOf(String value) {
    return value.startsWith(KEPT_AS_HASH) ? value.substring(KEPT_AS_HASH.length()) : sha256(value);
  }

  private static List<String> values(OAuth2Authorization a) {
    List<String> out = new ArrayList<>();
    String state = a.getAttribute(OAuth2ParameterNames.STATE);
    if (state != null) {
      out.add(state);
    }
    for (Class<? extends OAuth2Token> type :
        List.of(
            OAuth2AuthorizationCode.class,
            OAuth2AccessToken.class,
            OAuth2RefreshToken.class,
            OidcIdToken.class,
            OAuth2UserCode.class,
            OAuth2DeviceCode.class)) {
      OAuth2Authorization.Token<? extends OAuth2Token> t = a.getToken(type);
      if (t != null && !out.contains(t.getToken().getTokenValue())) {
        out.add(t.getToken().getTokenValue());
      }
    }
    return out;
  }

  /** Whether {@code a} holds {@code token} as the given type (any type when null). */
  static boolean holds(OAuth2Authorization a, String token, OAuth2TokenType type) {
    String state = a.getAttribute(OAuth2ParameterNames.STATE);
    if (type == null || OAuth2ParameterNames.STATE.equals(type.getValue())) {
      if (token.equals(state)) {
        return true;
      }
      if (type != null) {
        return false;
      }
    }
    Class<? extends OAuth2Token> wanted = type == null ? null : typeOf(type.getValue());
    if (type != null && wanted == null) {
      return false;
    }
    for (Class<? extends OAuth2Token> c :
        wanted != null
            ? List.<Class<? extends OAuth2Token>>of(wanted)
            : List.of(
                OAuth2AuthorizationCode.class,
                OAuth2AccessToken.class,
                OAuth2RefreshToken.class,
                OidcIdToken.class,
                OAuth2UserCode.class,
                OAuth2DeviceCode.class)) {
      OAuth2Authorization.Token<? extends OAuth2Token> t = a.getToken(c);
      if (t != null
          && (token.equals(t.getToken().getTokenValue())
              || t.getToken().getTokenValue().equals(KEPT_AS_HASH + sha256(token)))) {
        return true;
      }
    }
    return false;
  }

  private static Class<? extends OAuth2Token> typeOf(String type) {
    return switch (type) {
      case OAuth2ParameterNames.CODE -> OAuth2AuthorizationCode.class;
      case OAuth2ParameterNames.ACCESS_TOKEN -> OAuth2AccessToken.class;
      case OAuth2ParameterNames.REFRESH_TOKEN -> OAuth2RefreshToken.class;
      case OidcParameterNames.ID_TOKEN -> OidcIdToken.class;
      case OAuth2ParameterNames.USER_CODE -> OAuth2UserCode.class;
      case OAuth2ParameterNames.DEVICE_CODE -> OAuth2DeviceCode.class;
      default -> null;
    };
  }

  static String sha256(String token) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
