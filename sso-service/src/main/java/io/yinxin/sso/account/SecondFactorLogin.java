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

  /** The account that signed in with its password and must set up a second factor first. */
  static final String MUST_ENROL = SecondFactorLogin.class.getName() + ".mustEnrol";

  /**
   * Set (to {@code Boolean.TRUE}) by a portal's request for a second factor ({@code acr_values}
   * {@code urn:yinxin:loa:2}, see {@code FreshSignIn}): the next password sign-in in this session
   * must reach that level, by its code or, for an account without an app, by setting one up.
   */
  public static final String STEP_UP = SecondFactorLogin.class.getName() + ".stepUp";

  /**
   * Which accounts must have a second factor ({@code yinxin.sso.second-factor-required}): none, the
   * administrators of this provider, or everyone. One that signs in with its password and has none
   * is sent to set up an authenticator app before it may do anything else.
   */
  public enum Policy {
    NONE,
    ADMINISTRATORS,
    EVERYONE;

    /** {@code none}, {@code administrators} or {@code everyone}. */
    public static Policy parse(String value) {
      return switch (value == null ? "" : value.strip().toLowerCase(java.util.Locale.ROOT)) {
        case "none" -> NONE;
        case "administrators" -> ADMINISTRATORS;
        case "everyone" -> EVERYONE;
        default ->
            throw new IllegalArgumentException(
                "yinxin.sso.second-factor-required: none, administrators or everyone");
      };
    }

    /** Whether it asks a second factor of whoever {@code a} signed in. */
    public boolean applies(Authentication a) {
      return switch (this) {
        case NONE -> false;
        case EVERYONE -> true;
        case ADMINISTRATORS ->
            a.getAuthorities().stream()
                .anyMatch(g -> Accounts.ADMINISTRATOR.equals(g.getAuthority()));
      };
    }
  }

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
  private final Policy policy;

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
      Policy policy,
      Clock clock) {
    this.signIns = signIns;
    this.devices = devices;
    this.policy = policy;
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
    HttpSession session = request.getSession();
    session.removeAttribute(MUST_ENROL); // whoever signed in before in this session
    // A portal asked for two factors (step-up): this sign-in is the one that must reach them.
    boolean stepUp = session.getAttribute(STEP_UP) != null;
    session.removeAttribute(STEP_UP);
    boolean totp = factors.hasTotp(authentication.getName());
    if (!totp && (stepUp || policy.applies(authentication))) {
      // Signed in with the password, but that alone is not enough here: an authenticator app
      // first (enrolmentFilter lets nothing else through), then where the sign-in was going.
      request.getSession().setAttribute(MUST_ENROL, authentication.getName());
      response.sendRedirect("/account/totp");
      return;
    }
    if (!totp) {
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

  /** Whether this session's sign-in must set up a second factor before anything else. */
  public boolean mustEnrol(HttpServletRequest request) {
    HttpSession session = request.getSession(false);
    Authentication who = SecurityContextHolder.getContext().getAuthentication();
    return session != null
        && who != null
        && session.getAttribute(MUST_ENROL) instanceof String name
        && name.equals(who.getName())
        // Signed in since by a stronger way (a passkey, a certificate, an upstream): not asked.
        && who.getAuthorities().stream()
            .noneMatch(
                g ->
                    g instanceof FactorGrantedAuthority f
                        && !FactorGrantedAuthority.PASSWORD_AUTHORITY.equals(f.getAuthority()));
  }

  /**
   * After a successful enrolment: a sign-in that had to set up its second factor is complete now —
   * the code just confirmed is its second factor (a new session id, the factor in the ID token's
   * {@code amr}, a device cookie) — and the browser may go where the sign-in was going.
   *
   * @return where that is (the saved request), or empty when the enrolment was no part of a sign-in
   */
  public Optional<String> enrolled(HttpServletRequest request, HttpServletResponse response) {
    if (!mustEnrol(request)) {
      return Optional.empty();
    }
    Authentication who = SecurityContextHolder.getContext().getAuthentication();
    request.getSession().removeAttribute(MUST_ENROL);
    List<GrantedAuthority> authorities = new ArrayList<>(who.getAuthorities());
    authorities.add(
        FactorGrantedAuthority.withAuthority(TOTP_AUTHORITY).issuedAt(clock.instant()).build());
    UsernamePasswordAuthenticationToken signedIn =
        UsernamePasswordAuthenticationToken.authenticated(who.getPrincipal(), null, authorities);
    signedIn.setDetails(new WebAuthenticationDetails(request));
    request.changeSessionId();
    SecurityContext context = SecurityContextHolder.createEmptyContext();
    context.setAuthentication(signedIn);
    SecurityContextHolder.setContext(context);
    contexts.saveContext(context, request, response);
    if (devices != null) {
      devices.issueTo(request, response, who.getName());
    }
    SavedRequest saved = new HttpSessionRequestCache().getRequest(request, response);
    return Optional.of(saved == null ? "/account" : saved.getRedirectUrl());
  }

  /**
   * While a sign-in must set up its second factor, the session reaches the enrolment page, signing
   * in anew (with a password or a passkey) and signing out, nothing else: a portal's authorization
   * request, CAS, the account page are sent (a page saved for afterwards) to the enrolment page;
   * anything else is 403.
   */
  public org.springframework.web.filter.OncePerRequestFilter enrolmentFilter() {
    return new org.springframework.web.filter.OncePerRequestFilter() {
      @Override
      protected void doFilterInternal(
          HttpServletRequest request,
          HttpServletResponse response,
          jakarta.servlet.FilterChain chain)
          throws jakarta.servlet.ServletException, IOException {
        String path = request.getRequestURI();
        if (!mustEnrol(request)
            || path.equals("/account/totp")
            || path.equals("/login")
            || path.equals("/login/webauthn") // a passkey sign-in instead, from the sign-in page
            || path.equals("/login/webauthn.js")
            || path.equals("/webauthn/authenticate/options")
            || path.equals("/logout")
            || path.equals("/connect/logout")) {
          chain.doFilter(request, response);
          return;
        }
        response.setHeader("Cache-Control", "no-store");
        if ("GET".equals(request.getMethod())) {
          new HttpSessionRequestCache().saveRequest(request, response);
          response.sendRedirect("/account/totp");
        } else {
          response.sendError(HttpServletResponse.SC_FORBIDDEN);
        }
      }
    };
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
