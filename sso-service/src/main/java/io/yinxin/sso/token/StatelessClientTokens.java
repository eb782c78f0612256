package io.yinxin.sso.token;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.yinxin.sso.client.AssertionReplay;
import java.text.ParseException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.security.oauth2.core.AuthorizationGrantType;
import org.springframework.security.oauth2.core.OAuth2AccessToken;
import org.springframework.security.oauth2.server.authorization.OAuth2Authorization;
import org.springframework.security.oauth2.server.authorization.OAuth2AuthorizationService;
import org.springframework.security.oauth2.server.authorization.OAuth2TokenType;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClient;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClientRepository;
import org.springframework.security.oauth2.server.authorization.settings.OAuth2TokenFormat;

/**
 * Client-credentials access tokens are not stored: the token is a signed JWT that says everything
 * the authorization row would (client, scopes, times, key binding), and nothing can be done with
 * that authorization but introspect or revoke its one access token. Storing it cost each token
 * request an insert of a few kilobytes of JSON and its token-hash index row, a quarter of the token
 * endpoint's CPU on the embedded database — the reason Keycloak keeps such tokens out of its
 * sessions too. What stays true:
 *
 * <ul>
 *   <li>Introspection answers for such a token from the token itself, after checking its signature
 *       with one of this provider's keys (once per token text: verified tokens are remembered):
 *       active while unexpired, unrevoked and its client still registered, with the claims a stored
 *       authorization gave (same response).
 *   <li>Revocation (RFC 7009) records the token's {@code jti} until the token expires, in the table
 *       every node reads (a primary-key insert, as one-time client assertions are), so a revoked
 *       token is inactive on every node; expired records are deleted with the assertions'.
 *   <li>Only tokens this provider issued by the client-credentials grant are handled here: their
 *       {@code jti} starts with {@link #ID_PREFIX}, which no other grant's tokens carry, so a token
 *       whose stored authorization was deleted (a revoked family, an expired authorization) is
 *       never brought back by this path. Everything else goes to the stored authorizations.
 * </ul>
 */
public final class StatelessClientTokens implements OAuth2AuthorizationService {
  /** The {@code jti} prefix of client-credentials access tokens (the rest is a random UUID). */
  public static final String ID_PREFIX = "cc-";

  private final OAuth2AuthorizationService delegate;
  private final RegisteredClientRepository clients;
  private final SigningKeys keys;
  private final AssertionReplay records;
  private final Map<String, JWSVerifier> verifiers = new ConcurrentHashMap<>();

  /**
   * Tokens whose signature was checked, by their exact text: a resource server introspects the same
   * token for every call it serves. Only verified tokens enter (forged ones cannot fill it); it is
   * emptied when full. Expiry, revocation and the client are checked on every use.
   */
  private final Map<String, Verified> verifiedTokens = new ConcurrentHashMap<>();

  private record Verified(JWTClaimsSet claims, String keyId) {}

  private static final int MAX_VERIFIED = 10_000;

  public StatelessClientTokens(
      OAuth2AuthorizationService delegate,
      RegisteredClientRepository clients,
      SigningKeys keys,
      AssertionReplay records) {
    this.delegate = delegate;
    this.clients = clients;
    this.keys = keys;
    this.records = records;
  }

  /** A new {@code jti} for a client-credentials access token. */
  public static String newId() {
    return ID_PREFIX + UUID.randomUUID();
  }

  @Override
  public void save(OAuth2Authorization authorization) {
    OAuth2Authorization.Token<OAuth2AccessToken> token = statelessToken(authorization);
    if (token == null) {
      delegate.save(authorization);
    } else if (token.isInvalidated()) {
      revoke(token);
    }
    // A fresh token: nothing to store.
  }

  @Override
  public void remove(OAuth2Authorization authorization) {
    OAuth2Authorization.Token<OAuth2AccessToken> token = statelessToken(authorization);
    if (token == null) {
      delegate.remove(authorization);
    } else {
      revoke(token);
    }
  }

  @Override
  public OAuth2Authorization findById(String id) {
    return delegate.findById(id);
  }

  @Override
  public OAuth2Authorization findByToken(String token, OAuth2TokenType tokenType) {
    if (token != null
        && (tokenType == null || OAuth2TokenType.ACCESS_TOKEN.equals(tokenType))
        && looksLikeJws(token)) {
      Verified known = verifiedTokens.get(token);
      if (known != null) {
        // The same text verified before, with a key this provider still has; status checked again.
        return keys.byKeyId(known.keyId()).isPresent() ? rebuild(token, known.claims()) : null;
      }
      SignedJWT jwt;
      JWTClaimsSet claims;
      try {
        jwt = SignedJWT.parse(token);
        claims = jwt.getJWTClaimsSet();
      } catch (ParseException e) {
        return delegate.findByToken(token, tokenType);
      }
      if (claims.getJWTID() != null && claims.getJWTID().startsWith(ID_PREFIX)) {
        if (!verified(jwt)) {
          return null;
        }
        if (verifiedTokens.size() >= MAX_VERIFIED) {
          verifiedTokens.clear();
        }
        verifiedTokens.put(token, new Verified(claims, jwt.getHeader().getKeyID()));
        return rebuild(token, claims);
      }
    }
    return delegate.findByToken(token, tokenType);
  }

  private static boolean looksLikeJws(String token) {
    int first = token.indexOf('.');
    return first > 0 && token.indexOf('.', first + 1) > first && token.length() < 16_384;
  }

