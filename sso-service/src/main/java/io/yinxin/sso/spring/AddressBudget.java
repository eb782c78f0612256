package io.yinxin.sso.spring;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * How many times one client address may do something per minute on this node (open a session, ask
 * for a device code). Addresses count as the sign-in throttle counts them (IPv6 by its /64), in
 * fixed one-minute windows. The counts live on the node, as the ACME server's rate limits do, so
 * behind a load balancer with n nodes an address gets n budgets; they take no database round trip.
 * At most {@link #MAX_ADDRESSES} addresses are counted apart in one window: the ones beyond share
 * one budget, so a flood from more addresses than that cannot grow the heap.
 */
final class AddressBudget {
  /** Addresses counted apart in one window; beyond that they share {@link #SHARED}. */
  static final int MAX_ADDRESSES = 100_000;

  static final String SHARED = "(many)";

  private static final long WINDOW_NANOS = 60_000_000_000L;

  private record Window(long start, ConcurrentHashMap<String, AtomicInteger> counts) {}

  private final int perMinute;
  private final LongSupplier nanos;
  private final int maxAddresses;
  private volatile Window window;

  /**
   * @param property the setting {@code perMinute} comes from, for the error when it is below 1
   * @param perMinute times an address may per minute on this node, at least 1
   * @param nanos a monotonic clock ({@code System::nanoTime})
   */
  AddressBudget(String property, int perMinute, LongSupplier nanos, int maxAddresses) {
    if (perMinute < 1) {
      throw new IllegalArgumentException(property + " must be at least 1, was " + perMinute);
    }
    this.perMinute = perMinute;
    this.nanos = nanos;
    this.maxAddresses = maxAddresses;
    this.window = new Window(nanos.getAsLong(), new ConcurrentHashMap<>());
  }

  /**
   * Takes one from {@code address}'s budget.
   *
   * @return 0 if taken; when the budget is spent, the seconds until the window ends (at least 1)
   */
  long take(String address) {
    long now = nanos.getAsLong();
    Window w = current(now);
    String key = io.yinxin.sso.account.LoginThrottle.sourceKey(String.valueOf(address));
    AtomicInteger count = w.counts().get(key);
    if (count == null) {
      count =
          w.counts().size() < maxAddresses
              ? w.counts().computeIfAbsent(key, k -> new AtomicInteger())
              : w.counts().computeIfAbsent(SHARED, k -> new AtomicInteger());
    }
    // Never counts past the budget: an address refused for the rest of the minute cannot overflow.
    int before = count.getAndUpdate(n -> n < perMinute ? n + 1 : n);
    if (before < perMinute) {
      return 0;
    }
    long left = WINDOW_NANOS - (now - w.start());
    return Math.max(1, (left + 999_999_999L) / 1_000_000_000L);
  }

  /** The window {@code now} falls in, a new one (and every count dropped) once a minute is over. */
  private Window current(long now) {
    Window w = window;
    while (now - w.start() >= WINDOW_NANOS) {
      synchronized (this) {
        if (window == w) {
          window = new Window(now, new ConcurrentHashMap<>());
        }
      }
      w = window;
    }
    return w;
  }
}
