package io.yinxin.sso.account;

import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.AuditLog;
import io.yinxin.audit.EventType;
import java.util.LinkedHashMap;
import java.util.Map;
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
 */
public final class LoginAudit {
  private final AuditLog audit;
  private final SignIns signIns;

  public LoginAudit(AuditLog audit, SignIns signIns) {
    this.audit = audit;
    this.signIns = signIns;
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
      record(EventType.LOGIN_FAILED, a, reason(event.getException()));
    } else if (a
        instanceof
        org.springframework.security.oauth2.client.authentication.OAuth2LoginAuthenticationToken
            t) {
      Map<String, String> attributes = new LinkedHashMap<>();
      attributes.put("method", "fed");
      attributes.put(
          "result",
          event.getException()
                  instanceof
                  org.springframework.security.oauth2.core.OAuth2AuthenticationException o
              ? o.getError().getErrorCode()
              : "error");
      attributes.put("upstream", t.getClientRegistration().getRegistrationId());
      audit.append(AuditEvent.of(EventType.LOGIN_FAILED, "(upstream)", "(upstream)", attributes));
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
    Map<String, String> attributes = new LinkedHashMap<>();
    attributes.put("method", "hwk");
    attributes.put("result", "bad_credentials");
    if (source != null) {
      attributes.put("source", source);
    }
    audit.append(AuditEvent.of(EventType.LOGIN_FAILED, "(passkey)", "(passkey)", attributes));
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
    if (a.getDetails() instanceof WebAuthenticationDetails d && d.getRemoteAddress() != null) {
      attributes.put("source", d.getRemoteAddress());
    }
    audit.append(AuditEvent.of(type, user, user, attributes));
    signIns.record(user, "pwd", reason, attributes.get("source"));
  }
}
