package io.yinxin.sso.http;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Optional;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.jwt.JwtException;

/**
 * Who may manage clients: the configured administrator token (held only as its SHA-256, {@code
 * yinxin.sso.admin-token-sha256}), or an access token of this provider with scope {@code sso:admin}
 * (checked by the provider's own decoder: signature by a key of its JWK set, expiry).
 */
public final class SsoAdmins {
  /** Why a request was refused: 401 or 403. */
  public static final class Refused extends RuntimeException {
    private final int status;

    Refused(int status, String message) {
      super(message, null, false, false);
      this.status = status;
    }

    public int status() {
      return status;
    }
  }

  public static final String SCOPE = "sso:admin";

  private final byte[] tokenHash;
  private final JwtDecoder decoder;
  private final Optional<String> devToken;

  /**
   * @param tokenSha256 the administrator token's SHA-256, or empty for none
   * @param devToken the generated development token, for dev.json
   */
  public SsoAdmins(byte[] tokenSha256, JwtDecoder decoder, Optional<String> devToken) {
    this.tokenHash = tokenSha256.clone();
    this.decoder = decoder;
    this.devToken = devToken;
  }

  /** The caller's name for the audit log. */
  public String require(String authorization) {
    if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      throw new Refused(401, "a bearer token is required");
    }
    String token = authorization.substring(7).strip();
    if (tokenHash.length > 0
        && MessageDigest.isEqual(tokenHash, sha256(token.getBytes(StandardCharsets.UTF_8)))) {
      return "sso-admin";
    }
    if (token.chars().filter(ch -> ch == '.').count() != 2) {
      throw new Refused(401, "token not accepted");
    }
    Jwt jwt;
    try {
      jwt = decoder.decode(token);
    } catch (JwtException e) {
      throw new Refused(401, "token not accepted");
    }
    Object scope = jwt.getClaims().get("scope");
    if (!(scope instanceof String s) || !java.util.List.of(s.split(" ")).contains(SCOPE)) {
      throw new Refused(403, "the token lacks scope " + SCOPE);
    }
    String sub = jwt.getSubject();
    if (sub == null || sub.isBlank()) {
      throw new Refused(401, "token not accepted");
    }
    return sub;
  }

  public Optional<String> devToken() {
    return devToken;
  }

  public static byte[] sha256(byte[] b) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(b);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public String toString() {
    return "SsoAdmins[hidden]";
  }
}
