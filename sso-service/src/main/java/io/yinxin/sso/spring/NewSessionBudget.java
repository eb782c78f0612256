package io.yinxin.sso.spring;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.function.LongSupplier;

/**
 * How many new sessions one client address may open on this node per minute. Anyone can open a
 * session without an account (loading the sign-in page stores its CSRF token in one, an
 * authorization request stores itself), and each session is a row in {@code sso.spring_session} or
 * a Redis key until it idles out: one client here opened 556 a second. Beyond the budget a request
 * that would open one is answered 429 with {@code Retry-After}, and nothing is stored; requests
 * that carry a live session are never counted.
 *
 * <p>Counted per address and minute by {@link AddressBudget}.
 */
public final class NewSessionBudget {
  /** The exception a request that may open no session meets; the filter answers it with 429. */
  static final class Refused extends RuntimeException {
    private static final long serialVersionUID = 1L;

    final long retryAfterSeconds;

    Refused(long retryAfterSeconds) {
      super("too many new sessions from one address", null, false, false);
      this.retryAfterSeconds = retryAfterSeconds;
    }
  }

  private final AddressBudget budget;

  /**
   * @param perMinute new sessions an address may open per minute on this node, at least 1
   * @param nanos a monotonic clock ({@code System::nanoTime})
   */
  public NewSessionBudget(int perMinute, LongSupplier nanos) {
    this(perMinute, nanos, AddressBudget.MAX_ADDRESSES);
  }

  NewSessionBudget(int perMinute, LongSupplier nanos, int maxAddresses) {
    this.budget =
        new AddressBudget("yinxin.sso.new-sessions-per-minute", perMinute, nanos, maxAddresses);
  }

  /**
   * Takes one new session from {@code address}'s budget; throws {@link Refused} (with the seconds
   * until the window ends) when it is spent.
   */
  void take(String address) {
    long retryAfter = budget.take(address);
    if (retryAfter > 0) {
      io.yinxin.sso.SsoMetrics.sessionRefused();
      throw new Refused(retryAfter);
    }
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
