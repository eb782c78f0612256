package io.yinxin.sso.account;

import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.AuditLog;
import io.yinxin.audit.EventType;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import java.io.IOException;
import java.io.Serializable;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.core.authority.FactorGrantedAuthority;
import org.springframework.security.core.context.SecurityContext;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.core.userdetails.UserDetails;
import org.springframework.security.web.authentication.AuthenticationSuccessHandler;
import org.springframework.security.web.authentication.SavedRequestAwareAuthenticationSuccessHandler;
import org.springframework.security.web.authentication.WebAuthenticationDetails;
import org.springframework.security.web.context.HttpSessionSecurityContextRepository;
import org.springframework.security.web.context.SecurityContextRepository;
import org.springframework.security.web.savedrequest.HttpSessionRequestCache;
import org.springframework.security.web.savedrequest.SavedRequest;

/**
 * The second step of a sign-in. When the password of an account with a TOTP credential is right,
 * the session is not signed in yet: it only remembers who passed the first step (for five minutes),
 * and the browser is sent to {@code /login/otp}. A correct code (or recovery code) then signs the
 * session in, with a new session id (no fixation), the factors it passed as Spring Security factor
 * authorities ({@code FACTOR_PASSWORD}, {@code FACTOR_TOTP}) that become {@code amr} in the ID
 * token. Five wrong codes block the account's second step for 15 minutes (across nodes); every
 * attempt is an audit event with method {@code otp}.
 */
public final class SecondFactorLogin implements AuthenticationSuccessHandler {
  /** The authority of a TOTP factor. */
  public static final String TOTP_AUTHORITY = "FACTOR_TOTP";

  static final String PENDING = SecondFactorLogin.class.getName() + ".pending";
  private static final Duration PENDING_LIFETIME = Duration.ofMinutes(5);
  private static final int MAX_FAILURES = 5;

  /** Who passed the password step, and when. */
  record Pending(String username, Instant at) implements Serializable {}

  /** The result of a second-step attempt. */
  public enum Result {
    SIGNED_IN,
    WRONG_CODE,
    THROTTLED,
    NO_PENDING_SIGN_IN
  }

  private final SecondFactors factors;
  private final Accounts accounts;
  private final LoginThrottle throttle;
  private final AuditLog audit;
  private final Clock clock;
  private final SecurityContextRepository contexts = new HttpSessionSecurityContextRepository();
  private final AuthenticationSuccessHandler next =
      new SavedRequestAwareAuthenticationSuccessHandler();

  private final SignIns signIns;
  private final DeviceCookies devices;

  /**
   * @param devices the device cookies a browser gets once its sign-in is complete (password, and
   *     code if the account has a second factor); null for none
   */
  public SecondFactorLogin(
      SecondFactors factors,
      Accounts accounts,
      LoginThrottle throttle,
      AuditLog audit,
      SignIns signIns,
      DeviceCookies devices,
      Clock clock) {
    this.signIns = signIns;
    this.devices = devices;
    this.factors = factors;
    this.accounts = accounts;
    this.throttle = throttle;
    this.audit = audit;
    this.clock = clock;
  }

  @Override
  public void onAuthenticationSuccess(
      HttpServletRequest request, HttpServletResponse response, Authentication authentication)
      throws IOException, jakarta.servlet.ServletException {
    if (!factors.hasTotp(authentication.getName())) {
      if (devices != null) {
        devices.issueTo(request, response, authentication.getName());
      }
      next.onAuthenticationSuccess(request, response, authentication);
      return;
    }
    // Undo the sign-in the form login just saved: only the first factor is done. No device cookie
    // either: a browser that knows only the password would be exempt from the account's block.
    SecurityContextHolder.clearContext();
    contexts.saveContext(SecurityContextHolder.createEmptyContext(), request, response);
    request
        .getSession()
        .setAttribute(PENDING, new Pending(authentication.getName(), clock.instant()));
    response.sendRedirect("/login/otp");
  }

