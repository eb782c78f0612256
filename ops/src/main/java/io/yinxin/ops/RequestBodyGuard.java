package io.yinxin.ops;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.regex.Pattern;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.util.unit.DataSize;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Refuses, before any filter or module reads a byte of it, a body no endpoint would take:
 *
 * <ul>
 *   <li>{@code multipart/form-data} anywhere but the one endpoint that accepts it (sealing an
 *       uploaded PDF, {@code POST /sign/v1/seals/{id}/sign}): 415. Without this, a parameter read
 *       by any filter (the sign-in form, the OAuth2 token endpoint, CSRF checks) made the servlet
 *       container parse and spool a multipart body of up to {@code
 *       spring.servlet.multipart.max-request-size} for a caller without a token. The one endpoint
 *       checks the token before it parses ({@code spring.servlet.multipart.resolve-lazily});
 *   <li>a declared {@code Content-Length} above {@code spring.servlet.multipart.max-request-size}
 *       (the largest body any endpoint accepts): 413.
 * </ul>
 *
 * Both answers close the connection, so the rest of the body is never read. Every other limit is
 * the endpoint's own, checked as it reads ({@code RequestLimitsTest} sweeps every endpoint).
 */
@Configuration(proxyBeanMethods = false)
class RequestBodyGuard {
  static final Pattern MULTIPART_PATHS = Pattern.compile("^/sign/v1/seals/[^/]+/sign$");

  @Bean
  FilterRegistrationBean<OncePerRequestFilter> requestBodyGuardFilter(
      @Value("${spring.servlet.multipart.max-request-size:101MB}") DataSize largest) {
    FilterRegistrationBean<OncePerRequestFilter> r =
        new FilterRegistrationBean<>(new Guard(largest.toBytes()));
    r.addUrlPatterns("/*");
    r.setOrder(Ordered.HIGHEST_PRECEDENCE + 1); // after the security headers, before the rest
    r.setName("yinxinRequestBodyGuard");
    return r;
  }

  static final class Guard extends OncePerRequestFilter {
    private final long largest;

    Guard(long largest) {
      this.largest = largest;
    }

    @Override
    protected void doFilterInternal(
        HttpServletRequest request, HttpServletResponse response, FilterChain chain)
        throws ServletException, IOException {
      String type = request.getContentType();
      if (type != null
          && type.toLowerCase(Locale.ROOT).startsWith("multipart/")
          && !MULTIPART_PATHS.matcher(request.getRequestURI()).matches()) {
        refuse(
            response, 415, "multipart bodies are accepted only by POST /sign/v1/seals/{id}/sign");
        return;
      }
      if (request.getContentLengthLong() > largest) {
        refuse(
            response, 413, "the body is larger than any endpoint accepts (" + largest + " bytes)");
        return;
      }
      chain.doFilter(request, response);
    }

    /** A problem+json answer that closes the connection, so the rest of the body is never read. */
    static void refuse(HttpServletResponse response, int status, String detail) throws IOException {
      response.setStatus(status);
      response.setHeader("Connection", "close");
      response.setContentType("application/problem+json");
      byte[] body =
          ("{\"status\":" + status + ",\"detail\":\"" + detail + "\"}")
              .getBytes(StandardCharsets.UTF_8);
      response.setContentLength(body.length);
      response.getOutputStream().write(body);
    }
  }
}
