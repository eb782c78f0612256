package io.yinxin.sso.account;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Each account's recent sign-ins ({@code sso.sign_ins}), shown on its account page so a person can
 * see a sign-in that was not theirs. The audit log holds every sign-in as evidence; this is the
 * short, deletable view (90 days). A failure to record here never blocks a sign-in.
 */
public final class SignIns {
  private static final Logger log = LoggerFactory.getLogger(SignIns.class);
  private static final Duration KEPT = Duration.ofDays(90);

  /** One sign-in attempt. */
  public record SignIn(Instant at, String method, String result, String source) {}

  private final DataSource dataSource;
  private final Clock clock;
  private final AtomicLong writes = new AtomicLong();

  public SignIns(DataSource dataSource, Clock clock) {
    this.dataSource = dataSource;
    this.clock = clock;
  }

  public void record(String username, String method, String result, String source) {
    io.yinxin.sso.SsoMetrics.login(method, result);
    if (username == null || username.startsWith("(")) {
      return; // not an account
    }
    try (Connection c = dataSource.getConnection()) {
      if (writes.incrementAndGet() % 1000 == 0) {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM sso.sign_ins WHERE at < ?")) {
          ps.setTimestamp(1, Timestamp.from(clock.instant().minus(KEPT)));
          ps.executeUpdate();
        }
      }
      try (PreparedStatement ps =
          c.prepareStatement(
              "INSERT INTO sso.sign_ins (username, at, method, result, source) VALUES (?, ?, ?, ?,"
                  + " ?)")) {
        ps.setString(1, username);
        ps.setTimestamp(2, Timestamp.from(clock.instant()));
        ps.setString(3, method);
        ps.setString(4, result);
        ps.setString(5, source == null || source.length() > 64 ? null : source);
        ps.executeUpdate();
      }
    } catch (SQLException e) {
      log.warn("event=sso_sign_in_not_recorded error={}", e.getSQLState());
    }
  }

  /** The latest {@code n} sign-ins of an account, newest first. */
  public List<SignIn> recent(String username, int n) {
    List<SignIn> out = new ArrayList<>();
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT at, method, result, source FROM sso.sign_ins WHERE username = ? ORDER BY"
                    + " at DESC, id DESC LIMIT ?")) {
      ps.setString(1, username);
      ps.setInt(2, n);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(
              new SignIn(
                  rs.getTimestamp(1).toInstant(),
                  rs.getString(2),
                  rs.getString(3),
                  rs.getString(4)));
        }
      }
    } catch (SQLException e) {
      log.warn("event=sso_sign_ins_unreadable error={}", e.getSQLState());
    }
    return out;
  }
}
