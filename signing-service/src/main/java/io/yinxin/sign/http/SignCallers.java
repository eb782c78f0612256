package io.yinxin.sign.http;

import io.yinxin.sign.SignException;
import io.yinxin.sign.SignException.Code;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Who may call the signing API until an OAuth2 issuer is configured: bearer tokens held only as
 * SHA-256 hashes, each with a name (the grantee a seal is granted to) and scopes: {@code seal:use}
 * (seal documents with seals granted to that name) and {@code seal:admin} (manage the registry).
 */
public final class SignCallers implements Callers {
  /** Every scope the signing API knows. */
  public static final Set<String> SCOPES = Set.of("seal:use", "seal:admin");

  /**
   * One caller.
   *
   * @param name its grantee name, recorded as the actor of audit events
   * @param tokenSha256 hex SHA-256 of its bearer token
   */
  public record Caller(String name, String tokenSha256, List<String> scopes) {
    public Caller {
      if (name == null || !name.matches("[A-Za-z0-9._@:|-]{1,64}")) {
        throw new IllegalStateException(
            "yinxin.sign.callers[].name: 1-64 of A-Z a-z 0-9 . _ @ : | -");
      }
      if (tokenSha256 == null || !tokenSha256.matches("[0-9a-fA-F]{64}")) {
        throw new IllegalStateException(
            "yinxin.sign.callers[" + name + "].token-sha256: 64 hex characters (SHA-256)");
      }
      scopes = List.copyOf(scopes == null ? List.of() : scopes);
      for (String s : scopes) {
        if (!SCOPES.contains(s)) {
          throw new IllegalStateException(
              "yinxin.sign.callers[" + name + "].scopes: '" + s + "' is not one of " + SCOPES);
        }
      }
    }
  }

  private final List<Caller> callers;
  private final List<byte[]> hashes;
  private final Optional<String> devToken;

  public SignCallers(List<Caller> callers, Optional<String> devToken) {
    this.callers = List.copyOf(callers);
    this.hashes = this.callers.stream().map(c -> HexFormat.of().parseHex(c.tokenSha256())).toList();
    this.devToken = devToken;
  }

  /**
   * Authenticates a request and checks its scope.
   *
   * @return the caller's name
   * @throws SignException {@code UNAUTHORIZED} without a valid token, {@code FORBIDDEN} without the
   *     scope
   */
  public String require(String scope, String authorization) {
    if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      throw new SignException(Code.UNAUTHORIZED, "a bearer token is required");
    }
    byte[] h = sha256(authorization.substring(7).strip());
    for (int i = 0; i < hashes.size(); i++) {
      if (MessageDigest.isEqual(hashes.get(i), h)) {
        Caller c = callers.get(i);
        if (!c.scopes().contains(scope)) {
          throw new SignException(Code.FORBIDDEN, "the token lacks scope " + scope);
        }
        return c.name();
      }
    }
    throw new SignException(Code.UNAUTHORIZED, "token not accepted");
  }

  @Override
  public Callers.Caller authenticate(String scope, String authorization) {
    String name = require(scope, authorization);
    return new Callers.Caller(name, List.of(name));
  }

  /** The generated development token, for dev.json. */
  public Optional<String> devToken() {
    return devToken;
  }

  public static byte[] sha256(String token) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public String toString() {
    return "SignCallers[" + callers.size() + " callers, tokens hidden]";
  }
}
