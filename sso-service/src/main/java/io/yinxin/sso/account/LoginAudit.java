package io.yinxin.sso.account;

import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.AuditLog;
import io.yinxin.audit.EventType;
import io.yinxin.audit.KeyUseTally;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.springframework.context.event.EventListener;
import org.springframework.security.authentication.BadCredentialsException;
import org.springframework.security.authentication.DisabledException;
import org.springframework.security.authentication.LockedException;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.authentication.event.AbstractAuthenticationFailureEvent;
import org.springframework.security.authentication.event.AuthenticationSuccessEvent;
import org.springframework.security.core.Authentication;
import org.springframework.security.web.authentication.WebAuthenticationDetails;

/**
 * Every sign-in of a person is an audit event: {@code LOGIN_SUCCEEDED} or {@code LOGIN_FAILED} with
 * a reason code, the method ({@code pwd}) and the source address. Never the password; a username
 * that is not a valid one is recorded as {@code (invalid)}, so an attacker cannot write arbitrary
 * text into the evidence. Client authentication at the token endpoint is not a sign-in (its tokens
 * are {@code TOKEN_ISSUED} events).
 *
 * <p>Failures anyone can cause without end are counted, not recorded one by one: attempts refused
 * because the account or the address is blocked ({@code throttled}), failed passkey sign-ins and
 * failed upstream sign-ins. Each minute ({@link #recordTally}) one {@code LOGIN_FAILED} event per
 * method, result and source (or upstream) states how many there were and in which period. One event
 * per attempt let anyone grow the evidence log, which is never pruned, at the rate they could send
 * requests. What the throttle lets through (at most twenty failures per address and five per
 * account in 15 minutes) is still recorded one by one, username included.
 */
public final class LoginAudit implements AutoCloseable {
  /** Most sources counted apart in one period; beyond them, failures are counted together. */
  static final int MAX_SOURCES = 10_000;

  /** What failures are counted per. */
  record Failure(String method, String result, String source, String upstream) {}

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(LoginAudit.class);

  private final AuditLog audit;
  private final SignIns signIns;
  private final KeyUseTally<Failure> tally;

  public LoginAudit(AuditLog audit, SignIns signIns) {
    this(audit, signIns, Clock.systemUTC());
  }

  public LoginAudit(AuditLog audit, SignIns signIns, Clock clock) {
    this.audit = audit;
    this.signIns = signIns;
    this.tally = new KeyUseTally<>(clock);
  }

  /**
   * Counts a failure anyone can cause without end (by {@code method}, with {@code result}, from
   * {@code source}); it is recorded with the next tally.
   */
  public void countFailure(String method, String result, String source) {
    count(method, result, source, null);
  }

  /** Counts a failure that is recorded with the next tally. */
  private void count(String method, String result, String source, String upstream) {
    io.yinxin.sso.SsoMetrics.login(method, result);
    String s =
        source == null ? null : LoginThrottle.sourceKey(source).substring("source:".length());
    if (tally.size() >= MAX_SOURCES) {
      s = s == null ? null : "(many)";
    }
    tally.count(new Failure(method, result, s, upstream));
  }

  /**
   * Records the failures counted since the last call, one {@code LOGIN_FAILED} event per method,
   * result and source (attributes {@code count}, {@code from}, {@code to}); call about once a
   * minute and at shutdown. A tally the log refuses is kept and recorded with the next.
   *
   * @return how many events were appended
   */
  public int recordTally() {
    return tally.record(
        audit,
        (f, w) -> {
          Map<String, String> attributes = new LinkedHashMap<>();
          attributes.put("method", f.method());
          attributes.put("result", f.result());
          if (f.source() != null) {
            attributes.put("source", f.source());
          }
          if (f.upstream() != null) {
            attributes.put("upstream", f.upstream());
          }
          attributes.put("count", Long.toString(w.count()));
          attributes.put("from", w.from().toString());
          attributes.put("to", w.to().toString());
          return new AuditEvent(
              EventType.LOGIN_FAILED,
              "sso-service",
              "(counted)",
              w.to(),
              attributes,
              Optional.empty());
        },
        (f, e) ->
            log.warn(
                "event=sso_login_failures_not_recorded reason={}", e.getClass().getSimpleName()));
  }

