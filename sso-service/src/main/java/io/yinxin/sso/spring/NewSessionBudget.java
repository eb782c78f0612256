package io.yinxin.sso.spring;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * How many new sessions one client address may open on this node per minute. Anyone can open a
 * session without an account (loading the sign-in page stores its CSRF token in one, an
 * authorization request stores itself), and each session is a row in {@code sso.spring_session} or
 * a Redis key until it idles out: one client here opened 556 a second. Beyond the budget a request
 * that would open one is answered 429 with {@code Retry-After}, and nothing is stored; requests
 * that carry a live session are never counted.
 *
 * <p>Addresses count as the sign-in throttle counts them (IPv6 by its /64), in fixed one-minute
 * windows. The counts live on the node, as the ACME server's rate limits do, so behind a load
 * balancer with n nodes an address gets n budgets; they take no database round trip. At most {@link
 * #MAX_ADDRESSES} addresses are counted apart in one window: the ones beyond share one budget, so a
 * flood from more addresses than that cannot grow the heap.
 */
public final class NewSessionBudget {
  /** Addresses counted apart in one window; beyond that they share {@link #SHARED}. */
  static final int MAX_ADDRESSES = 100_000;

  static final String SHARED = "(many)";

  private static final long WINDOW_NANOS = 60_000_000_000L;

  /** The exception a request that may open no session meets; the filter answers it with 429. */
  static final class Refused extends RuntimeException {
    private static final long serialVersionUID = 1L;

    final long retryAfterSeconds;

    Refused(long retryAfterSeconds) {
      super("too many new sessions from one address", null, false, false);
      this.retryAfterSeconds = retryAfterSeconds;
    }
  }

  private record Window(long start, ConcurrentHashMap<String, AtomicInteger> counts) {}

  private final int perMinute;
  private final LongSupplier nanos;
  private final int maxAddresses;
  private volatile Window window;

  /**
   * @param perMinute new sessions an address may open per minute on this node, at least 1
   * @param nanos a monotonic clock ({@code System::nanoTime})
   */
  public NewSessionBudget(int perMinute, LongSupplier nanos) {
    this(perMinute, nanos, MAX_ADDRESSES);
  }

  NewSessionBudget(int perMinute, LongSupplier nanos, int maxAddresses) {
    if (perMinute < 1) {
      throw new IllegalArgumentException(
          "yinxin.sso.new-sessions-per-minute must be at least 1, was " + perMinute);
    }
    this.perMinute = perMinute;
    this.nanos = nanos;
    this.maxAddresses = maxAddresses;
    this.window = new Window(nanos.getAsLong(), new ConcurrentHashMap<>());
  }

  /**
   * Takes one new session from {@code address}'s budget; throws {@link Refused} (with the seconds
   * until the window ends) when it is spent.
   */
  void take(String address) {
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
    if (before >= perMinute) {
      io.yinxin.sso.SsoMetrics.sessionRefused();
      long left = WINDOW_NANOS - (now - w.start());
      throw new Refused(Math.max(1, (left + 999_999_999L) / 1_000_000_000L));
    }
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

  /**
   * Runs the rest of the chain with a request whose {@code getSession()} takes from the budget
   * before it opens a session; a refusal becomes 429 if nothing was written yet.
   */
  void filter(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
      throws IOException, ServletException {
    try {
      chain.doFilter(new Counted(request), response);
    } catch (IOException | ServletException | RuntimeException e) {
      Refused refused = refusal(e);
      if (refused == null || response.isCommitted()) {
        throw e;
      }
      response.reset();
      response.setStatus(429);
      response.setHeader("Retry-After", Long.toString(refused.retryAfterSeconds));
      response.setHeader("Cache-Control", "no-store");
      response.setContentType("text/html;charset=UTF-8");
      response
          .getOutputStream()
          .write(
              ("<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>请稍后重试"
                      + " · Try again shortly</title></head><body><p>此地址新开的会话过多，请于 "
                      + refused.retryAfterSeconds
                      + " 秒后重试。</p><p lang=\"en\">Too many new sessions from your address: try"
                      + " again in "
                      + refused.retryAfterSeconds
                      + " seconds.</p></body></html>")
                  .getBytes(StandardCharsets.UTF_8));
    }
  }

  private static Refused refusal(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof Refused r) {
        return r;
      }
    }
    return null;
  }

  /** A request that asks the budget before it creates a session. */
  private final class Counted extends HttpServletRequestWrapper {
    Counted(HttpServletRequest request) {
      super(request);
    }

    @Override
    public HttpSession getSession() {
      return getSession(true);
    }

    @Override
    public HttpSession getSession(boolean create) {
      HttpSession existing = super.getSession(false);
      if (existing != null || !create) {
        return existing;
      }
      take(getRemoteAddr());
      return super.getSession(true);
    }
  }
}
