package io.yinxin.sso.account;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Which addresses share one budget of failed sign-ins, and which counts the throttle forgets (on
 * PostgreSQL, as several nodes share them).
 */
class LoginThrottleTest {

  @Test
  void anIpv6ClientIsCountedByItsSlash64AndAnIpv4ClientByItsAddress() {
    // One subscriber's /64, written as Tomcat reports addresses and as people write them.
    String a = LoginThrottle.sourceKey("2001:db8:1:2:0:0:0:1");
    assertThat(LoginThrottle.sourceKey("2001:db8:1:2:ffff:ffff:ffff:fffe")).isEqualTo(a);
    assertThat(LoginThrottle.sourceKey("2001:0DB8:0001:0002::9")).isEqualTo(a);
    assertThat(a).isEqualTo("source:20010db800010002::/64");
    // The next /64 is someone else.
    assertThat(LoginThrottle.sourceKey("2001:db8:1:3:0:0:0:1")).isNotEqualTo(a);
    // IPv4, and IPv4 written as an IPv4-mapped IPv6 address, are the IPv4 address.
    assertThat(LoginThrottle.sourceKey("192.0.2.7")).isEqualTo("source:192.0.2.7");
    assertThat(LoginThrottle.sourceKey("::ffff:192.0.2.7")).isEqualTo("source:192.0.2.7");
    assertThat(LoginThrottle.sourceKey("192.0.2.8")).isNotEqualTo("source:192.0.2.7");
  }

  /**
   * Counts whose window has passed and that block nothing are deleted; a block still running, and a
   * window still open, are kept. Forgetting changes no decision: the next failure of a forgotten
   * key counts one, as it would have on its stale row.
   */
  @Test
  void countsThatNoLongerMatterAreForgottenAndNothingElse() throws Exception {
    try (var pool = new io.yinxin.audit.store.PostgresDatabase().pool(2)) {
      javax.sql.DataSource ds = io.yinxin.sso.spring.SsoSchema.migrate(pool).dataSource();
      java.time.Duration window = java.time.Duration.ofMinutes(15);
      java.time.Duration block = java.time.Duration.ofMinutes(30);
      java.time.Instant t0 = java.time.Instant.parse("2026-12-07T00:00:00Z");
      LoginThrottle throttle =
          new LoginThrottle(ds, 5, 20, window, block, java.time.Clock.systemUTC());
      for (int i = 0; i < 5; i++) {
        throttle.failed("account:blocked", 5, t0);
      }
      throttle.failed("account:once", 5, t0);
      throttle.failed("account:later", 5, t0.plus(java.time.Duration.ofMinutes(10)));
      assertThat(throttle.blockedUntil("account:blocked", t0)).contains(t0.plus(block));

      // Exactly at the window's end nothing is stale yet; a second later "once" is.
      assertThat(throttle.forgetStale(t0.plus(window))).isZero();
      assertThat(throttle.forgetStale(t0.plus(window).plusSeconds(1))).isEqualTo(1);
      assertThat(keys(ds)).containsExactlyInAnyOrder("account:blocked", "account:later");
      assertThat(throttle.blockedUntil("account:blocked", t0.plus(window).plusSeconds(1)))
          .isPresent();

      // When the block ends, the blocked key and the later one go too.
      java.time.Instant end = t0.plus(block);
      assertThat(throttle.forgetStale(end)).isEqualTo(2);
      assertThat(keys(ds)).isEmpty();
      // A forgotten key starts again at one: four more failures do not block it, a fifth does.
      for (int i = 0; i < 4; i++) {
        throttle.failed("account:blocked", 5, end);
      }
      assertThat(throttle.blockedUntil("account:blocked", end)).isEmpty();
      throttle.failed("account:blocked", 5, end);
      assertThat(throttle.blockedUntil("account:blocked", end)).isPresent();
    }
  }

  private static java.util.List<String> keys(javax.sql.DataSource ds) throws Exception {
    java.util.List<String> keys = new java.util.ArrayList<>();
    try (var c = ds.getConnection();
        var rs = c.createStatement().executeQuery("SELECT throttle_key FROM sso.login_failures")) {
      while (rs.next()) {
        keys.add(rs.getString(1));
      }
    }
    return keys;
  }
}
