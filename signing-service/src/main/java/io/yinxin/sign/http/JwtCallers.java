package io.yinxin.sign.http;

import io.yinxin.audit.access.IssuerAccessTokens;
import io.yinxin.sign.SignException;
import io.yinxin.sign.SignException.Code;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Callers authenticated by OAuth2 access tokens (JWT, RFC 9068) from the configured issuer, checked
 * by {@link IssuerAccessTokens} (signature against the issuer's published keys, {@code iss}, {@code
 * exp} required, {@code typ}, asymmetric algorithms only). A seal is granted to a token's subject
 * ({@code sub}) or its client ({@code client_id}).
 */
public final class JwtCallers implements Callers {
  private final IssuerAccessTokens tokens;
  private final String issuer;

  /**
   * The issuer's metadata is fetched on first use (the issuer may be this very node, not yet
   * listening while it starts), and again after a failure.
   */
  public JwtCallers(String issuer, Duration timeout) {
    this.issuer = issuer;
    this.tokens = new IssuerAccessTokens(issuer, timeout);
  }

  @Override
  public Caller authenticate(String scope, String authorization) {
    if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      throw new SignException(Code.UNAUTHORIZED, "a bearer token is required");
    }
    IssuerAccessTokens.Verified v;
    try {
      v = tokens.verify(authorization.substring(7).strip());
    } catch (IssuerAccessTokens.Rejected e) {
      throw e.issuerUnreachable()
          ? new SignException(Code.UNAVAILABLE, "the token issuer cannot be reached")
          : new SignException(Code.UNAUTHORIZED, "token not accepted");
    }
    if (!v.scopes().contains(scope)) {
      throw new SignException(Code.FORBIDDEN, "the token lacks scope " + scope);
    }
    List<String> names = new ArrayList<>(List.of(v.subject()));
    if (v.clientId() != null && !names.contains(v.clientId())) {
      names.add(v.clientId());
    }
    return new Caller(v.subject(), names);
  }

  @Override
  public String toString() {
    return "JwtCallers[" + issuer + "]";
  }
}
