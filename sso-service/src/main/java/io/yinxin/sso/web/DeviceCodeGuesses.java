package io.yinxin.sso.web;

import io.yinxin.sso.SsoMetrics;
import io.yinxin.sso.account.LoginThrottle;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.time.Instant;
import java.util.Optional;
import org.springframework.http.HttpStatus;
import org.springframework.security.authentication.AnonymousAuthenticationToken;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.oauth2.core.OAuth2AuthenticationException;
import org.springframework.security.oauth2.core.OAuth2ErrorCodes;
import org.springframework.security.web.authentication.AuthenticationFailureHandler;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Device codes entered by a signed-in person, within a budget (RFC 8628 §5.1: "the server
 * rate-limit user code attempts"). A user code is eight letters (20^8 values) and anyone with an
 * account could enter codes in a loop at the verification endpoint, about 250 a second on one node
 * here, and a code that matches binds someone else's waiting device to the guesser's account. So a
 * code that names no waiting device counts against the account (across nodes, in {@code
 * sso.login_failures}); {@link #MAX} of them within the sign-in throttle's window block the
 * account's device codes for its block time, before Spring looks a code up. The person is sent back
 * to {@code /activate}, which says the code was not right, or until when codes are blocked.
 */
public final class DeviceCodeGuesses {
  /** Wrong codes an account may enter within the sign-in throttle's window. */
  public static final int MAX = 10;

  private static final String VERIFICATION = "/oauth2/device_verification";

  private final LoginThrottle throttle;

  public DeviceCodeGuesses(LoginThrottle throttle) {
    this.throttle = throttle;
  }

  /** Until when the signed-in {@code username} may not enter device codes, if blocked. */
  public Optional<Instant> blockedUntil(String username) {
    return throttle.deviceCodesBlockedUntil(username);
  }

  private static Optional<String> signedIn() {
    Authentication who = SecurityContextHolder.getContext().getAuthentication();
    return who == null || who instanceof AnonymousAuthenticationToken || !who.isAuthenticated()
        ? Optional.empty()
        : Optional.of(who.getName());
  }

  /**
   * Before Spring's verification endpoint (after the session's sign-in is known): a blocked
   * account's code is not looked up; the person goes to {@code /activate}, which says until when.
   */
  public OncePerRequestFilter filter() {
    return new OncePerRequestFilter() {
      @Override
      protected boolean shouldNotFilter(HttpServletRequest request) {
        return !VERIFICATION.equals(request.getServletPath());
      }

      @Override
      protected void doFilterInternal(
          HttpServletRequest request, HttpServletResponse response, FilterChain chain)
          throws ServletException, IOException {
        Optional<String> who = signedIn();
        if (who.isPresent()
            && request.getParameter("user_code") != null
            && blockedUntil(who.get()).isPresent()) {
          SsoMetrics.deviceCodeGuess(SsoMetrics.DeviceCodeGuess.REFUSED);
          response.setStatus(HttpStatus.FOUND.value());
          response.setHeader("Location", "/activate");
          return;
        }
        chain.doFilter(request, response);
      }
    };
  }

  /**
   * Spring's verification endpoint's error answer: a code that names no waiting device ({@code
   * invalid_grant}) is counted and the person sent back to {@code /activate?error}; any other error
   * is Spring's own answer (400 with the OAuth 2 error), shown by {@link ErrorPage}.
   */
  public AuthenticationFailureHandler errorHandler() {
    return (request, response, exception) -> {
      Optional<String> who = signedIn();
      if (exception instanceof OAuth2AuthenticationException e
          && OAuth2ErrorCodes.INVALID_GRANT.equals(e.getError().getErrorCode())
          && who.isPresent()) {
        SsoMetrics.deviceCodeGuess(
            throttle.deviceCodeWrong(who.get(), MAX).isPresent()
                ? SsoMetrics.DeviceCodeGuess.BLOCKED
                : SsoMetrics.DeviceCodeGuess.WRONG);
        response.setStatus(HttpStatus.FOUND.value());
        response.setHeader("Location", "/activate?error");
        return;
      }
      response.sendError(
          HttpStatus.BAD_REQUEST.value(),
          exception instanceof OAuth2AuthenticationException e
              ? e.getError().toString()
              : "invalid_request");
    };
  }
}
