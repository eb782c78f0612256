package io.yinxin.sso.spring;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.function.LongSupplier;

/**
 * How many device codes one client address may ask for per minute on this node ({@code
 * yinxin.sso.device-authorizations-per-minute}). A public device client (RFC 8628) names only its
 * {@code client_id}, so anyone who knows it can ask, and each answer is an authorization row until
 * it expires: one client here stored 1,290 a second. Beyond the budget {@code POST
 * /oauth2/device_authorization} is answered 429 with {@code Retry-After} and an OAuth 2 error body,
 * before Spring reads it, and nothing is stored. Counted per address and minute by {@link
 * AddressBudget}; a television asks once per sign-in.
 */
public final class DeviceAuthorizationBudget implements Filter {
  private final AddressBudget budget;

  public DeviceAuthorizationBudget(int perMinute, LongSupplier nanos) {
    this.budget =
        new AddressBudget(
            "yinxin.sso.device-authorizations-per-minute",
            perMinute,
            nanos,
            AddressBudget.MAX_ADDRESSES);
  }

  @Override
  public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain)
      throws IOException, ServletException {
    HttpServletRequest request = (HttpServletRequest) req;
    if (!"POST".equals(request.getMethod())) {
      chain.doFilter(req, res);
      return;
    }
    long retryAfter = budget.take(request.getRemoteAddr());
    if (retryAfter == 0) {
      chain.doFilter(req, res);
      return;
    }
    io.yinxin.sso.SsoMetrics.deviceAuthorizationRefused();
    HttpServletResponse response = (HttpServletResponse) res;
    response.setStatus(429);
    response.setHeader("Retry-After", Long.toString(retryAfter));
    response.setHeader("Cache-Control", "no-store");
    response.setContentType("application/json;charset=UTF-8");
    response
        .getOutputStream()
        .write(
            ("{\"error\":\"temporarily_unavailable\",\"error_description\":\"too many device"
                    + " authorizations from this address; try again in "
                    + retryAfter
                    + " s\"}")
                .getBytes(StandardCharsets.UTF_8));
  }
}
