package io.yinxin.ca.acme;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.yinxin.ca.store.CaStore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The limits' figures, on H2 as the embedded default keeps them (a database of its own per test);
 * {@link SharedAcmeLimitsTest} has two nodes share them on PostgreSQL. One clock drives both kinds
 * of bucket: the per-node request buckets read it in nanoseconds, the shared ones in milliseconds.
 */
class AcmeRateLimitsTest {
  final AtomicLong now = new AtomicLong(1_000_000_000L);
  final AcmeRateLimits limits = limits(h2(), now);

  static CaStore h2() {
    var ds = new org.h2.jdbcx.JdbcDataSource();
    ds.setURL(
        "jdbc:h2:mem:acme-limits-"
            + java.util.UUID.randomUUID()
            + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DB_CLOSE_DELAY=-1");
    return CaStore.open(ds);
  }

  /** The limits of these tests on a CA database, with a shared secret of 32 zero bytes. */
  static AcmeRateLimits limits(CaStore store, AtomicLong nanos) {
    return new AcmeRateLimits(
        new AcmeRateLimits.Limits(2, 5, 3, 5, 4, 2),
        nanos::get,
        10_000,
        new SharedBuckets(store, () -> nanos.get() / 1_000_000),
        new byte[32]);
  }

  @Test
  void anAddressGetsItsBurstThenRateLimitedWithRetryAfterThenTokensBackOverTime() {
    for (int i = 0; i < 5; i++) {
      limits.request("192.0.2.7");
    }
    assertThatThrownBy(() -> limits.request("192.0.2.7"))
        .isInstanceOfSatisfying(
            AcmeProblem.class,
            p -> {
              assertThat(p.type()).isEqualTo("rateLimited");
              assertThat(p.status()).isEqualTo(429);
              assertThat(p.retryAfterSeconds()).isEqualTo(1);
            });
    // another address is not affected
    assertThatCode(() -> limits.request("192.0.2.8")).doesNotThrowAnyException();
    // 2 per second: after one second two more, not three
    now.addAndGet(TimeUnit.SECONDS.toNanos(1));
    limits.request("192.0.2.7");
    limits.request("192.0.2.7");
    assertThatThrownBy(() -> limits.request("192.0.2.7")).isInstanceOf(AcmeProblem.class);
  }

  @Test
  void ipv6AddressesCountByTheirSlash64() {
    for (int i = 0; i < 5; i++) {
      limits.request("2001:db8:1:2::" + Integer.toHexString(i + 1));
    }
    assertThatThrownBy(() -> limits.request("2001:db8:1:2:ffff:ffff:ffff:ffff"))
        .isInstanceOf(AcmeProblem.class);
    // the same /64 written another way is the same client
    assertThatThrownBy(() -> limits.request("2001:0db8:0001:0002:0:0:0:9"))
        .isInstanceOf(AcmeProblem.class);
    assertThatCode(() -> limits.request("2001:db8:1:3::1")).doesNotThrowAnyException();
    assertThat(AcmeRateLimits.prefix("2001:db8:1:2::1%eth0"))
        .isEqualTo(AcmeRateLimits.prefix("2001:db8:1:2::2"));
  }

  @Test
  void aNameIsNeverResolvedToFindTheKey() {
    assertThat(AcmeRateLimits.prefix("localhost")).isEqualTo("other:localhost");
    assertThat(AcmeRateLimits.prefix("bad.cafe")).isEqualTo("other:bad.cafe");
    assertThat(AcmeRateLimits.prefix("10.0.0.1")).isEqualTo("v4:0a000001");
  }

  @Test
  void newAccountsPerAddressAndNewOrdersPerAccountAreLimitedPerHour() {
    for (int i = 0; i < 3; i++) {
      limits.newAccount("198.51.100.1");
    }
    assertThatThrownBy(() -> limits.newAccount("198.51.100.1"))
        .isInstanceOfSatisfying(
            AcmeProblem.class, p -> assertThat(p.retryAfterSeconds()).isBetween(1L, 3600L / 3 + 1));
    for (int i = 0; i < 4; i++) {
      limits.newOrder("acct-a");
    }
    assertThatThrownBy(() -> limits.newOrder("acct-a")).isInstanceOf(AcmeProblem.class);
    assertThatCode(() -> limits.newOrder("acct-b")).doesNotThrowAnyException();
    now.addAndGet(TimeUnit.MINUTES.toNanos(15));
    assertThatCode(() -> limits.newOrder("acct-a")).doesNotThrowAnyException();
  }

  /**
   * One /48 holds 65,536 /64s, each with its own allowance; a tunnel broker hands one out for free.
   * Together its addresses may create only the /48's figure (5 here), whichever /64 they come from.
   */
  @Test
  void newAccountsFromAllTheSlash64sOfOneIpv6Slash48ShareItsAllowance() {
    for (int i = 0; i < 3; i++) {
      limits.newAccount("2001:db8:aa:1::" + (i + 1));
    }
    limits.newAccount("2001:db8:aa:2::1");
    limits.newAccount("2001:0db8:00aa:ffff:0:0:0:1"); // the same /48, written in full
    assertThatThrownBy(() -> limits.newAccount("2001:db8:aa:3::1"))
        .isInstanceOfSatisfying(
            AcmeProblem.class,
            p -> {
              assertThat(p.type()).isEqualTo("rateLimited");
              assertThat(p.getMessage()).contains("IPv6 /48");
              assertThat(p.retryAfterSeconds()).isBetween(1L, 3600L / 5 + 1);
            });
    // the neighbouring /48, IPv4 and an IPv4-mapped address count on their own
    assertThatCode(() -> limits.newAccount("2001:db8:ab:3::1")).doesNotThrowAnyException();
    assertThatCode(() -> limits.newAccount("192.0.2.1")).doesNotThrowAnyException();
    assertThat(AcmeRateLimits.prefix("::ffff:192.0.2.1")).isEqualTo("v4:c0000201");
    assertThat(AcmeRateLimits.ipv6Range(AcmeRateLimits.prefix("::ffff:192.0.2.1"))).isNull();
    // a refusal by the /48 spends nothing of the address's own allowance
    now.addAndGet(TimeUnit.MINUTES.toNanos(12)); // the /48 gets one back (an hour / 5)
    limits.newAccount("2001:db8:aa:3::1"); // that /64 now has 2 of its 3
    assertThatThrownBy(() -> limits.newAccount("2001:db8:aa:3::2"))
        .isInstanceOfSatisfying(
            AcmeProblem.class, p -> assertThat(p.getMessage()).contains("IPv6 /48"));
    // 36 minutes later the /48 has 3 again and the /64 its 2 + 1.8 (at most 3): all three pass; had
    // the refusal spent one of the /64's, it would have 2.8 and the third would fail
    now.addAndGet(TimeUnit.MINUTES.toNanos(36));
    for (int i = 0; i < 3; i++) {
      limits.newAccount("2001:db8:aa:3::" + (i + 5));
    }
    assertThatThrownBy(() -> limits.newAccount("2001:db8:aa:3::9")).isInstanceOf(AcmeProblem.class);
  }

  @Test
  void anAccountWithTooManyFailedValidationsMayNotStartAnother() {
    assertThatCode(() -> limits.mayValidate("acct")).doesNotThrowAnyException();
    limits.validationFailed("acct");
    assertThatCode(() -> limits.mayValidate("acct")).doesNotThrowAnyException();
    limits.validationFailed("acct");
    assertThatThrownBy(() -> limits.mayValidate("acct"))
        .isInstanceOfSatisfying(
            AcmeProblem.class, p -> assertThat(p.type()).isEqualTo("rateLimited"));
    // checking does not spend: other accounts and this one after half an hour may go on
    assertThatCode(() -> limits.mayValidate("other")).doesNotThrowAnyException();
    now.addAndGet(TimeUnit.MINUTES.toNanos(30));
    assertThatCode(() -> limits.mayValidate("acct")).doesNotThrowAnyException();
  }

  @Test
  void limitsBelowOneAreRefusedAtStart() {
    assertThatThrownBy(() -> new AcmeRateLimits.Limits(0, 5, 3, 5, 4, 2))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
