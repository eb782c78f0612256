package io.yinxin.sso.web;

import io.yinxin.sso.token.AuthenticationMethods;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.springframework.security.authentication.AnonymousAuthenticationToken;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * A sign-in lasts at most {@code maxLifetime} (10 hours by default, Keycloak's "SSO Session Max"),
 * however busy its session: the idle timeout alone lets a session that is used every half hour — by
 * its owner, or by whoever took its cookie — sign in to portals for good. A session whose latest
 * sign-in is older is ended (removed from the session store, so on every node) and the request goes
 * on as anyone's: a portal's authorization request, the account page or a CAS login then ask for a
 * sign-in. Runs in both of the provider's filter chains, right after the security context is read
 * from the session.
 */
public final class SignInLifetime extends OncePerRequestFilter {
  private final Duration maxLifetime;
  private final Clock clock;

  public SignInLifetime(Duration maxLifetime, Clock clock) {
    if (maxLifetime.isNegative() || maxLifetime.isZero()) {
      throw new IllegalArgumentException(
          "yinxin.sso.session-max-lifetime must be positive, was " + maxLifetime);
    }
    this.maxLifetime = maxLifetime;
    this.clock = clock;
  }

  @Override
  protected void doFilterInternal(
      HttpServletRequest request, HttpServletResponse response, FilterChain chain)
      throws ServletException, IOException {
    Authentication who = SecurityContextHolder.getContext().getAuthentication();
    if (who != null
        && who.isAuthenticated()
        && !(who instanceof AnonymousAuthenticationToken)
        && expired(who)) {
      HttpSession session = request.getSession(false);
      if (session != null) {
        session.invalidate();
      }
      SecurityContextHolder.clearContext();
    }
    chain.doFilter(request, response);
  }

  /** Whether the latest sign-in (its latest factor) is older than the limit. */
  private boolean expired(Authentication who) {
    Instant now = clock.instant();
    return AuthenticationMethods.authTime(who)
        .map(at -> at.plus(maxLifetime).isBefore(now))
        .orElse(false);
  }
}
