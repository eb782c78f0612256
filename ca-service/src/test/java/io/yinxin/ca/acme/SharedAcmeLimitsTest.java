package io.yinxin.ca.acme;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.yinxin.audit.store.PostgresDatabase;
import io.yinxin.ca.store.CaStore;
import io.yinxin.ca.testing.TestNodes;
import java.nio.charset.StandardCharsets;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The ACME server's hourly limits hold for all nodes on one database together: two nodes, each with
 * its own connections and its own clock, on one PostgreSQL database (limits of {@link
 * AcmeRateLimitsTest}: 3 new accounts per address, 4 new orders per account, 2 failed validations
 * per account, per hour).
 */
class SharedAcmeLimitsTest {
  static PostgresDatabase db;

  @BeforeAll
  static void setUp() {
    db = TestNodes.database();
  }

  @AfterAll
  static void tearDown() {
    db.close();
  }

  private static CaStore node() {
    return CaStore.open(TestNodes.dataSource(db));
  }

  /**
   * Eight threads on two nodes ask for accounts from one address at once: three are created in all.
   * Two nodes each on a database of its own (what counting per node amounts to) let six through, so
   * the count of three is the sharing, not the figure.
   */
  @Test
  void accountsFromOneAddressRacingOnTwoNodesAreCreatedOnlyAsOftenAsOneNodeAllows()
      throws Exception {
    AtomicLong clock = new AtomicLong(TimeUnit.MILLISECONDS.toNanos(System.currentTimeMillis()));
    AcmeRateLimits a = AcmeRateLimitsTest.limits(node(), clock);
    AcmeRateLimits b = AcmeRateLimitsTest.limits(node(), clock);
    assertThat(race(a, b, "198.51.100.7")).isEqualTo(3);

    AcmeRateLimits alone = AcmeRateLimitsTest.limits(AcmeRateLimitsTest.h2(), clock);
    AcmeRateLimits other = AcmeRateLimitsTest.limits(AcmeRateLimitsTest.h2(), clock);
    assertThat(race(alone, other, "198.51.100.7")).isEqualTo(6);
  }

