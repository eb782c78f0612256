package io.yinxin.sso.account;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Optional;
import javax.sql.DataSource;
import org.springframework.security.authentication.AbstractAuthenticationToken;
import org.springframework.security.authentication.AuthenticationProvider;
import org.springframework.security.authentication.BadCredentialsException;
import org.springframework.security.authentication.InternalAuthenticationServiceException;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.AuthenticationException;
import org.springframework.security.web.authentication.WebAuthenticationDetails;

/**
 * Failed sign-ins are throttled per account and per source address, across every node (the counts
 * live in {@code sso.login_failures}): after {@code maxPerAccount} failures within the window the
 * account is blocked for the block time, after {@code maxPerSource} failures from one address that
 * address is. A blocked attempt is refused before the password is checked, with a message that says
 * when to try again, in Chinese and English. A success clears the account's count. With {@link
 * DeviceCookies}, a browser that signed in to the account before is counted on its own instead.
 */
public final class LoginThrottle implements AutoCloseable {
  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(LoginThrottle.class);
  private static final DateTimeFormatter SHOWN =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm").withZone(ZoneId.of("Asia/Shanghai"));

  /** A sign-in refused because its account or address is blocked for now. */
  public static final class ThrottledException extends AuthenticationException {
    private static final long serialVersionUID = 1L;

    ThrottledException(Instant until) {
      super(
          "登录失败次数过多，请于 "
              + SHOWN.format(until)
              + "（北京时间）后重试。Too many failed sign-ins: try again after "
              + SHOWN.format(until)
              + " (UTC+8).");
    }

    private ThrottledException(String message) {
      super(message);
    }

    /** The same refusal without the attempt Spring Security attached to it (see AccountPages). */
    public ThrottledException withoutRequest() {
      return new ThrottledException(getMessage());
    }
  }

  private final DataSource dataSource;
  private final int maxPerAccount;
  private final int maxPerSource;
  private final Duration window;
  private final Duration block;
  private final Clock clock;
  private java.util.concurrent.ScheduledExecutorService timer;

  public LoginThrottle(
      DataSource dataSource,
      int maxPerAccount,
      int maxPerSource,
      Duration window,
      Duration block,
      Clock clock) {
    this.dataSource = dataSource;
    this.maxPerAccount = maxPerAccount;
    this.maxPerSource = maxPerSource;
    this.window = window;
    this.block = block;
    this.clock = clock;
  }

  /** Wraps a provider: blocked attempts are refused first, failures counted, success clears. */
  public AuthenticationProvider around(AuthenticationProvider delegate) {
    return around(delegate, null);
  }

  /**
   * As {@link #around(AuthenticationProvider)}, but an attempt from a browser whose device cookie
   * ({@code devices}) vouches for the account is counted against that cookie instead of the
   * account, and is not refused because the account is blocked, unless the cookie is blocked
   * itself. The address is throttled either way.
   */
  public AuthenticationProvider around(AuthenticationProvider delegate, DeviceCookies devices) {
    return new AuthenticationProvider() {
      @Override
      public Authentication authenticate(Authentication authentication) {
        Optional<String> name = Accounts.canonical(authentication.getName());
        String account = "account:" + name.orElse("-");
        Optional<String> source =
            authentication.getDetails() instanceof WebAuthenticationDetails d
                    && d.getRemoteAddress() != null
                ? Optional.of(sourceKey(d.getRemoteAddress()))
                : Optional.empty();
        Instant now = clock.instant();
        Optional<String> device =
            devices != null && authentication.getDetails() instanceof DeviceCookies.Details d
                ? name.flatMap(n -> devices.device(d.deviceCookie(), n))
                    .filter(k -> blockedUntil(k, now).isEmpty())
                : Optional.empty();
        if (device.isEmpty()) {
          blockedUntil(account, now).ifPresent(LoginThrottle::refuse);
        }
        source.flatMap(s -> blockedUntil(s, now)).ifPresent(LoginThrottle::refuse);
        try {
          Authentication result = delegate.authenticate(authentication);
          if (result instanceof AbstractAuthenticationToken t
              && t.getDetails() instanceof DeviceCookies.Details d) {
            t.setDetails(d.withoutCookie());
          }
          // A known browser's success leaves the account's count alone: others may be guessing.
          clear(device.orElse(account));
          return result;
        } catch (BadCredentialsException e) {
          failed(device.orElse(account), maxPerAccount, now);
          source.ifPresent(s -> failed(s, maxPerSource, now));
          throw e;
        }
      }

      @Override
      public boolean supports(Class<?> authentication) {
        return delegate.supports(authentication);
      }
    };
  }

  /**
   * The throttle's key for a client address: an IPv4 address as it is, an IPv6 address by its /64
   * prefix (one subscriber's network, RFC 6177: whoever holds one address has 2^64 more to rotate
   * through).
   */
  public static String sourceKey(String address) {
    if (address.indexOf(':') < 0) {
      return "source:" + address;
    }
    try {
      byte[] b = java.net.InetAddress.getByName(address).getAddress(); // a literal: no lookup
      if (b.length == 4) {
        return "source:" + java.net.InetAddress.getByAddress(b).getHostAddress();
      }
      return "source:" + java.util.HexFormat.of().formatHex(b, 0, 8) + "::/64";
    } catch (java.net.UnknownHostException e) {
      return "source:" + address;
    }
  }

  private static void refuse(Instant until) {
    throw new ThrottledException(until);
  }

