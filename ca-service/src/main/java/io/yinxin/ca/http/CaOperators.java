package io.yinxin.ca.http;

import io.yinxin.audit.access.IssuerAccessTokens;
import io.yinxin.ca.CaException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Registration-authority operators allowed to call the CA API, each a bearer token (held only as a
 * SHA-256 hash) with OAuth2-style scopes: {@code ca:issue}, {@code ca:revoke}, {@code ca:read},
 * {@code ca:crl}, {@code ca:emergency}: the configured operators, and, when an issuer is
 * configured, the access tokens it issues (see {@link IssuerAccessTokens}).
 */
public final class CaOperators {
  /** Every scope the CA API knows. */
  public static final Set<String> SCOPES =
      Set.of("ca:issue", "ca:revoke", "ca:read", "ca:crl", "ca:emergency");

  /**
   * One operator.
   *
   * @param name recorded as the actor of audit events
   * @param tokenSha256 hex SHA-256 of the bearer token
   * @param scopes what it may do
   */
  public record Operator(String name, String tokenSha256, List<String> scopes) {
    public Operator {
      if (name == null || !name.matches("[A-Za-z0-9._@-]{1,64}")) {
        throw new IllegalStateException("yinxin.ca.operators[].name: 1-64 of A-Z a-z 0-9 . _ @ -");
      }
      if (tokenSha256 == null || !tokenSha256.matches("[0-9a-fA-F]{64}")) {
        throw new IllegalStateException(
            "yinxin.ca.operators[" + name + "].token-sha256: 64 hex characters (SHA-256)");
      }
      scopes = List.copyOf(scopes == null ? List.of() : scopes);
      for (String s : scopes) {
        if (!SCOPES.contains(s)) {
          throw new IllegalStateException(
              "yinxin.ca.operators[" + name + "].scopes: '" + s + "' is not one of " + SCOPES);
        }
      }
    }
  }

  private final List<Operator> operators;
  private final List<byte[]> hashes;
  private final Optional<String> devToken;
  private final Optional<IssuerAccessTokens> issuerTokens;

  public CaOperators(List<Operator> operators, Optional<String> devToken) {
    this(operators, devToken, Optional.empty());
  }

  public CaOperators(
      List<Operator> operators,
      Optional<String> devToken,
      Optional<IssuerAccessTokens> issuerTokens) {
    this.operators = List.copyOf(operators);
    this.hashes =
        this.operators.stream().map(o -> HexFormat.of().parseHex(o.tokenSha256())).toList();
    this.devToken = devToken;
    this.issuerTokens = issuerTokens;
  }

  /**
   * Authenticates a request and checks its scope.
   *
   * @return the operator's name
   * @throws CaException {@code UNAUTHORIZED} without a valid token, {@code FORBIDDEN} without the
   *     scope
   */
  public String require(String scope, String authorization) {
    if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      throw new CaException(CaException.Code.UNAUTHORIZED, "a bearer token is required");
    }
    String token = authorization.substring(7).strip();
    byte[] h = sha256(token);
    for (int i = 0; i < hashes.size(); i++) {
      if (MessageDigest.isEqual(hashes.get(i), h)) {
        Operator o = operators.get(i);
        if (!o.scopes().contains(scope)) {
          throw new CaException(CaException.Code.FORBIDDEN, "the token lacks scope " + scope);
        }
        return o.name();
      }
    }
    if (issuerTokens.isPresent() && IssuerAccessTokens.looksLikeJwt(token)) {
      IssuerAccessTokens.Verified v;
      try {
        v = issuerTokens.get().verify(token);
      } catch (IssuerAccessTokens.Rejected e) {
        throw new CaException(
            e.issuerUnreachable() ? CaException.Code.UNAVAILABLE : CaException.Code.UNAUTHORIZED,
            e.getMessage());
      }
      if (!v.scopes().contains(scope)) {
        throw new CaException(CaException.Code.FORBIDDEN, "the token lacks scope " + scope);
      }
      return v.subject();
    }
    throw new CaException(CaException.Code.UNAUTHORIZED, "token not accepted");
  }

  /** The generated development token, for the welcome block and dev.json. */
  public Optional<String> devToken() {
    return devToken;
  }

  public static byte[] sha256(String token) {
    return io.yinxin.ca.Sha256.digest(token.getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public String toString() {
    return "CaOperators["
        + operators.size()
        + " operators, tokens hidden"
        + issuerTokens.map(t -> ", " + t).orElse("")
        + "]";
  }
}
