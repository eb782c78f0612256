package io.yinxin.sso.web;

import io.yinxin.sso.token.AuthenticationMethods;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.springframework.security.authentication.AnonymousAuthenticationToken;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.web.savedrequest.HttpSessionRequestCache;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * A recent sign-in before anyone changes how the account signs in (Keycloak's "maximum age of
 * authentication" for credential actions, GitHub's sudo mode). Whoever holds a session — a browser
 * left open, a stolen session cookie — could otherwise put their own authenticator app in place of
 * the owner's ({@code /account/totp} replaces the TOTP secret and the recovery codes) or add their
 * own passkey, and keep the account after the session ends. A password change already asks for the
 * current password.
 *
 * <p>The pages that start such a change ({@code GET /account/totp}, {@code GET /webauthn/register})
 * need a sign-in no older than {@code maxAge}: otherwise the request is saved and the browser goes
 * to {@code /login?reauth}; after signing in again, with every factor the account has, it comes
 * back. The changes themselves ({@code POST /account/totp}, passkey options, registration and
 * deletion under {@code /webauthn/register}) may come up to {@link #CHANGE_WITHIN} times {@code
 * maxAge} after the sign-in; later, the form goes back to its page (which asks for a sign-in), a
 * script request gets 403, and nothing changes.
 */
public final class RecentSignIn extends OncePerRequestFilter {
  /**
   * A change started on a page may come this many times {@code maxAge} after the sign-in (15
   * minutes by default): time to scan a QR code or find an authenticator.
   */
  public static final int CHANGE_WITHIN = 3;

  private final Duration maxAge;
  private final Clock clock;

  public RecentSignIn(Duration maxAge, Clock clock) {
    if (maxAge.isNegative() || maxAge.isZero()) {
      throw new IllegalArgumentException(
          "yinxin.sso.credential-change-max-age must be positive, was " + maxAge);
    }
    this.maxAge = maxAge;
    this.clock = clock;
  }

  private enum Kind {
    OTHER,
    PAGE,
    CHANGE
  }

  private static Kind kind(HttpServletRequest request) {
    String path = request.getRequestURI();
    boolean get = "GET".equals(request.getMethod()) || "HEAD".equals(request.getMethod());
    if (path.equals("/account/totp")) {
      return get ? Kind.PAGE : Kind.CHANGE;
    }
    if (path.equals("/webauthn/register")) {
      return get ? Kind.PAGE : Kind.CHANGE;
    }
    if (path.startsWith("/webauthn/register/")) {
      return get ? Kind.OTHER : Kind.CHANGE;
    }
    return Kind.OTHER;
  }

  @Override
  protected void doFilterInternal(
      HttpServletRequest request, HttpServletResponse response, FilterChain chain)
      throws ServletException, IOException {
    Kind kind = kind(request);
    Authentication who = SecurityContextHolder.getContext().getAuthentication();
    if (kind == Kind.OTHER
        || who == null
        || !who.isAuthenticated()
        || who instanceof AnonymousAuthenticationToken
        || recent(who, kind == Kind.PAGE ? maxAge : maxAge.multipliedBy(CHANGE_WITHIN))) {
      chain.doFilter(request, response); // not signed in: the authorization rules ask for it
      return;
    }
    response.setHeader("Cache-Control", "no-store");
    if (kind == Kind.PAGE) {
      new HttpSessionRequestCache().saveRequest(request, response);
      response.sendRedirect("/login?reauth");
    } else if (request.getRequestURI().equals("/account/totp")) {
      response.sendRedirect("/account/totp");
    } else {
      response.setStatus(HttpServletResponse.SC_FORBIDDEN);
      response.setContentType("application/json");
      response
          .getOutputStream()
          .write(
              "{\"error\":\"sign_in_again\",\"message\":\"请重新登录后再更改登录方式。Sign in again before you change how you sign in.\"}"
                  .getBytes(StandardCharsets.UTF_8));
    }
  }

  /** Whether the session's sign-in (its latest factor) is at most {@code age} old. */
  private boolean recent(Authentication who, Duration age) {
    Instant now = clock.instant();
    return AuthenticationMethods.authTime(who)
        .map(at -> !at.plus(age).isBefore(now) && !at.isAfter(now.plus(age)))
        .orElse(false);
  }
}
