package io.yinxin.sso.client;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.springframework.security.oauth2.core.OAuth2Error;
import org.springframework.security.oauth2.core.OAuth2ErrorCodes;
import org.springframework.security.oauth2.core.OAuth2TokenValidator;
import org.springframework.security.oauth2.core.OAuth2TokenValidatorResult;
import org.springframework.security.oauth2.jwt.Jwt;

/**
 * A client assertion (private_key_jwt) is good once (RFC 7523 §3 allows a server to refuse replays;
 * the upstream server accepted the same assertion again and again): it must carry a {@code jti} and
 * expire within an hour, and its client id and jti are recorded until it expires — by a primary-key
 * insert, so two nodes cannot both accept it. Expired records are deleted now and then.
 */
public final class AssertionReplay implements OAuth2TokenValidator<Jwt> {
  static final Duration LONGEST = Duration.ofHours(1);

  private final DataSource dataSource;
  private final Clock clock;
  private final AtomicLong uses = new AtomicLong();

  public AssertionReplay(DataSource dataSource, Clock clock) {
    this.dataSource = dataSource;
    this.clock = clock;
  }

  @Override
  public OAuth2TokenValidatorResult validate(Jwt jwt) {
    Instant now = clock.instant();
    String jti = jwt.getId();
    Instant exp = jwt.getExpiresAt();
    if (jti == null || jti.isBlank() || jti.length() > 200) {
      return refuse("the client assertion needs a jti");
    }
    if (exp == null || exp.isAfter(now.plus(LONGEST))) {
      return refuse("the client assertion must expire within " + LONGEST.toMinutes() + " minutes");
    }
    return firstUse(jwt.getSubject() + "\n" + jti, exp)
        ? OAuth2TokenValidatorResult.success()
        : refuse("the client assertion was used before");
  }

  /**
   * Records {@code what} (hashed) until {@code expires}: true the first time, false on every later
   * call on any node sharing the database (a primary-key insert decides). Also used for DPoP
   * proofs, whose {@code jti} a second node must refuse as the first does.
   */
  public boolean firstUse(String what, Instant expires) {
    Instant now = clock.instant();
    try (Connection c = dataSource.getConnection()) {
      if (uses.incrementAndGet() % 1000 == 0) {
        try (PreparedStatement ps =
            c.prepareStatement("DELETE FROM sso.spent_assertions WHERE expires_at < ?")) {
          ps.setTimestamp(1, Timestamp.from(now.minus(Duration.ofMinutes(5))));
          ps.executeUpdate();
        }
      }
      try (PreparedStatement ps =
          c.prepareStatement(
              "INSERT INTO sso.spent_assertions (id_sha256, expires_at) VALUES (?, ?)")) {
        ps.setString(1, sha256(what));
        ps.setTimestamp(2, Timestamp.from(expires));
        ps.executeUpdate();
      }
      return true;
    } catch (SQLException e) {
      if ("23505".equals(e.getSQLState())) {
        return false;
      }
      throw new IllegalStateException("cannot record a one-time credential", e);
    }
  }

  /** Whether {@code what} was recorded by {@link #firstUse} and its record not yet deleted. */
  public boolean recorded(String what) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT 1 FROM sso.spent_assertions WHERE id_sha256 = ?")) {
      ps.setString(1, sha256(what));
      try (java.sql.ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    } catch (SQLException e) {
      throw new IllegalStateException("cannot read one-time credentials", e);
    }
  }

  private static OAuth2TokenValidatorResult refuse(String why) {
    return OAuth2TokenValidatorResult.failure(
        new OAuth2Error(OAuth2ErrorCodes.INVALID_CLIENT, why, null));
  }

  private static String sha256(String s) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
