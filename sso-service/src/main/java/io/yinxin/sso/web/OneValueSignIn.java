package io.yinxin.sso.web;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.List;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * The sign-in form ({@code POST /login}, which Spring Security's form login reads) with each of its
 * fields once. Spring takes the first of two {@code username}s or {@code password}s, while a proxy,
 * a firewall counting guesses per account, or a log may read the last: {@code
 * username=victim&username=decoy} signed in as the victim. A field given twice is a 400 {@link
 * ErrorPage} naming it, before anything is checked or counted.
 */
public final class OneValueSignIn extends OncePerRequestFilter {
  static final List<String> FIELDS = List.of("username", "password", "_csrf");

  @Override
  protected boolean shouldNotFilter(HttpServletRequest request) {
    return !"POST".equals(request.getMethod()) || !"/login".equals(request.getServletPath());
  }

  @Override
  protected void doFilterInternal(
      HttpServletRequest request, HttpServletResponse response, FilterChain chain)
      throws ServletException, IOException {
    for (String field : FIELDS) {
      String[] values = request.getParameterValues(field);
      if (values != null && values.length > 1) {
        request.setAttribute(ErrorPage.PARAMETER, field);
        response.sendError(HttpServletResponse.SC_BAD_REQUEST);
        return;
      }
    }
    chain.doFilter(request, response);
  }
}