  /** The username waiting for its second step in this session, if any (and not expired). */
  public Optional<String> pending(HttpServletRequest request) {
    HttpSession session = request.getSession(false);
    if (session == null || !(session.getAttribute(PENDING) instanceof Pending p)) {
      return Optional.empty();
    }
    if (p.at().plus(PENDING_LIFETIME).isBefore(clock.instant())) {
      session.removeAttribute(PENDING);
      return Optional.empty();
    }
    return Optional.of(p.username());
  }

  /** When the account's second step is blocked until, if it is. */
  public Optional<Instant> blockedUntil(String username) {
    return throttle.blockedUntil("otp:" + username, clock.instant());
  }

  /**
   * Checks a TOTP or recovery code for the session's pending sign-in and, when right, signs the
   * session in and answers with the redirect to where the sign-in started.
   */
  public Result complete(HttpServletRequest request, HttpServletResponse response, String code)
      throws IOException, jakarta.servlet.ServletException {
    Optional<String> who = pending(request);
    if (who.isEmpty()) {
      return Result.NO_PENDING_SIGN_IN;
    }
    String username = who.get();
    String key = "otp:" + username;
    Instant now = clock.instant();
    if (throttle.blockedUntil(key, now).isPresent()) {
      record(EventType.LOGIN_FAILED, username, "throttled", request);
      return Result.THROTTLED;
    }
    boolean recovery = code != null && code.contains("-");
    boolean ok =
        recovery
            ? factors.useRecoveryCode(username, code)
            : factors.verifyTotp(username, code == null ? "" : code.strip());
    if (!ok) {
      throttle.failed(key, MAX_FAILURES, now);
      record(EventType.LOGIN_FAILED, username, "bad_code", request);
      return throttle.blockedUntil(key, now).isPresent() ? Result.THROTTLED : Result.WRONG_CODE;
    }
    throttle.clear(key);
    UserDetails user = accounts.loadUserByUsername(username);
    if (!user.isEnabled()) {
      // Disabled by an operator after the password step: the sign-in goes no further.
      request.getSession().removeAttribute(PENDING);
      record(EventType.LOGIN_FAILED, username, "disabled", request);
      return Result.NO_PENDING_SIGN_IN;
    }
    List<GrantedAuthority> authorities = new ArrayList<>(user.getAuthorities());
    authorities.add(
        FactorGrantedAuthority.withAuthority(FactorGrantedAuthority.PASSWORD_AUTHORITY)
            .issuedAt(now)
            .build());
    authorities.add(FactorGrantedAuthority.withAuthority(TOTP_AUTHORITY).issuedAt(now).build());
    UsernamePasswordAuthenticationToken signedIn =
        UsernamePasswordAuthenticationToken.authenticated(user, null, authorities);
    signedIn.setDetails(new WebAuthenticationDetails(request));
    request.getSession().removeAttribute(PENDING);
    request.changeSessionId();
    SecurityContext context = SecurityContextHolder.createEmptyContext();
    context.setAuthentication(signedIn);
    SecurityContextHolder.setContext(context);
    contexts.saveContext(context, request, response);
    record(EventType.LOGIN_SUCCEEDED, username, recovery ? "ok_recovery_code" : "ok", request);
    if (devices != null) {
      devices.issueTo(request, response, username);
    }
    SavedRequest saved = new HttpSessionRequestCache().getRequest(request, response);
    response.sendRedirect(saved == null ? "/account/totp" : saved.getRedirectUrl());
    return Result.SIGNED_IN;
  }

  private void record(EventType type, String username, String result, HttpServletRequest request) {
    Map<String, String> attributes = new LinkedHashMap<>();
    attributes.put("method", "otp");
    attributes.put("result", result);
    if (request.getRemoteAddr() != null) {
      attributes.put("source", request.getRemoteAddr());
    }
    audit.append(AuditEvent.of(type, username, username, attributes));
    signIns.record(username, "otp", result, attributes.get("source"));
  }
}
