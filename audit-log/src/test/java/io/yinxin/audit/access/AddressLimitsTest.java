package io.yinxin.audit.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class AddressLimitsTest {
  final AtomicLong now = new AtomicLong(5_000_000_000L);

  private int signed(AddressLimits limits, String client, int asks) {
    int n = 0;
    for (int i = 0; i < asks; i++) {
      if (limits.take(client) == 0) {
        n++;
      }
    }
    return n;
  }

  @Test
  void anAddressGetsItsBurstThenItsRateAndOthersKeepTheirOwn() {
    AddressLimits limits = new AddressLimits(2, 5, 1000, now::get, 1000);
    assertThat(signed(limits, "192.0.2.7", 50)).isEqualTo(5);
    assertThat(signed(limits, "192.0.2.8", 50)).isEqualTo(5);
    now.addAndGet(TimeUnit.MILLISECONDS.toNanos(1500)); // 3 tokens back at 2 per second
    assertThat(signed(limits, "192.0.2.7", 50)).isEqualTo(3);
    now.addAndGet(TimeUnit.HOURS.toNanos(1)); // never more than the burst
    assertThat(signed(limits, "192.0.2.7", 50)).isEqualTo(5);
  }

  @Test
  void anIpv6Slash64IsOneAddressHoweverWrittenAndAnotherSlash64IsNot() {
    AddressLimits limits = new AddressLimits(1, 3, 1000, now::get, 1000);
    assertThat(limits.take("2001:db8:1:2::1")).isZero();
    assertThat(limits.take("2001:0db8:0001:0002:ffff:0:0:9")).isZero();
    assertThat(limits.take("2001:db8:1:2::a%eth0")).isZero();
    assertThat(limits.take("2001:db8:1:2::b")).isEqualTo(1);
    assertThat(limits.take("2001:db8:1:3::1")).isZero();
  }

  @Test
  void theNodesBudgetHoldsForAllAddressesAndIsSpentOnlyWithAnAddresss() {
    AddressLimits limits = new AddressLimits(1, 4, 10, now::get, 1000);
    // One address over its own budget does not spend the node's.
    assertThat(signed(limits, "198.51.100.1", 1000)).isEqualTo(4);
    int total = 0;
    for (int i = 2; i <= 200; i++) {
      total += signed(limits, "198.51.100." + i, 4);
    }
    assertThat(total).isEqualTo(10 - 4);
    now.addAndGet(TimeUnit.MILLISECONDS.toNanos(500)); // 5 back for the node
    total = 0;
    for (int i = 1; i <= 100; i++) {
      total += signed(limits, "203.0.113." + i, 1);
    }
    assertThat(total).isEqualTo(5);
  }

  @Test
  void aFloodFromMoreAddressesThanAreCountedStaysWithinTheNodesBudget() {
    AddressLimits limits = new AddressLimits(5, 5, 100, now::get, 10);
    int total = 0;
    for (int i = 0; i < 5_000; i++) {
      total += signed(limits, "10." + (i >> 16 & 255) + "." + (i >> 8 & 255) + "." + (i & 255), 1);
    }
    assertThat(total).isEqualTo(100);
  }

  @Test
  void thisNodeItselfIsNeverLimitedAndLimitsAreAtLeastOne() {
    AddressLimits limits = new AddressLimits(1, 1, 1, now::get, 10);
    assertThat(signed(limits, null, 100)).isEqualTo(100);
    assertThat(signed(AddressLimits.NONE, "192.0.2.1", 100)).isEqualTo(100);
    assertThatThrownBy(() -> new AddressLimits(0, 1, 1, now::get, 10))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new AddressLimits(1, 1, 0, now::get, 10))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
