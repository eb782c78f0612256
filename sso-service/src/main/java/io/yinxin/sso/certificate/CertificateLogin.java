package io.yinxin.sso.certificate;

import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.AuditLog;
import io.yinxin.audit.EventType;
import io.yinxin.sso.account.Accounts;
import io.yinxin.sso.account.LoginAudit;
import io.yinxin.sso.account.SignIns;
import io.yinxin.sso.web.Pages;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.core.authority.FactorGrantedAuthority;
import org.springframework.security.core.context.SecurityContext;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.core.userdetails.UserDetails;
import org.springframework.security.web.authentication.WebAuthenticationDetails;
import org.springframework.security.web.context.HttpSessionSecurityContextRepository;
import org.springframework.security.web.savedrequest.HttpSessionRequestCache;
import org.springframework.security.web.savedrequest.SavedRequest;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * Sign-in with a citizen certificate, {@code /login/certificate} on the mutual-TLS port: the
 * certificate the browser (or curl) presented in the TLS handshake is checked by {@link
 * CitizenCertificates}; when it is good, the session is signed in as the account its ID number
 * belongs to (a new session id, {@code amr} {@code x509}) and goes on to where the sign-in started.
 * Every attempt is a {@code LOGIN_SUCCEEDED} / {@code LOGIN_FAILED} audit event with method {@code
 * x509}, the reason, and the certificate's issuer and serial (never the ID number); attempts anyone
 * can make without end (no certificate, or one the citizen CA did not issue) are counted and
 * recorded once a minute by {@link LoginAudit#countFailure}.
 */
@RestController
public class CertificateLogin {
  /** The session's factor after a certificate sign-in. */
  public static final String X509_AUTHORITY = "FACTOR_X509";

  private static final String ATTRIBUTE = "jakarta.servlet.request.X509Certificate";

  private final CitizenCertificates certificates;
  private final Accounts accounts;
  private final SignIns signIns;
  private final AuditLog audit;
  private final LoginAudit failures;
  private final Clock clock;
  private final HttpSessionSecurityContextRepository contexts =
      new HttpSessionSecurityContextRepository();

  public CertificateLogin(
      CitizenCertificates certificates,
      Accounts accounts,
      SignIns signIns,
      AuditLog audit,
      LoginAudit failures,
      Clock clock) {
    this.certificates = certificates;
    this.accounts = accounts;
    this.signIns = signIns;
    this.audit = audit;
    this.failures = failures;
    this.clock = clock;
  }

  @GetMapping(path = "/login/certificate", produces = MediaType.TEXT_HTML_VALUE)
  public ResponseEntity<String> signIn(
      HttpServletRequest request,
      HttpServletResponse response,
      @RequestParam(value = "lang", required = false) String lang) {
    boolean zh = Pages.chinese(lang, request);
    X509Certificate[] chain =
        request.isSecure() && request.getAttribute(ATTRIBUTE) instanceof X509Certificate[] c
            ? c
            : null;
    CitizenCertificates.Outcome outcome = certificates.check(chain);
    if (outcome instanceof CitizenCertificates.SignedIn s) {
      UserDetails user = accounts.loadUserByUsername(s.username());
      if (user.isEnabled()) {
        List<GrantedAuthority> authorities = new ArrayList<>(user.getAuthorities());
        authorities.add(
            FactorGrantedAuthority.withAuthority(X509_AUTHORITY).issuedAt(clock.instant()).build());
        var signedIn = UsernamePasswordAuthenticationToken.authenticated(user, null, authorities);
        signedIn.setDetails(new WebAuthenticationDetails(request));
        if (request.getSession(false) != null) {
          request.changeSessionId(); // no session fixation
        }
        SecurityContext context = SecurityContextHolder.createEmptyContext();
        context.setAuthentication(signedIn);
        SecurityContextHolder.setContext(context);
        contexts.saveContext(context, request, response);
        record(EventType.LOGIN_SUCCEEDED, user.getUsername(), "ok", s.certificate(), request);
        SavedRequest saved = new HttpSessionRequestCache().getRequest(request, response);
        return ResponseEntity.status(HttpStatus.FOUND)
            .header("Location", saved == null ? "/account" : saved.getRedirectUrl())
            .header("Cache-Control", "no-store")
            .build();
      }
      outcome = new CitizenCertificates.Refused("disabled");
    }
    String reason = ((CitizenCertificates.Refused) outcome).reason();
    if (reason.equals("no_certificate") || reason.equals("untrusted")) {
      failures.countFailure("x509", reason, request.getRemoteAddr());
    } else {
      record(
          EventType.LOGIN_FAILED,
          "(certificate)",
          reason,
          chain == null || chain.length == 0 ? null : chain[0],
          request);
    }
    ResponseEntity<String> page =
        Pages.page(
            zh,
            "/login/certificate",
            zh ? "证书登录失败" : "Certificate sign-in failed",
            explain(reason, zh),
            "<p><a href=\"/login\">" + (zh ? "改用密码登录" : "Sign in with a password") + "</a></p>\n");
    return ResponseEntity.status(HttpStatus.FORBIDDEN)
        .headers(page.getHeaders())
        .body(page.getBody());
  }

  static String explain(String reason, boolean zh) {
    return switch (reason) {
      case "no_certificate" ->
          zh
              ? "浏览器没有出示证书。请插入证书介质或选择证书后重试。"
              : "No certificate was presented. Insert your certificate or choose one, then try again.";
      case "expired" -> zh ? "证书已过期或尚未生效。" : "The certificate has expired or is not valid yet.";
      case "revoked" -> zh ? "证书已被吊销。" : "The certificate has been revoked.";
      case "untrusted" ->
          zh ? "证书不是由受信任的公民证书机构签发的。" : "The certificate was not issued by a trusted citizen CA.";
      case "not_for_login" -> zh ? "该证书不能用于登录。" : "This certificate cannot be used to sign in.";
      case "status_unknown", "status_unavailable" ->
          zh
              ? "暂时无法确认证书状态，请稍后再试。"
              : "The certificate's status cannot be confirmed now. Try again later.";
      case "no_id_number", "no_account" ->
          zh ? "没有与此证书对应的实名账户。" : "No verified account belongs to this certificate.";
      default -> zh ? "无法用此证书登录。" : "This certificate cannot sign you in.";
    };
  }

  private void record(
      EventType type,
      String username,
      String result,
      X509Certificate cert,
      HttpServletRequest request) {
    Map<String, String> attributes = new LinkedHashMap<>();
    attributes.put("method", "x509");
    attributes.put("result", result);
    if (cert != null) {
      // The issuer's name and the serial name the certificate; the subject would name the person.
      attributes.put("certificateIssuer", cert.getIssuerX500Principal().getName());
      attributes.put("certificateSerial", cert.getSerialNumber().toString(16));
    }
    if (request.getRemoteAddr() != null) {
      attributes.put("source", request.getRemoteAddr());
    }
    audit.append(AuditEvent.of(type, username, username, attributes));
    signIns.record(username, "x509", result, request.getRemoteAddr());
  }
}