  /** Records what is left of the tally. */
  @Override
  public void close() {
    recordTally();
  }

  @EventListener
  public void succeeded(AuthenticationSuccessEvent event) {
    Authentication a = event.getAuthentication();
    if (a instanceof UsernamePasswordAuthenticationToken) {
      record(EventType.LOGIN_SUCCEEDED, a, "ok");
    } else if (a
            instanceof
            org.springframework.security.oauth2.client.authentication.OAuth2LoginAuthenticationToken
                t
        && t.getPrincipal() instanceof io.yinxin.sso.federation.FederatedUser f) {
      Map<String, String> attributes = new LinkedHashMap<>();
      attributes.put("method", "fed");
      attributes.put("result", "ok");
      attributes.put("upstream", f.upstream());
      audit.append(AuditEvent.of(EventType.LOGIN_SUCCEEDED, f.getName(), f.getName(), attributes));
      signIns.record(f.getName(), "fed", "ok", null);
    }
  }

  @EventListener
  public void failed(AbstractAuthenticationFailureEvent event) {
    Authentication a = event.getAuthentication();
    if (a instanceof UsernamePasswordAuthenticationToken) {
      String reason = reason(event.getException());
      if (reason.equals("throttled")) {
        count("pwd", reason, source(a), null);
      } else {
        record(EventType.LOGIN_FAILED, a, reason);
      }
    } else if (a
        instanceof
        org.springframework.security.oauth2.client.authentication.OAuth2LoginAuthenticationToken
            t) {
      String result =
          event.getException()
                  instanceof
                  org.springframework.security.oauth2.core.OAuth2AuthenticationException o
              ? o.getError().getErrorCode()
              : "error";
      count("fed", result, null, t.getClientRegistration().getRegistrationId());
    }
  }

  /** A passkey sign-in (WebAuthn) succeeded: Spring announces it as an interactive sign-in. */
  @EventListener
  public void passkey(
      org.springframework.security.authentication.event.InteractiveAuthenticationSuccessEvent
          event) {
    Authentication a = event.getAuthentication();
    if (a
        instanceof
        org.springframework.security.web.webauthn.authentication.WebAuthnAuthentication) {
      String user = Accounts.canonical(a.getName()).orElse("(invalid)");
      Map<String, String> attributes = new LinkedHashMap<>();
      attributes.put("method", "hwk");
      attributes.put("result", "ok");
      audit.append(AuditEvent.of(EventType.LOGIN_SUCCEEDED, user, user, attributes));
      signIns.record(user, "passkey", "ok", null);
    }
  }

  /** A passkey sign-in failed (no account is known then). */
  public void passkeyFailed(String source) {
    count("hwk", "bad_credentials", source, null);
  }

  private static String source(Authentication a) {
    return a.getDetails() instanceof WebAuthenticationDetails d ? d.getRemoteAddress() : null;
  }

  static String reason(Exception e) {
    if (e instanceof BadCredentialsException) {
      return "bad_credentials";
    }
    if (e instanceof DisabledException) {
      return "disabled";
    }
    if (e instanceof LockedException) {
      return "locked";
    }
    if (e instanceof LoginThrottle.ThrottledException) {
      return "throttled";
    }
    if (e instanceof org.springframework.security.authentication.CredentialsExpiredException) {
      return "password_must_change";
    }
    return "error";
  }

  private void record(EventType type, Authentication a, String reason) {
    String user = Accounts.canonical(a.getName()).orElse("(invalid)");
    Map<String, String> attributes = new LinkedHashMap<>();
    attributes.put("method", "pwd");
    attributes.put("result", reason);
    String source = source(a);
    if (source != null) {
      attributes.put("source", source);
    }
    audit.append(AuditEvent.of(type, user, user, attributes));
    signIns.record(user, "pwd", reason, attributes.get("source"));
  }
}
