package io.yinxin.sso.token;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;

/**
 * Deletes authorizations whose every token has expired (upstream keeps them for ever). Each row is
 * kept for a grace period after its last expiry, so introspection of a just-expired token still
 * answers {@code active: false} from a known row. Safe on several nodes at once: a plain
 * conditional DELETE.
 */
public final class ExpiredAuthorizations implements AutoCloseable {
  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(ExpiredAuthorizations.class);
  private static final String[] EXPIRIES = {
    "authorization_code_expires_at",
    "access_token_expires_at",
    "oidc_id_token_expires_at",
    "refresh_token_expires_at",
    "user_code_expires_at",
    "device_code_expires_at"
  };

  private final DataSource dataSource;
  private final Duration grace;
  private final Clock clock;
  private ScheduledExecutorService timer;

  public ExpiredAuthorizations(DataSource dataSource, Duration grace, Clock clock) {
    this.dataSource = dataSource;
    this.grace = grace;
    this.clock = clock;
  }

  /** Deletes what expired before {@code now} minus the grace period; returns how many rows. */
  public int deleteExpired(Instant now) {
    StringBuilder sql = new StringBuilder("DELETE FROM sso.oauth2_authorization WHERE 1 = 1");
    for (String column : EXPIRIES) {
      sql.append(" AND (").append(column).append(" IS NULL OR ").append(column).append(" < ?)");
    }
    // A row with no expiry at all is an authorization in progress (consent pending): kept.
    sql.append(" AND COALESCE(");
    sql.append(String.join(", ", EXPIRIES));
    sql.append(") IS NOT NULL");
    Timestamp cutoff = Timestamp.from(now.minus(grace));
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql.toString())) {
      for (int i = 1; i <= EXPIRIES.length; i++) {
        ps.setTimestamp(i, cutoff);
      }
      int deleted = ps.executeUpdate();
      // Spent refresh tokens matter only while their family (authorization) exists.
      try (PreparedStatement spent =
          c.prepareStatement(
              "DELETE FROM sso.spent_refresh_tokens WHERE NOT EXISTS (SELECT 1 FROM"
                  + " sso.oauth2_authorization a WHERE a.id ="
                  + " sso.spent_refresh_tokens.authorization_id)")) {
        spent.executeUpdate();
      }
      return deleted;
    } catch (SQLException e) {
      log.warn("event=sso_cleanup_failed sqlstate={}", e.getSQLState());
      return 0;
    }
  }

  /** Runs {@link #deleteExpired} every {@code period} on a daemon thread. */
  public ExpiredAuthorizations every(Duration period) {
    timer = io.yinxin.hsm.Schedulers.daemon("sso-expired-authorizations");
    timer.scheduleWithFixedDelay(
        () -> {
          int n = deleteExpired(clock.instant());
          if (n > 0) {
            log.info("event=sso_expired_authorizations_deleted count={}", n);
          }
        },
        period.toMillis(),
        period.toMillis(),
        TimeUnit.MILLISECONDS);
    return this;
  }

  @Override
  public void close() {
    if (timer != null) {
      timer.shutdownNow();
    }
  }
}