  private boolean verified(SignedJWT jwt) {
    String kid = jwt.getHeader().getKeyID();
    if (kid == null || !"at+jwt".equals(String.valueOf(jwt.getHeader().getType()))) {
      return false;
    }
    return keys.byKeyId(kid)
        .filter(k -> k.jwsAlgorithm().equals(jwt.getHeader().getAlgorithm()))
        .map(
            k -> {
              try {
                return jwt.verify(verifiers.computeIfAbsent(kid, x -> verifier(k.publicJwk())));
              } catch (JOSEException | RuntimeException e) {
                return false;
              }
            })
        .orElse(false);
  }

  /**
   * A verifier for one of this provider's public keys. ECDSA through Bouncy Castle: the JDK 17
   * verifier took 1.3 ms of CPU per token (half of an introspection), Bouncy Castle's a fraction of
   * it; a signature check handles no secret, so its timing does not matter.
   */
  private static JWSVerifier verifier(JWK jwk) {
    try {
      if (jwk instanceof ECKey ec) {
        ECDSAVerifier v = new ECDSAVerifier(ec);
        v.getJCAContext().setProvider(io.yinxin.hsm.BouncyCastle.PROVIDER);
        return v;
      }
      if (jwk instanceof RSAKey rsa) {
        return new RSASSAVerifier(rsa);
      }
    } catch (JOSEException e) {
      throw new IllegalStateException("cannot verify with key " + jwk.getKeyID(), e);
    }
    throw new IllegalStateException("unsupported key type " + jwk.getKeyType());
  }

  /** The authorization the client-credentials grant made for this token, as it would be stored. */
  private OAuth2Authorization rebuild(String token, JWTClaimsSet claims) {
    Object clientId = claims.getClaim("client_id");
    Date iat = claims.getIssueTime();
    Date exp = claims.getExpirationTime();
    if (!(clientId instanceof String id) || iat == null || exp == null || !exp.after(iat)) {
      return null;
    }
    if (records.recorded(revocationRecord(claims.getJWTID()))) {
      return null; // revoked: unknown from now on, as a deleted authorization is
    }
    RegisteredClient client = clients.findByClientId(id);
    if (client == null) {
      return null; // the client was deleted: its tokens go with it
    }
    Set<String> scopes = new LinkedHashSet<>();
    Object scope = claims.getClaim("scope");
    if (scope instanceof String s && !s.isBlank()) {
      scopes.addAll(Arrays.asList(s.trim().split(" +")));
    }
    Map<String, Object> cnf;
    try {
      cnf = claims.getJSONObjectClaim("cnf");
    } catch (ParseException e) {
      return null;
    }
    OAuth2AccessToken.TokenType type =
        cnf != null && cnf.containsKey("jkt")
            ? OAuth2AccessToken.TokenType.DPOP
            : OAuth2AccessToken.TokenType.BEARER;
    OAuth2AccessToken accessToken =
        new OAuth2AccessToken(type, token, iat.toInstant(), exp.toInstant(), scopes);
    Map<String, Object> springClaims = springClaims(claims, scopes);
    return OAuth2Authorization.withRegisteredClient(client)
        .id(claims.getJWTID())
        .principalName(claims.getSubject() == null ? id : claims.getSubject())
        .authorizationGrantType(AuthorizationGrantType.CLIENT_CREDENTIALS)
        .authorizedScopes(scopes)
        .token(
            accessToken,
            metadata -> {
              metadata.put(OAuth2Authorization.Token.CLAIMS_METADATA_NAME, springClaims);
              metadata.put(OAuth2Authorization.Token.INVALIDATED_METADATA_NAME, false);
              metadata.put(
                  OAuth2TokenFormat.class.getName(), OAuth2TokenFormat.SELF_CONTAINED.getValue());
            })
        .build();
  }

  /** The token's claims with the Java types the token generator stored them with. */
  private static Map<String, Object> springClaims(JWTClaimsSet claims, Set<String> scopes) {
    Map<String, Object> out = new HashMap<>();
    claims
        .getClaims()
        .forEach(
            (name, value) -> {
              if (value instanceof Date d) {
                out.put(name, d.toInstant());
              } else if (value instanceof List<?> l) {
                out.put(name, new ArrayList<>(l));
              } else if (value instanceof Map<?, ?> m) {
                out.put(name, new HashMap<>(m));
              } else {
                out.put(name, value);
              }
            });
    out.put("scope", new ArrayList<>(scopes));
    if (claims.getAudience() != null) {
      out.put("aud", new ArrayList<>(claims.getAudience()));
    }
    return out;
  }

  private void revoke(OAuth2Authorization.Token<OAuth2AccessToken> token) {
    Object jti = token.getClaims() == null ? null : token.getClaims().get("jti");
    Instant expires = token.getToken().getExpiresAt();
    if (jti instanceof String id && expires != null) {
      records.firstUse(revocationRecord(id), expires); // false: revoked before, as it should be
    }
  }

  private static String revocationRecord(String jti) {
    return "revoked-access-token\n" + jti;
  }

  /** The access token of a client-credentials authorization that is not stored, or null. */
  private static OAuth2Authorization.Token<OAuth2AccessToken> statelessToken(
      OAuth2Authorization a) {
    if (!AuthorizationGrantType.CLIENT_CREDENTIALS.equals(a.getAuthorizationGrantType())
        || a.getRefreshToken() != null) {
      return null;
    }
    OAuth2Authorization.Token<OAuth2AccessToken> token = a.getAccessToken();
    if (token == null || token.getClaims() == null) {
      return null;
    }
    return token.getClaims().get("jti") instanceof String jti && jti.startsWith(ID_PREFIX)
        ? token
        : null;
  }
}
