package io.yinxin.ops;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Who may read {@code /actuator/*} beyond health. The embedded default (loopback only) leaves it
 * open; under {@code prod} ({@code yinxin.ops.actuator-open=false}) every actuator endpoint except
 * {@code /actuator/health} and its groups ({@code liveness}, {@code readiness}, for load balancers
 * and Kubernetes probes) needs {@code Authorization: Bearer <token>} whose SHA-256 (hex) is {@code
 * yinxin.ops.actuator-token-sha256}: Prometheus sends it from {@code
 * authorization.credentials_file}. Without a configured hash those endpoints answer 401 to
 * everyone.
 */
@Configuration(proxyBeanMethods = false)
class ActuatorAccess {

  @Bean
  FilterRegistrationBean<OncePerRequestFilter> actuatorAccessFilter(
      @Value("${yinxin.ops.actuator-open:true}") boolean open,
      @Value("${yinxin.ops.actuator-token-sha256:}") String tokenSha256) {
    byte[] expected = parseHash(tokenSha256);
    FilterRegistrationBean<OncePerRequestFilter> r =
        new FilterRegistrationBean<>(new Guard(open, expected));
    r.addUrlPatterns("/actuator", "/actuator/*");
    r.setOrder(Ordered.HIGHEST_PRECEDENCE + 10);
    r.setName("yinxinActuatorAccess");
    return r;
  }

  private static byte[] parseHash(String hex) {
    if (hex == null || hex.isBlank()) {
      return null;
    }
    String h = hex.trim();
    if (!h.matches("[0-9a-fA-F]{64}")) {
      throw new IllegalStateException(
          "yinxin.ops.actuator-token-sha256 must be 64 hex digits (the SHA-256 of the token)");
    }
    return HexFormat.of().parseHex(h);
  }

  static final class Guard extends OncePerRequestFilter {
    private final boolean open;
    private final byte[] expected;

    Guard(boolean open, byte[] expected) {
      this.open = open;
      this.expected = expected;
    }

    @Override
    protected void doFilterInternal(
        HttpServletRequest request, HttpServletResponse response, FilterChain chain)
        throws ServletException, IOException {
      String path = request.getRequestURI().substring(request.getContextPath().length());
      if (open || path.equals("/actuator/health") || path.startsWith("/actuator/health/")) {
        chain.doFilter(request, response);
        return;
      }
      if (expected != null && matches(request.getHeader("Authorization"))) {
        chain.doFilter(request, response);
        return;
      }
      response.setStatus(401);
      response.setHeader("WWW-Authenticate", "Bearer realm=\"yinxin-actuator\"");
      response.setContentType("application/problem+json");
      response
          .getOutputStream()
          .write(
              ("{\"title\":\"Unauthorized\",\"status\":401,\"detail\":\"this endpoint needs the"
                      + " operator's actuator token\"}")
                  .getBytes(StandardCharsets.UTF_8));
    }

    private boolean matches(String authorization) {
      if (authorization == null || authorization.length() > 1024) {
        return false;
      }
      if (!authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
        return false;
      }
      String token = authorization.substring(7).trim();
      try {
        byte[] got =
            MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        return MessageDigest.isEqual(got, expected);
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }
  }
}
