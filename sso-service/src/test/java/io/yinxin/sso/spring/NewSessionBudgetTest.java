package io.yinxin.sso.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The per-address budget of new sessions, on a clock the test moves. */
class NewSessionBudgetTest {
  private static final long SECOND = 1_000_000_000L;

  private final AtomicLong now = new AtomicLong(5 * SECOND);

  @Test
  void anAddressGetsItsBudgetPerMinuteAndIsToldWhenTheMinuteEnds() {
    NewSessionBudget budget = new NewSessionBudget(3, now::get);
    for (int i = 0; i < 3; i++) {
      budget.take("203.0.113.7");
    }
    double refused = refusedSoFar();
    now.addAndGet(20 * SECOND);
    assertThatThrownBy(() -> budget.take("203.0.113.7"))
        .isInstanceOfSatisfying(
            NewSessionBudget.Refused.class, r -> assertThat(r.retryAfterSeconds).isEqualTo(40));
    assertThat(refusedSoFar() - refused).isEqualTo(1.0);
    // another address is counted apart
    budget.take("203.0.113.8");
    // a refused address stays refused for the rest of the minute, however often it asks
    for (int i = 0; i < 1000; i++) {
      assertThatThrownBy(() -> budget.take("203.0.113.7"))
          .isInstanceOf(NewSessionBudget.Refused.class);
    }
    now.addAndGet(40 * SECOND - 1);
    assertThatThrownBy(() -> budget.take("203.0.113.7"))
        .isInstanceOfSatisfying(
            NewSessionBudget.Refused.class, r -> assertThat(r.retryAfterSeconds).isEqualTo(1));
    now.addAndGet(1);
    for (int i = 0; i < 3; i++) {
      budget.take("203.0.113.7");
    }
    assertThatThrownBy(() -> budget.take("203.0.113.7"))
        .isInstanceOf(NewSessionBudget.Refused.class);
  }

  @org.junit.jupiter.api.extension.RegisterExtension
  static final io.yinxin.sso.JoinedRegistry METRICS = new io.yinxin.sso.JoinedRegistry();

  /** yinxin_sso_sessions_refused_total, as a registry joining Micrometer's global one sees it. */
  private static double refusedSoFar() {
    return METRICS.count("yinxin.sso.sessions.refused");
  }

  @Test
  void anIpv6ClientCountsByItsSlash64WhateverSpellingOrAddressItUses() {
    NewSessionBudget budget = new NewSessionBudget(3, now::get);
    budget.take("2001:db8:1:2::1");
    budget.take("2001:0db8:0001:0002:ffff:ffff:ffff:ffff");
    budget.take("2001:DB8:1:2:0:0:0:abcd");
    assertThatThrownBy(() -> budget.take("2001:db8:1:2:1234::"))
        .isInstanceOf(NewSessionBudget.Refused.class);
    budget.take("2001:db8:1:3::1"); // the next /64 is someone else
  }

  @Test
  void addressesBeyondTheCountedOnesShareOneBudget() {
    NewSessionBudget budget = new NewSessionBudget(2, now::get, 4);
    for (int i = 1; i <= 4; i++) {
      budget.take("198.51.100." + i);
    }
    budget.take("198.51.100.5");
    budget.take("198.51.100.6");
    assertThatThrownBy(() -> budget.take("198.51.100.7"))
        .isInstanceOf(NewSessionBudget.Refused.class);
    // the four counted apart keep their own budgets
    budget.take("198.51.100.1");
    assertThatThrownBy(() -> budget.take("198.51.100.1"))
        .isInstanceOf(NewSessionBudget.Refused.class);
    // a new minute forgets them all
    now.addAndGet(60 * SECOND);
    budget.take("198.51.100.7");
    budget.take("198.51.100.7");
  }

  @Test
  void manyThreadsNeverGetMoreThanTheBudget() throws Exception {
    NewSessionBudget budget = new NewSessionBudget(1000, now::get);
    java.util.concurrent.atomic.AtomicInteger granted =
        new java.util.concurrent.atomic.AtomicInteger();
    Thread[] threads = new Thread[8];
    for (int t = 0; t < threads.length; t++) {
      threads[t] =
          new Thread(
              () -> {
                for (int i = 0; i < 5000; i++) {
                  try {
                    budget.take("192.0.2.1");
                    granted.incrementAndGet();
                  } catch (NewSessionBudget.Refused e) {
                    // beyond the budget
                  }
                }
              });
      threads[t].start();
    }
    for (Thread t : threads) {
      t.join();
    }
    assertThat(granted.get()).isEqualTo(1000);
  }

  @Test
  void aBudgetBelowOneIsAConfigurationError() {
    assertThatThrownBy(() -> new NewSessionBudget(0, now::get))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("yinxin.sso.new-sessions-per-minute");
  }
}
