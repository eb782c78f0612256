package io.yinxin.ops;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Security headers on every response of every module, set before the module answers (a module that
 * sets its own keeps it: these are written only where absent, and Spring Security's writers skip a
 * header already present):
 *
 * <ul>
 *   <li>{@code X-Content-Type-Options: nosniff}: a PDF, a CRL or a JSON body is never run as script
 *       or style;
 *   <li>{@code Referrer-Policy: no-referrer}: codes, tickets and state in our URLs never reach
 *       another site in a Referer;
 *   <li>{@code Content-Security-Policy: frame-ancestors 'none'} and {@code X-Frame-Options: DENY}:
 *       no page of ours (sign-in, consent, account) can be framed to click-jack a person;
 *   <li>{@code Strict-Transport-Security: max-age=31536000; includeSubDomains} on requests that
 *       came over TLS (browsers ignore it over plain HTTP, RFC 6797 §7.2).
 * </ul>
 */
@Configuration(proxyBeanMethods = false)
class SecurityHeaders {

  @Bean
  FilterRegistrationBean<OncePerRequestFilter> securityHeadersFilter() {
    FilterRegistrationBean<OncePerRequestFilter> r = new FilterRegistrationBean<>(new Writer());
    r.addUrlPatterns("/*");
    r.setOrder(Ordered.HIGHEST_PRECEDENCE);
    r.setName("yinxinSecurityHeaders");
    return r;
  }

  static final class Writer extends OncePerRequestFilter {
    @Override
    protected void doFilterInternal(
        HttpServletRequest request, HttpServletResponse response, FilterChain chain)
        throws ServletException, IOException {
      response.setHeader("X-Content-Type-Options", "nosniff");
      response.setHeader("Referrer-Policy", "no-referrer");
      response.setHeader("X-Frame-Options", "DENY");
      response.setHeader("Content-Security-Policy", "frame-ancestors 'none'");
      if (request.isSecure()) {
        response.setHeader("Strict-Transport-Security", "max-age=31536000; includeSubDomains");
      }
      chain.doFilter(request, response);
    }
  }
}
