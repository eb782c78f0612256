package io.yinxin.audit.spring;

import io.yinxin.audit.AuditException;
import io.yinxin.audit.access.IssuerAccessTokens;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Properties;

/**
 * Who may use the two privileged audit operations (appends over HTTP; evidence bundles and the
 * check): configured bearer tokens, held only as SHA-256 hashes, and, with {@code
 * yinxin.audit.issuer-uri}, access tokens from that issuer with scope {@code audit:write} or {@code
 * audit:read}.
 */
public final class AuditTokens {
  private final byte[] auditorHash;
  private final byte[] writerHash;
  private final byte[] adminHash;
  private final Optional<String> devAuditorToken;
  private final Optional<String> devWriterToken;
  private final Optional<String> devAdminToken;
  private final Optional<IssuerAccessTokens> issuerTokens;

  private AuditTokens(
      byte[] auditor,
      byte[] writer,
      byte[] admin,
      String devAuditor,
      String devWriter,
      String devAdmin,
      Optional<IssuerAccessTokens> issuerTokens) {
    this.auditorHash = auditor;
    this.writerHash = writer;
    this.adminHash = admin;
    this.devAuditorToken = Optional.ofNullable(devAuditor);
    this.devWriterToken = Optional.ofNullable(devWriter);
    this.devAdminToken = Optional.ofNullable(devAdmin);
    this.issuerTokens = issuerTokens;
  }

  static AuditTokens from(AuditProperties p, Path dataDir) {
    Optional<IssuerAccessTokens> issuer =
        p.issuerUri().isBlank()
            ? Optional.empty()
            : Optional.of(new IssuerAccessTokens(p.issuerUri(), Duration.ofSeconds(10)));
    if (!p.auditorTokenSha256().isBlank()
        || !p.writerTokenSha256().isBlank()
        || !p.adminTokenSha256().isBlank()
        || !p.generateDevTokens()) {
      return new AuditTokens(
          hex(p.auditorTokenSha256()),
          hex(p.writerTokenSha256()),
          hex(p.adminTokenSha256()),
          null,
          null,
          null,
          issuer);
    }
    Path file = dataDir.resolve("audit-tokens.properties");
    try {
      Properties props =
          io.yinxin.hsm.OwnerOnlyFiles.createOrLoad(
              file,
              () -> {
                Properties fresh = new Properties();
                fresh.setProperty("auditor", random());
                fresh.setProperty("writer", random());
                fresh.setProperty("admin", random());
                return fresh;
              },
              "Yinxin development audit tokens");
      if (props.getProperty("admin") == null) { // a data directory from before the admin token
        props.setProperty("admin", random());
        io.yinxin.hsm.OwnerOnlyFiles.replace(
            file, io.yinxin.hsm.OwnerOnlyFiles.bytes(props, "Yinxin development audit tokens"));
      }
      String a = props.getProperty("auditor");
      String w = props.getProperty("writer");
      String m = props.getProperty("admin");
      return new AuditTokens(sha256(a), sha256(w), sha256(m), a, w, m, issuer);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare " + file, e);
    }
  }

  private static String random() {
    byte[] b = new byte[24];
    new SecureRandom().nextBytes(b);
    return "yx_" + HexFormat.of().formatHex(b);
  }

  private static byte[] hex(String h) {
    if (h.isBlank()) {
      return new byte[0];
    }
    if (!h.matches("[0-9a-fA-F]{64}")) {
      throw new IllegalStateException("token hashes are 64 hex characters (SHA-256)");
    }
    return HexFormat.of().parseHex(h);
  }

  static byte[] sha256(String token) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Which privilege a request needs, and the OAuth2 scope that grants it. */
  public enum Role {
    AUDITOR("audit:read"),
    WRITER("audit:write"),
    ADMIN("audit:admin");

    private final String scope;

    Role(String scope) {
      this.scope = scope;
    }

    public String scope() {
      return scope;
    }
  }

  /**
   * Checks an Authorization header: a configured token (constant-time comparison of hashes) or an
   * issuer's access token with the role's scope.
   */
  public void require(Role role, String authorization) {
    byte[] expected =
        switch (role) {
          case AUDITOR -> auditorHash;
          case WRITER -> writerHash;
          case ADMIN -> adminHash;
        };
    if (expected.length == 0 && issuerTokens.isEmpty()) {
      throw new AuditException(
          AuditException.Code.UNAUTHORIZED, role + " access is not configured");
    }
    if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      throw new AuditException(AuditException.Code.UNAUTHORIZED, "a bearer token is required");
    }
    String token = authorization.substring(7).strip();
    if (expected.length > 0 && MessageDigest.isEqual(expected, sha256(token))) {
      return;
    }
    if (issuerTokens.isEmpty() || !IssuerAccessTokens.looksLikeJwt(token)) {
      throw new AuditException(AuditException.Code.UNAUTHORIZED, "token not accepted");
    }
    IssuerAccessTokens.Verified v;
    try {
      v = issuerTokens.get().verify(token);
    } catch (IssuerAccessTokens.Rejected e) {
      throw new AuditException(
          e.issuerUnreachable()
              ? AuditException.Code.UNAVAILABLE
              : AuditException.Code.UNAUTHORIZED,
          e.getMessage());
    }
    if (!v.scopes().contains(role.scope())) {
      throw new AuditException(
          AuditException.Code.FORBIDDEN, "the token lacks scope " + role.scope());
    }
  }

  /** The generated development tokens, for the welcome block and dev.json. */
  public Optional<String> devAuditorToken() {
    return devAuditorToken;
  }

  public Optional<String> devWriterToken() {
    return devWriterToken;
  }

  public Optional<String> devAdminToken() {
    return devAdminToken;
  }

  @Override
  public String toString() {
    return "AuditTokens[hidden]";
  }
}
