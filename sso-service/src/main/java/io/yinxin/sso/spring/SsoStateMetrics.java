package io.yinxin.sso.spring;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SSO's state as gauges, read from the database at most every 5 s:
 *
 * <ul>
 *   <li>{@code yinxin_sso_sessions_active}: signed-in sessions not expired (in the database, or in
 *       Redis when sessions live there)
 *   <li>{@code yinxin_sso_login_failures_max_per_account}: the most failed sign-ins any one account
 *       has in the current throttle window, the per-account burst without an account name in a
 *       label
 *   <li>{@code yinxin_sso_accounts_blocked}: accounts the throttle blocks now
 * </ul>
 */
public class SsoStateMetrics implements MeterBinder {
  private static final Logger log = LoggerFactory.getLogger(SsoStateMetrics.class);
  private static final long FRESH_NANOS = 5_000_000_000L;

  private final DataSource dataSource;
  private final boolean sessionsInDatabase;
  private final Duration window;
  private final Clock clock;
  private double[] last;
  private long lastAt;

  /** Signed-in sessions when they are in Redis (set by the configuration). */
  private java.util.function.Supplier<java.util.OptionalLong> redisSessions =
      java.util.OptionalLong::empty;

  void countRedisSessionsWith(java.util.function.Supplier<java.util.OptionalLong> counter) {
    this.redisSessions = counter;
  }

  public SsoStateMetrics(DataSource dataSource, boolean sessionsInDatabase, Duration window) {
    this.dataSource = dataSource;
    this.sessionsInDatabase = sessionsInDatabase;
    this.window = window;
    this.clock = Clock.systemUTC();
  }

  @Override
  public void bindTo(MeterRegistry registry) {
    io.yinxin.sso.SsoMetrics.init();
    Gauge.builder("yinxin.sso.sessions.active", this, m -> m.read()[0])
        .description("Signed-in sessions that have not expired")
        .register(registry);
    Gauge.builder("yinxin.sso.login.failures.max.per.account", this, m -> m.read()[1])
        .description("Most failed sign-ins of any one account in the throttle window")
        .register(registry);
    Gauge.builder("yinxin.sso.accounts.blocked", this, m -> m.read()[2])
        .description("Accounts blocked by the sign-in throttle now")
        .register(registry);
  }

  private synchronized double[] read() {
    long now = System.nanoTime();
    if (last != null && now - lastAt < FRESH_NANOS) {
      return last;
    }
    lastAt = now;
    double[] v = {Double.NaN, Double.NaN, Double.NaN};
    try (Connection c = dataSource.getConnection()) {
      long millis = clock.millis();
      if (sessionsInDatabase) {
        try (PreparedStatement ps =
            c.prepareStatement(
                "SELECT COUNT(*) FROM sso.spring_session WHERE expiry_time > ? AND principal_name"
                    + " IS NOT NULL")) {
          ps.setLong(1, millis);
          v[0] = single(ps);
        }
      }
      try (PreparedStatement ps =
          c.prepareStatement(
              "SELECT COALESCE(MAX(failures), 0) FROM sso.login_failures WHERE throttle_key LIKE"
                  + " 'account:%' AND window_start >= ?")) {
        ps.setTimestamp(1, new Timestamp(millis - window.toMillis()));
        v[1] = single(ps);
      }
      try (PreparedStatement ps =
          c.prepareStatement(
              "SELECT COUNT(*) FROM sso.login_failures WHERE throttle_key LIKE 'account:%' AND"
                  + " blocked_until > ?")) {
        ps.setTimestamp(1, new Timestamp(millis));
        v[2] = single(ps);
      }
    } catch (SQLException e) {
      log.warn("event=sso_metrics_unreadable error={}", e.getSQLState());
    }
    if (!sessionsInDatabase) {
      try {
        java.util.OptionalLong r = redisSessions.get();
        if (r.isPresent()) {
          v[0] = r.getAsLong();
        }
      } catch (RuntimeException e) {
        log.warn("event=sso_metrics_unreadable error={}", e.getClass().getSimpleName());
      }
    }
    last = v;
    return v;
  }

  private static double single(PreparedStatement ps) throws SQLException {
    try (ResultSet rs = ps.executeQuery()) {
      return rs.next() ? rs.getLong(1) : Double.NaN;
    }
  }
}