  /** Accounts created from {@code address} by four threads on each node, five tries each. */
  private static int race(AcmeRateLimits a, AcmeRateLimits b, String address) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(8);
    AtomicInteger created = new AtomicInteger();
    AtomicInteger refused = new AtomicInteger();
    try {
      List<Future<?>> all = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        AcmeRateLimits node = t % 2 == 0 ? a : b;
        Callable<Void> tries =
            () -> {
              for (int i = 0; i < 5; i++) {
                try {
                  node.newAccount(address);
                  created.incrementAndGet();
                } catch (AcmeProblem p) {
                  assertThat(p.status()).isEqualTo(429);
                  assertThat(p.retryAfterSeconds()).isBetween(1L, 1200L);
                  refused.incrementAndGet();
                }
              }
              return null;
            };
        all.add(pool.submit(tries));
      }
      for (Future<?> f : all) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(created.get() + refused.get()).isEqualTo(40);
    return created.get();
  }

  /**
   * Node B's clock runs ten minutes behind A's. What A spent, B does not get back for those ten
   * minutes: a bucket never goes back in time, so a skew only delays a refill. Orders come back at
   * four an hour, one per quarter of an hour of the later clock.
   */
  @Test
  void aNodeWhoseClockRunsBehindGetsNothingBackForTheSkew() {
    long start = TimeUnit.MILLISECONDS.toNanos(System.currentTimeMillis());
    AtomicLong clockA = new AtomicLong(start);
    AtomicLong clockB = new AtomicLong(start - TimeUnit.MINUTES.toNanos(10));
    AcmeRateLimits a = AcmeRateLimitsTest.limits(node(), clockA);
    AcmeRateLimits b = AcmeRateLimitsTest.limits(node(), clockB);
    for (int i = 0; i < 4; i++) {
      a.newOrder("acct-skew");
    }
    assertThatThrownBy(() -> b.newOrder("acct-skew")).isInstanceOf(AcmeProblem.class);
    // A quarter of an hour later on B's clock is only five minutes after A's last take.
    clockB.addAndGet(TimeUnit.MINUTES.toNanos(15));
    assertThatThrownBy(() -> b.newOrder("acct-skew"))
        .isInstanceOfSatisfying(
            AcmeProblem.class,
            p -> assertThat(p.retryAfterSeconds()).isBetween(9L * 60, 10L * 60 + 1));
    clockB.addAndGet(TimeUnit.MINUTES.toNanos(10));
    b.newOrder("acct-skew");
    assertThatThrownBy(() -> a.newOrder("acct-skew")).isInstanceOf(AcmeProblem.class);
  }

  /** Failed validations counted on one node stop the account's challenges on the other. */
  @Test
  void failedValidationsCountedOnOneNodeStopChallengesOnTheOther() {
    AtomicLong clock = new AtomicLong(TimeUnit.MILLISECONDS.toNanos(System.currentTimeMillis()));
    AcmeRateLimits a = AcmeRateLimitsTest.limits(node(), clock);
    AcmeRateLimits b = AcmeRateLimitsTest.limits(node(), clock);
    a.validationFailed("acct-fail");
    b.mayValidate("acct-fail");
    b.validationFailed("acct-fail");
    assertThatThrownBy(() -> a.mayValidate("acct-fail"))
        .isInstanceOfSatisfying(
            AcmeProblem.class, p -> assertThat(p.type()).isEqualTo("rateLimited"));
    assertThatThrownBy(() -> b.mayValidate("acct-fail")).isInstanceOf(AcmeProblem.class);
  }

  /**
   * The database holds no address, only an HMAC-SHA256 of its key (IPv4 "v4:" and its hex) under
   * HMAC-SHA256(secret, "yinxin acme rate-limit addresses"), the first 128 bits in hex; a bucket
   * full again is purged, and counts as full.
   */
  @Test
  void addressesAreStoredOnlyAsKeyedHashesAndFullBucketsArePurged() throws Exception {
    AtomicLong clock = new AtomicLong(TimeUnit.MILLISECONDS.toNanos(System.currentTimeMillis()));
    CaStore store = node();
    AcmeRateLimits a = AcmeRateLimitsTest.limits(store, clock);
    a.newAccount("203.0.113.77");
    byte[] derived = hmac(new byte[32], "yinxin acme rate-limit addresses");
    String expected = HexFormat.of().formatHex(hmac(derived, "v4:cb00714d"), 0, 16);
    List<String> stored =
        store.inTransaction(
            c -> {
              List<String> out = new ArrayList<>();
              try (Statement s = c.createStatement();
                  ResultSet rs =
                      s.executeQuery(
                          "SELECT who FROM ca.acme_limit_buckets WHERE kind = 'new_account'")) {
                while (rs.next()) {
                  out.add(rs.getString(1));
                }
              }
              return out;
            });
    assertThat(stored).contains(expected).noneMatch(w -> w.contains("203.0.113.77"));
    assertThat(stored).noneMatch(w -> w.contains("cb00714d"));

    a.newAccount("203.0.113.77");
    a.newAccount("203.0.113.77");
    assertThatThrownBy(() -> a.newAccount("203.0.113.77")).isInstanceOf(AcmeProblem.class);
    assertThat(a.purge(TimeUnit.NANOSECONDS.toMillis(clock.get()))).isZero();
    clock.addAndGet(TimeUnit.HOURS.toNanos(2) + TimeUnit.SECONDS.toNanos(1));
    assertThat(a.purge(TimeUnit.NANOSECONDS.toMillis(clock.get()))).isPositive();
    for (int i = 0; i < 3; i++) {
      a.newAccount("203.0.113.77");
    }
  }

  private static byte[] hmac(byte[] key, String data) throws Exception {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(key, "HmacSHA256"));
    return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
  }
}
