package io.yinxin.ca.acme;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class AcmeRateLimitsTest {
  final AtomicLong now = new AtomicLong(1_000_000_000L);
  final AcmeRateLimits limits =
      new AcmeRateLimits(new AcmeRateLimits.Limits(2, 5, 3, 4, 2), now::get, 10_000);

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
    assertThatThrownBy(() -> new AcmeRateLimits.Limits(0, 5, 3, 4, 2))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