  /** When {@code key} is blocked until, if it is blocked at {@code now}. */
  Optional<Instant> blockedUntil(String key, Instant now) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT blocked_until FROM sso.login_failures WHERE throttle_key = ?")) {
      ps.setString(1, key);
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next() && rs.getTimestamp(1) != null) {
          Instant until = rs.getTimestamp(1).toInstant();
          return until.isAfter(now) ? Optional.of(until) : Optional.empty();
        }
        return Optional.empty();
      }
    } catch (SQLException e) {
      throw new InternalAuthenticationServiceException("sign-in throttling is unavailable", e);
    }
  }

  /** Counts a failure of {@code key}; blocks it when the window holds {@code max} of them. */
  void failed(String key, int max, Instant now) {
    Timestamp nowTs = Timestamp.from(now);
    Timestamp windowStart = Timestamp.from(now.minus(window));
    try (Connection c = dataSource.getConnection()) {
      int updated;
      try (PreparedStatement ps =
          c.prepareStatement(
              "UPDATE sso.login_failures SET failures = CASE WHEN window_start < ? THEN 1 ELSE"
                  + " failures + 1 END, window_start = CASE WHEN window_start < ? THEN ? ELSE"
                  + " window_start END WHERE throttle_key = ?")) {
        ps.setTimestamp(1, windowStart);
        ps.setTimestamp(2, windowStart);
        ps.setTimestamp(3, nowTs);
        ps.setString(4, key);
        updated = ps.executeUpdate();
      }
      if (updated == 0) {
        try (PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO sso.login_failures (throttle_key, failures, window_start) VALUES (?,"
                    + " 1, ?)")) {
          ps.setString(1, key);
          ps.setTimestamp(2, nowTs);
          ps.executeUpdate();
        } catch (SQLException e) {
          if (!"23505".equals(e.getSQLState())) {
            throw e;
          }
          failed(key, max, now); // another node inserted it first: count on its row
          return;
        }
      }
      try (PreparedStatement ps =
          c.prepareStatement(
              "UPDATE sso.login_failures SET blocked_until = ? WHERE throttle_key = ? AND"
                  + " failures >= ? AND (blocked_until IS NULL OR blocked_until < ?)")) {
        ps.setTimestamp(1, Timestamp.from(now.plus(block)));
        ps.setString(2, key);
        ps.setInt(3, max);
        ps.setTimestamp(4, nowTs);
        ps.executeUpdate();
      }
    } catch (SQLException e) {
      throw new InternalAuthenticationServiceException("sign-in throttling is unavailable", e);
    }
  }

  /** Until when the account's password attempts are blocked, if they are. */
  public Optional<Instant> passwordBlockedUntil(String username) {
    return blockedUntil("account:" + username, clock.instant());
  }

  /** Until when the account's second step (its codes) is blocked, if it is. */
  public Optional<Instant> secondStepBlockedUntil(String username) {
    return blockedUntil("otp:" + username, clock.instant());
  }

  /**
   * Until when the account may not enter device codes (RFC 8628 §5.1: a signed-in person guessing
   * the codes other people's devices show), if it may not.
   */
  public Optional<Instant> deviceCodesBlockedUntil(String username) {
    return blockedUntil("device:" + username, clock.instant());
  }

  /**
   * Counts a device code the account entered that names no waiting device; {@code max} of them
   * within the window block the account's device codes for the block time. Until when, if now
   * blocked.
   */
  public Optional<Instant> deviceCodeWrong(String username, int max) {
    Instant now = clock.instant();
    failed("device:" + username, max, now);
    return blockedUntil("device:" + username, now);
  }

  /**
   * Lifts an account's blocks (its password attempts, its second step and its device codes), as an
   * operator does who has just reset its password: the person signs in with the new one-time
   * password at once. Blocks of addresses and of device cookies stay.
   */
  public void unblock(String username) {
    clear("account:" + username);
    clear("otp:" + username);
    clear("device:" + username);
  }

  /**
   * Forgets the counts that no longer matter: those whose window began before {@code now} minus the
   * window and that block nothing at {@code now}. The next failure of such a key would start its
   * count anew at one all the same, so nothing the throttle decides changes; without this every
   * name anyone ever typed wrongly, and every address that ever failed, kept its row for ever. Safe
   * on several nodes at once (a plain conditional DELETE); how many rows it deleted.
   */
  public int forgetStale(Instant now) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "DELETE FROM sso.login_failures WHERE window_start < ? AND (blocked_until IS NULL"
                    + " OR blocked_until <= ?)")) {
      ps.setTimestamp(1, Timestamp.from(now.minus(window)));
      ps.setTimestamp(2, Timestamp.from(now));
      return ps.executeUpdate();
    } catch (SQLException e) {
      log.warn("event=sso_login_failures_cleanup_failed sqlstate={}", e.getSQLState());
      return 0;
    }
  }

  /** Runs {@link #forgetStale} every {@code period} on a daemon thread; {@link #close} stops it. */
  public LoginThrottle forgettingEvery(Duration period) {
    timer = io.yinxin.hsm.Schedulers.daemon("sso-login-failures");
    timer.scheduleWithFixedDelay(
        () -> {
          int n = forgetStale(clock.instant());
          if (n > 0) {
            log.info("event=sso_login_failures_forgotten count={}", n);
          }
        },
        period.toMillis(),
        period.toMillis(),
        java.util.concurrent.TimeUnit.MILLISECONDS);
    return this;
  }

  @Override
  public void close() {
    if (timer != null) {
      timer.shutdownNow();
    }
  }

  void clear(String key) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement("DELETE FROM sso.login_failures WHERE throttle_key = ?")) {
      ps.setString(1, key);
      ps.executeUpdate();
    } catch (SQLException e) {
      throw new InternalAuthenticationServiceException("sign-in throttling is unavailable", e);
    }
  }
}
